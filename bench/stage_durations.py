"""Benchmark: stage-durations at scale, beside a plain pandas implementation.

    python bench/stage_durations.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (kam_analytics demo), export the inputs to parquet
  2. ours: stage-durations cold (fresh process, first query) and warm (repeated), and the
     same report with stage_visits as a view over the raw history (the materialisation
     decision)
  3. pandas: the same numbers from the same rows, idiomatic pandas (sort, shift, cumsum,
     groupby), after reading the parquet files (read time printed apart)
The two results are compared; the figures are printed as one table.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, child, cold_and_warm, parser, peak_rss_mb, print_table, record, report_target, run_role

sys.path.insert(0, str(ROOT))



def role_generate(workdir: Path, deals: int) -> dict:
    from kam_analytics import db, demo

    path = workdir / "bench.duckdb"
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    t = time.perf_counter()
    demo.load(path, deals=deals, seed=1)
    load_s = time.perf_counter() - t
    with db.read(path) as con:
        history_rows = con.execute("select count(*) from deal_history").fetchone()[0]
        con.execute(f"copy (select deal_id, changed_at, stage, seq from deal_history) to '{workdir / 'history.parquet'}' (format parquet)")
        con.execute(f"copy (select deal_id, created_date, stage from deals) to '{workdir / 'deals.parquet'}' (format parquet)")
    return {"generate_load_s": load_s, "history_rows": history_rows, "peak_rss_mb": peak_rss_mb()}


def role_ours(workdir: Path) -> dict:
    from kam_analytics import db, models
    from kam_analytics.reports.stage_durations import stage_durations

    path = workdir / "bench.duckdb"
    df, cold, warm = cold_and_warm(path, stage_durations)
    # The alternative: stage visits as a view over the raw history, computed per report.
    orig = models.sql("stage_time_per_deal")
    # (the visits' closed_at, which stage-durations does not read, is left empty)
    visits = models.query("stage_visits").replace("$closed_stages", "[]::varchar[]")
    inline = orig.replace("from stage_visits v", f"from ({visits}) v")
    models.sql.cache_clear()
    real_sql = models.sql
    models.sql = lambda name: inline if name == "stage_time_per_deal" else real_sql(name)  # type: ignore
    models._query.cache_clear()          # the queries put together before used the real file
    import kam_analytics.reports.stage_durations as sd

    sd.models = models
    t = time.perf_counter()
    with db.read(path) as con:
        df_view = stage_durations(con)
    as_view = time.perf_counter() - t
    models.sql = real_sql  # type: ignore
    models._query.cache_clear()
    same = df_view[["deals", "median_days"]].equals(df[["deals", "median_days"]])
    out = df[["stage", "deals", "mean_days", "median_days", "p75_days", "p90_days", "in_progress",
              "in_progress_median_age_days"]]
    return {"cold_s": cold, "warm_s": warm, "as_view_s": as_view, "view_matches": bool(same),
            "peak_rss_mb": peak_rss_mb(), "as_of": str(df.attrs["as_of"]), "result": out.to_dict("records")}


def role_pandas(workdir: Path, as_of: str, stages: list[str]) -> dict:
    import numpy as np
    import pandas as pd

    t = time.perf_counter()
    h = pd.read_parquet(workdir / "history.parquet")
    d = pd.read_parquet(workdir / "deals.parquet")
    read_s = time.perf_counter() - t

    t = time.perf_counter()
    as_of_ts = pd.Timestamp(as_of)
    # the last row per (deal, timestamp) is the state; consecutive same stages are one visit
    h = h.sort_values(["deal_id", "changed_at", "seq"])
    h = h.drop_duplicates(["deal_id", "changed_at"], keep="last")
    new_deal = h["deal_id"].ne(h["deal_id"].shift())
    starts = new_deal | h["stage"].ne(h["stage"].shift())
    h = h[starts].copy()
    nxt_same_deal = h["deal_id"].eq(h["deal_id"].shift(-1))
    h["ended_at"] = h["changed_at"].shift(-1).where(nxt_same_deal)
    # deals with no history: one open visit of the current stage from created_date
    nohist = d[~d["deal_id"].isin(h["deal_id"].unique()) & d["created_date"].notna()]
    v = pd.concat([h[["deal_id", "stage", "changed_at", "ended_at"]].rename(columns={"changed_at": "started_at"}),
                   pd.DataFrame({"deal_id": nohist["deal_id"], "stage": nohist["stage"],
                                 "started_at": pd.to_datetime(nohist["created_date"]), "ended_at": pd.NaT})])
    v = v[v["started_at"] < as_of_ts]
    v = v[v["stage"].isin(stages)]
    done = v[v["ended_at"].notna() & (v["ended_at"] < as_of_ts)]
    days = (done["ended_at"] - done["started_at"]).dt.total_seconds() / 86400.0
    per_deal = days.groupby([done["deal_id"], done["stage"]]).sum().rename("days").reset_index()
    g = per_deal.groupby("stage")["days"]
    stats = pd.DataFrame({"deals": g.size(), "mean_days": g.mean(), "median_days": g.median(),
                          "p75_days": g.quantile(0.75), "p90_days": g.quantile(0.9)})
    open_v = v[v["ended_at"].isna() | (v["ended_at"] >= as_of_ts)]
    age = (as_of_ts - open_v["started_at"]).dt.total_seconds() / 86400.0
    prog = age.groupby(open_v["stage"]).agg(["size", "median"]).rename(
        columns={"size": "in_progress", "median": "in_progress_median_age_days"})
    res = stats.join(prog, how="outer").reindex(stages).reset_index(names="stage")
    compute_s = time.perf_counter() - t
    res = res.replace({np.nan: None})
    return {"read_s": read_s, "compute_s": compute_s, "peak_rss_mb": peak_rss_mb(),
            "result": res.to_dict("records")}


def _process_seconds(argv: list[str], runs: int = 5) -> float:
    """The median wall time of `argv` as a whole process, after one run to warm the disk cache."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def _child(role: str, workdir: Path, *extra: str) -> dict:
    return child(__file__, role, workdir, *extra)


