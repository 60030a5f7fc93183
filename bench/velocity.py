"""Benchmark: conversion and cycle at scale, beside a plain pandas implementation.

    python bench/velocity.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (kam_analytics demo) unless --workdir holds one of that
     size already, and export the inputs to parquet
  2. ours: conversion and cycle, cold (fresh process, first query) and warm (best of 3)
  3. pandas: the same numbers from the same rows (sort, shift, groupby), read time apart
The results are compared; the figures are printed as one table.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import ROOT, child, cold_and_warm, parser, peak_rss_mb, print_table, record, report_target, run_role

sys.path.insert(0, str(ROOT))



def role_generate(workdir: Path, deals: int) -> dict:
    from kam_analytics import db, demo

    path = workdir / "velocity.duckdb"
    have = 0
    if path.exists():
        with db.read(path) as con:
            have = con.execute("select count(*) from deals").fetchone()[0]
    if have != deals:
        for p in (path, Path(str(path) + ".wal")):
            p.unlink(missing_ok=True)
        demo.load(path, deals=deals, seed=1)
    with db.read(path) as con:
        con.execute(f"copy (select deal_id, changed_at, stage, seq from deal_history) to '{workdir / 'v_history.parquet'}' (format parquet)")
        con.execute(f"copy (select deal_id, created_date, closed_date, stage from deals) to '{workdir / 'v_deals.parquet'}' (format parquet)")
    return {"deals": deals, "peak_rss_mb": peak_rss_mb()}


def role_ours(workdir: Path) -> dict:
    from kam_analytics import db, stage_list
    from kam_analytics.reports.velocity import conversion, cycle

    path = workdir / "velocity.duckdb"
    out = {}
    for name, func in (("conversion", conversion), ("cycle", cycle)):
        df, cold, warm = cold_and_warm(path, func)
        out[name] = {"cold_s": cold, "warm_s": warm, "result": df.to_dict("records")}
    with db.read(path) as con:
        cfg = stage_list.stage_config(con)
        out["stages"] = {"open": list(cfg.open), "won": list(cfg.won), "lost": list(cfg.lost)}
        out["as_of"] = str(df.attrs["as_of"])
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def role_pandas(workdir: Path, as_of: str, stages: dict) -> dict:
    import numpy as np
    import pandas as pd

    t = time.perf_counter()
    h = pd.read_parquet(workdir / "v_history.parquet")
    d = pd.read_parquet(workdir / "v_deals.parquet")
    read_s = time.perf_counter() - t
    as_of_ts = pd.Timestamp(as_of)
    open_, won, lost = stages["open"], stages["won"], stages["lost"]

    t = time.perf_counter()
    h = h[h["changed_at"] < as_of_ts].sort_values(["deal_id", "changed_at", "seq"])
    h = h.drop_duplicates(["deal_id", "changed_at"], keep="last").dropna(subset=["stage"])
    # the state at as_of: each deal's last row; a deal without history is in its current stage
    last = h.groupby("deal_id", sort=False)["stage"].last()
    nohist = d[~d["deal_id"].isin(last.index) & d["created_date"].notna()
               & (pd.to_datetime(d["created_date"]) < as_of_ts)].set_index("deal_id")["stage"]
    state = pd.concat([last, nohist])
    outcome = pd.Series(np.where(state.isin(won), "won", np.where(state.isin(lost), "lost", "open")), index=state.index)
    closed = outcome[outcome != "open"]
    pos = {s: i + 1 for i, s in enumerate(open_)}
    visited = pd.concat([h[["deal_id", "stage"]], nohist.reset_index()])
    visited = visited[visited["stage"].isin(open_)]
    furthest = visited["stage"].map(pos).groupby(visited["deal_id"]).max()
    f = furthest.reindex(closed.index).fillna(0)
    rows = []
    n_won = int((closed == "won").sum())
    lost_f = f[closed == "lost"]
    reached = [n_won + int((lost_f >= pos[s]).sum()) for s in open_]
    for i, s in enumerate(open_):
        nxt = reached[i + 1] if i + 1 < len(open_) else n_won
        rows.append({"stage": s, "reached": reached[i],
                     "conversion_to_next": nxt / reached[i] if reached[i] else None,
                     "win_rate_from_stage": n_won / reached[i] if reached[i] else None})
    conversion_s = time.perf_counter() - t

    t = time.perf_counter()
    c = d[d["stage"].isin(won + lost) & d["created_date"].notna() & d["closed_date"].notna()
          & (pd.to_datetime(d["closed_date"]) < as_of_ts)]
    days = (pd.to_datetime(c["closed_date"]) - pd.to_datetime(c["created_date"])).dt.days.astype(float)
    oc = np.where(c["stage"].isin(won), "won", "lost")
    cyc = []
    for o in ("won", "lost", "all"):
        x = days if o == "all" else days[oc == o]
        cyc.append({"outcome": o, "deals": int(len(x)), "mean_days": float(x.mean()), "median_days": float(x.median())})
    cycle_s = time.perf_counter() - t
    return {"read_s": read_s, "conversion_s": conversion_s, "cycle_s": cycle_s, "peak_rss_mb": peak_rss_mb(),
            "conversion": rows, "cycle": cyc}


def _child(role: str, workdir: Path, *extra: str) -> dict:
    return child(__file__, role, workdir, *extra)


def _agree(ours: list[dict], theirs: list[dict]) -> bool:
    def close(x, y):
        if x is None or y is None or x != x or y != y:
            return (x is None or x != x) and (y is None or y != y)
        return abs(float(x) - float(y)) < 1e-5 * max(1.0, abs(float(y)))
    return len(ours) == len(theirs) and all(close(o[k], p[k]) for o, p in zip(ours, theirs) for k in p if k not in ("stage", "outcome"))


def main() -> None:
    a = parser(__doc__, ("generate", "ours", "pandas")).parse_args()
    if run_role(a, {"generate": lambda: role_generate(a.workdir, a.deals), "ours": lambda: role_ours(a.workdir),
                    "pandas": lambda: role_pandas(a.workdir, a.as_of, json.loads(a.stages))}):
        return
    print(f"conversion and cycle benchmark, {a.deals:,} deals (each side in its own process)")
    _child("generate", a.workdir, "--deals", str(a.deals))
    ours = _child("ours", a.workdir)
    pdx = _child("pandas", a.workdir, "--as-of", ours["as_of"], "--stages", json.dumps(ours["stages"]))
    rows = [("figure", "ours", "pandas", "ratio", "target")]
    for name in ("conversion", "cycle"):
        for kind in ("cold", "warm"):
            o = ours[name][f"{kind}_s"]
            rows.append((f"{name} {kind} (s)", f"{o:.2f}", f"{pdx[name + '_s']:.2f}", f"{pdx[name + '_s'] / o:.1f}x",
                         "< 1 s, >= 5x"))
        rows.append((f"{name}: results agree", "yes" if _agree(ours[name]["result"], pdx[name]) else "NO", "", "", ""))
    rows.append(("pandas: reading its parquet input, apart (s)", "", f"{pdx['read_s']:.2f}", "", ""))
    rows.append(("peak RSS (MB)", f"{ours['peak_rss_mb']:,.0f}", f"{pdx['peak_rss_mb']:,.0f}", "", "< 1,500"))
    print_table(rows[0], rows[1:], left=(0, 4))
    for name in ("conversion", "cycle"):
        report_target(f"{name}, warm", ours[name]["warm_s"], pdx[name + "_s"], 1)
    record("conversion/cycle peak RSS", ours["peak_rss_mb"], pdx["peak_rss_mb"], "< 1,500 MB",
           ours["peak_rss_mb"] < 1500, "MB")

if __name__ == "__main__":
    main()
