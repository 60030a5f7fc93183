"""Benchmark: the closing-plan generator (`plan DEAL_ID`) at scale, beside a plain pandas
implementation.

    python bench/plan.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (shared with bench/velocity.py) unless --workdir holds one
     of that size, and export the inputs to parquet
  2. ours: 20 open deals' plans in process: the first one (cold: fresh process, fresh
     connection) and the median of the rest (warm), each on its own connection; the same with
     the per-stage figures computed live instead of read from stage_stats; the cost of
     rebuilding stage_stats inside a write; and the CLI end to end with its start-up apart
  3. pandas: the first 5 of those plans from the same rows (visits by sort and shift, per-segment
     quantiles), the figures computed per plan as nothing is materialised
The realistic close dates are compared; the figures are printed as one table.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, child, parser, peak_rss_mb, print_table, record, report_target, run_role

sys.path.insert(0, str(ROOT))

SAMPLE = 20


def role_generate(workdir: Path, deals: int) -> dict:
    from velocity import role_generate as generate

    out = generate(workdir, deals)
    from kam_analytics import db

    with db.read(workdir / "velocity.duckdb") as con:
        con.execute(f"copy (select deal_id, segment, created_date, stage from deals) to "
                    f"'{workdir / 'p_deals.parquet'}' (format parquet)")
    return out


def _sample(con) -> list[str]:
    """20 open deals spread over the table (every k-th open deal by ID)."""
    ids = [r[0] for r in con.execute(
        "select deal_id from (select deal_id, row_number() over (order by deal_id) as n, count(*) over () as c "
        "from deals where status = 'open') where n % (c // $k) = 0 order by deal_id limit $k", {"k": SAMPLE}).fetchall()]
    return ids


def role_ours(workdir: Path) -> dict:
    from kam_analytics import closing_plan, db, derived

    path = workdir / "velocity.duckdb"
    times, plans = [], {}
    with db.read(path) as con:
        ids = _sample(con)
    for deal_id in ids:
        t = time.perf_counter()
        with db.read(path) as con:
            df = closing_plan.generate(con, deal_id)
        times.append(time.perf_counter() - t)
        plans[deal_id] = {"close": str(df.attrs["realistic_close_date"]), "basis": df.attrs["basis"],
                          "steps": len(df)}
    as_of = str(df.attrs["as_of"])
    # the same plans with the per-stage figures computed live (what stage_stats saves)
    live = []
    real_key = derived.stats_key
    derived.stats_key = lambda *a: "live"           # never matches the stored key
    try:
        for deal_id in ids[:3]:
            t = time.perf_counter()
            with db.read(path) as con:
                closing_plan.generate(con, deal_id)
            live.append(time.perf_counter() - t)
    finally:
        derived.stats_key = real_key
    # the cost at every write: rebuilding stage_stats (rolled back)
    with db.write(path) as con:
        con.begin()
        t = time.perf_counter()
        db.set_meta(con, "stage_stats_key", "")
        derived.rebuild_stats(con, {"deals"})
        rebuild = time.perf_counter() - t
        con.rollback()
    # the CLI, end to end, and its start-up apart (`--help` loads no data)
    cli = []
    for deal_id in ids[:3]:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(path), "plan", deal_id, "--format", "json"],
                       check=True, capture_output=True, cwd=ROOT)
        cli.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kam_analytics", "--help"], check=True, capture_output=True, cwd=ROOT)
    startup = time.perf_counter() - t
    return {"cold_s": times[0], "warm_s": statistics.median(times[1:]), "max_warm_s": max(times[1:]),
            "live_s": statistics.median(live), "rebuild_s": rebuild, "cli_s": statistics.median(cli),
            "cli_startup_s": startup, "plans": plans, "as_of": as_of, "peak_rss_mb": peak_rss_mb()}


def role_pandas(workdir: Path, as_of: str, deals_json: str) -> dict:
    """The generator in plain pandas: visits from the raw history, each deal's comparable
    figures (same segment when every needed stage has >= 20 completed visits, else all deals),
    the remaining time of the current stage and the cumulative medians."""
    import pandas as pd

    wanted = json.loads(deals_json)
    t = time.perf_counter()
    h = pd.read_parquet(workdir / "v_history.parquet")
    d = pd.read_parquet(workdir / "p_deals.parquet")
    read_s = time.perf_counter() - t
    as_of_ts = pd.Timestamp(as_of)
    stages = json.loads(open(workdir / "p_stages.json").read())
    open_, won = stages["open"], stages["won"]

    times, plans = [], {}
    for deal_id in wanted:
        t = time.perf_counter()
        x = h[h["changed_at"] < as_of_ts].sort_values(["deal_id", "changed_at", "seq"])
        x = x.drop_duplicates(["deal_id", "changed_at"], keep="last").dropna(subset=["stage"])
        starts = x["deal_id"].ne(x["deal_id"].shift()) | x["stage"].ne(x["stage"].shift())
        v = x[starts].copy()
        v["ended_at"] = v["changed_at"].shift(-1).where(v["deal_id"].eq(v["deal_id"].shift(-1)))
        current = v[v["ended_at"].isna()].set_index("deal_id")
        won_ids = set(current.index[current["stage"].isin(won)])
        done = v[v["ended_at"].notna() & v["stage"].isin(open_)]
        done = done.assign(days=(done["ended_at"] - done["changed_at"]).dt.total_seconds() / 86400.0)
        per = done.groupby(["deal_id", "stage"], as_index=False).agg(days=("days", "sum"), visits=("days", "size"))
        per = per.merge(d[["deal_id", "segment"]], on="deal_id")
        per["won"] = per["deal_id"].isin(won_ids)
        seg = d.set_index("deal_id")["segment"]
        me = current.loc[deal_id]
        age = (as_of_ts - me["changed_at"]).total_seconds() / 86400.0
        later = open_[open_.index(me["stage"]) + 1:]

        def figures(rows, n_won):
            g = rows.groupby("stage")
            return {"median": g["days"].median(), "visits": g["visits"].sum(),
                    "share": rows[rows["won"]].groupby("stage").size() / n_won if n_won else pd.Series(dtype=float)}

        def needed(f):
            return [me["stage"]] + [s for s in later if f["share"].get(s, 0) >= 0.5]

        mine = per[per["segment"] == seg[deal_id]]
        f = figures(mine, sum(1 for w in won_ids if seg.get(w) == seg[deal_id]))
        basis = f"segment {seg[deal_id]}"
        if any(f["visits"].get(s, 0) < 20 for s in needed(f)):
            f, basis = figures(per, len(won_ids)), "all deals"
        cum = 0.0
        for i, s in enumerate(needed(f)):
            m = f["median"].get(s, 0.0)
            cum += max(0.0, m - age) if i == 0 else m
        close = (as_of_ts + pd.Timedelta(days=cum)).date()
        times.append(time.perf_counter() - t)
        plans[deal_id] = {"close": str(close), "basis": basis}
    return {"read_s": read_s, "plan_s": statistics.median(times), "plans": plans, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    ap = parser(__doc__, ("generate", "ours", "pandas"))
    ap.add_argument("--deal-ids")
    a = ap.parse_args()
    if run_role(a, {"generate": lambda: role_generate(a.workdir, a.deals), "ours": lambda: role_ours(a.workdir),
                    "pandas": lambda: role_pandas(a.workdir, a.as_of, a.deal_ids)}):
        return
    print(f"closing-plan benchmark, {a.deals:,} deals, {SAMPLE} open deals' plans (each side in its own process)")
    child(__file__, "generate", a.workdir, "--deals", str(a.deals))
    from kam_analytics import db, stage_list

    with db.read(a.workdir / "velocity.duckdb") as con:
        cfg = stage_list.stage_config(con)
    (a.workdir / "p_stages.json").write_text(json.dumps({"open": list(cfg.open), "won": list(cfg.won)}))
    ours = child(__file__, "ours", a.workdir)
    pdx = child(__file__, "pandas", a.workdir, "--as-of", ours["as_of"], "--deal-ids", json.dumps(list(ours["plans"])[:5]))
    agree = all(ours["plans"][k]["close"] == p["close"] and ours["plans"][k]["basis"] == p["basis"]
                for k, p in pdx["plans"].items())
    rows = [("figure", "ours", "pandas", "ratio", "target")]
    rows.append(("plan warm, in process (s, median)", f"{ours['warm_s']:.3f}", f"{pdx['plan_s']:.2f}",
                 f"{pdx['plan_s'] / ours['warm_s']:.0f}x", "< 0.2 s"))
    rows.append(("plan cold: first in a fresh process (s)", f"{ours['cold_s']:.3f}", "", "", ""))
    rows.append(("plan warm, slowest of the sample (s)", f"{ours['max_warm_s']:.3f}", "", "", ""))
    rows.append(("plan with figures computed live (s)", f"{ours['live_s']:.2f}", "", "", "(decision)"))
    rows.append(("stage_stats rebuilt in each write (s)", f"{ours['rebuild_s']:.2f}", "", "", "(cost)"))
    rows.append(("CLI `plan` end to end (s)", f"{ours['cli_s']:.2f}", "", "", ""))
    rows.append(("  of which CLI start-up (`--help`) (s)", f"{ours['cli_startup_s']:.2f}", "", "", ""))
    rows.append(("realistic close dates and bases agree", "yes" if agree else "NO", "", "", ""))
    rows.append(("pandas: reading its parquet input, apart (s)", "", f"{pdx['read_s']:.2f}", "", ""))
    rows.append(("peak RSS (MB)", f"{ours['peak_rss_mb']:,.0f}", f"{pdx['peak_rss_mb']:,.0f}", "", "< 1,500"))
    print_table(rows[0], rows[1:], left=(0, 4))
    report_target("plan, warm in process (median)", ours["warm_s"], pdx["plan_s"], 0.2, None)
    record("plan peak RSS", ours["peak_rss_mb"], pdx["peak_rss_mb"], "< 1,500 MB", ours["peak_rss_mb"] < 1500, "MB")


if __name__ == "__main__":
    main()