def main() -> None:
    a = parser(__doc__, ("generate", "ours", "pandas")).parse_args()
    if run_role(a, {"generate": lambda: role_generate(a.workdir, a.deals), "ours": lambda: role_ours(a.workdir),
                    "pandas": lambda: role_pandas(a.workdir, a.as_of, a.stages.split("|"))}):
        return

    print(f"stage-durations benchmark, {a.deals:,} deals (each side in its own process)")
    gen = _child("generate", a.workdir, "--deals", str(a.deals))
    ours = _child("ours", a.workdir)
    stages = [r["stage"] for r in ours["result"]]
    t = time.perf_counter()
    pdx = _child("pandas", a.workdir, "--as-of", ours["as_of"], "--stages", "|".join(stages))
    pandas_process = time.perf_counter() - t
    # the command line as a user runs it: whole processes, the median of 5 (after one to warm the disk)
    cli = [sys.executable, "-m", "kam_analytics"]
    runs = 5 if a.deals >= 100_000 else 1       # (the suite's small run only checks that it works)
    help_s = _process_seconds([*cli, "--help"], runs)
    import_pandas_s = _process_seconds([sys.executable, "-c", "import pandas"], runs)
    report_s = _process_seconds([*cli, "--db", str(a.workdir / "bench.duckdb"), "report", "stage-durations",
                                 "--format", "json"], runs)

    def close(x, y):
        return (x is None and y is None) or (x is not None and y is not None and abs(x - y) < 1e-6 * max(1, abs(y)))

    agree = all(close(float(o[k]) if o[k] is not None else None, float(p[k]) if p[k] is not None else None)
                for o, p in zip(ours["result"], pdx["result"]) for k in o if k != "stage")
    rows = [
        ("history rows", f"{gen['history_rows']:,}", "", "", ""),
        ("generate + load (s)", f"{gen['generate_load_s']:.1f}", "", "", "< 60"),
        ("generate + load peak RSS (MB)", f"{gen['peak_rss_mb']:,.0f}", "", "", ""),
        ("stage-durations cold (s)", f"{ours['cold_s']:.2f}", f"{pdx['compute_s']:.2f}",
         f"{pdx['compute_s'] / ours['cold_s']:.1f}x", "< 1 s, >= 5x"),
        ("stage-durations warm (s)", f"{ours['warm_s']:.2f}", f"{pdx['compute_s']:.2f}",
         f"{pdx['compute_s'] / ours['warm_s']:.1f}x", "< 1 s, >= 5x"),
        ("  same, stage_visits as a view (s)", f"{ours['as_view_s']:.2f}", "", "", "(decision)"),
        ("pandas: read parquet (s, apart)", "", f"{pdx['read_s']:.2f}", "", ""),
        ("peak RSS (MB)", f"{ours['peak_rss_mb']:,.0f}", f"{pdx['peak_rss_mb']:,.0f}", "", "< 1,500"),
        ("results agree", "yes" if agree and ours["view_matches"] else "NO", "", "", ""),
        ("`kam --help`, whole process (s; pandas: import pandas)", f"{help_s:.2f}", f"{import_pandas_s:.2f}",
         "", "< 0.3 s"),
        ("`kam report stage-durations`, whole process (s)", f"{report_s:.2f}", f"{pandas_process:.2f}",
         f"{pandas_process / report_s:.1f}x", "< 1 s"),
    ]
    print_table(("figure", "ours", "pandas", "ratio", "target"), rows)
    report_target("stage-durations, warm", ours["warm_s"], pdx["compute_s"], 1)
    record("stage-durations peak RSS", ours["peak_rss_mb"], pdx["peak_rss_mb"], "< 1,500 MB",
           ours["peak_rss_mb"] < 1500, "MB")
    record("`kam --help`, whole process (pandas: `import pandas` alone)", help_s, import_pandas_s, "< 0.3 s",
           help_s < 0.3)
    report_target("`kam report stage-durations`, whole process", report_s, pandas_process, 1, None)
    record("stage-durations agree with pandas", agree and ours["view_matches"], None, "yes",
           bool(agree and ours["view_matches"]), "")

if __name__ == "__main__":
    main()
