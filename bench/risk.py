"""Benchmark: the risk flags at scale, beside a plain pandas implementation of `risk`.

    python bench/risk.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (shared with bench/velocity.py) unless --workdir holds one
     of that size, and export deals, history, plans, plan steps and the account map to parquet
  2. ours: `risk` cold (first run in a fresh process: it learns the flags' weights from the
     back-test's evaluations at the eight quarter starts before the latest one, which it then
     keeps for the data version) and warm (best of two more), `risk-backtest` over its default
     eight quarter starts, and `risk-backtest --calibration` (the reliability table: sixteen
     quarter starts, the weights as of each of the eight)
  3. pandas: `risk` at the same as-of from the parquet files, every flag computed with
     groupby/merge (the same-timestamp rule, visits and stage figures included in its time),
     scored with the weights ours learnt (r_weights.json; learning them is not in its time)
The number of deals each flag trips and the total score are compared.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import ROOT, cold_and_warm, export_world, peak_rss_mb, print_table, record, report_target, run_sides

sys.path.insert(0, str(ROOT))

FLAGS = ("stalled", "past_close_date", "behind_schedule", "overdue_buyer_steps", "pushed_repeatedly",
         "amount_dropped", "overdue_seller_steps", "no_plan", "unsigned_plan", "no_account_map", "no_champion",
         "no_economic_buyer", "single_threaded", "stale")


def role_generate(workdir: Path, deals: int) -> dict:
    from velocity import role_generate as generate

    out = generate(workdir, deals)
    export_world(workdir, {
        "r_deals": "select deal_id, account_id, segment, created_date, close_date, stage, amount, champion, "
                   "economic_buyer from deals",
        "r_history": "select deal_id, changed_at, stage, amount, close_date, shape, seq from deal_history",
        "r_plans": "select * exclude (batch_id) from plans",
        "r_steps": "select deal_id, plan_type, side, due_date, completed_date, status from plan_steps",
        "r_map": "select account_id, role from stakeholders",
    }, "r_conf", lambda con, conf, cfg: {
        "open": list(cfg.open), "won": list(cfg.won), "lost": list(cfg.lost), "risk": conf["risk"],
        "min_visits": conf["comparable_min_visits"], "by": conf["comparable_by"]})
    return out


def _summary(df) -> dict:
    return {"open_deals": int(len(df)), "score": round(float(df["score"].sum()), 6),
            **{f: int(sum(1 for fs in df["flags"] if f in fs)) for f in FLAGS}}


def role_ours(workdir: Path) -> dict:
    from kam_analytics.reports.risk import risk, risk_backtest

    path = workdir / "velocity.duckdb"
    df, cold, warm = cold_and_warm(path, risk, runs=2)
    (workdir / "r_weights.json").write_text(json.dumps(df.attrs["weights"]))
    out = {"risk": {"cold_s": cold, "warm_s": warm, "key": _summary(df),
                    "bands": {b: int(n) for b, n in df["band"].value_counts().items()}}}
    from kam_analytics import db

    t = time.perf_counter()
    with db.read(path) as con:
        bt = risk_backtest(con)
    out["backtest"] = {"s": time.perf_counter() - t, "quarters": len(bt.attrs["quarter_starts"]),
                       "evaluations": int(bt["evaluations"].iloc[0])}
    t = time.perf_counter()
    with db.read(path) as con:
        cal = risk_backtest(con, calibration=True)
    out["calibration"] = {"s": time.perf_counter() - t, "brier": cal.attrs["brier_score"],
                          "brier_stage": cal.attrs["brier_score_stage_alone"], "bands": cal.attrs["bands"]}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---------------------------------------------------------------- plain pandas


def pandas_risk(workdir: Path):
    import numpy as np
    import pandas as pd

    conf = json.loads((workdir / "r_conf.json").read_text())
    r, T = conf["risk"], pd.Timestamp(conf["as_of"])
    won, lost, open_ = set(conf["won"]), set(conf["lost"]), conf["open"]
    closed = won | lost
    pos = {s: i for i, s in enumerate(open_, start=1)}
    deals = pd.read_parquet(workdir / "r_deals.parquet")
    hist = pd.read_parquet(workdir / "r_history.parquet")
    plans = pd.read_parquet(workdir / "r_plans.parquet")
    steps = pd.read_parquet(workdir / "r_steps.parquet")
    amap = pd.read_parquet(workdir / "r_map.parquet")
    for c in ("created_date", "close_date"):
        deals[c] = pd.to_datetime(deals[c])
    hist["close_date"] = pd.to_datetime(hist["close_date"])

    # the same-timestamp rule: the last row (by import order) of each (deal, changed_at)
    hist = hist.sort_values(["deal_id", "changed_at", "seq"]).drop_duplicates(["deal_id", "changed_at"], keep="last")
    prev = hist.groupby("deal_id")["close_date"].shift(1)
    hist["push_days"] = np.where(hist["close_date"] > prev, (hist["close_date"] - prev).dt.days, 0)
    hist["push"] = hist["close_date"] > prev
    before = hist[hist["changed_at"] < T]
    g = before.groupby("deal_id")
    state = g.tail(1).set_index("deal_id")[["changed_at", "stage", "amount", "close_date", "shape"]]
    state["pushes"] = g["push"].sum()
    state["days_pushed"] = g["push_days"].sum()
    state["peak"] = g["amount"].max()
    first = hist[~hist["deal_id"].isin(state.index)].groupby("deal_id").head(1).set_index("deal_id")
    first = first[["stage", "amount", "close_date", "shape"]].assign(changed_at=pd.NaT, pushes=0, days_pushed=0,
                                                                      peak=first["amount"])
    st_all = pd.concat([state, first])
    d = deals[deals["created_date"] < T].set_index("deal_id")
    d = d.join(st_all, rsuffix="_h")
    has = d["stage_h"].notna() | d.index.isin(st_all.index)
    wide = d["shape"].eq("wide") | ~has
    d["stage_t"] = d["stage_h"].where(d["stage_h"].notna(), d["stage"])
    d["amount_t"] = np.where(wide, d["amount"], d["amount_h"])
    d["close_t"] = d["close_date"].where(wide, d["close_date_h"])
    d["peak"] = d["peak"].where(~wide)
    d = d[~d["stage_t"].isin(closed)].copy()

    # stage visits: runs of the same (non-empty) stage
    vs = hist[hist["stage"].notna()][["deal_id", "changed_at", "stage"]]
    new_run = vs["stage"].ne(vs.groupby("deal_id")["stage"].shift(1))
    runs = vs[new_run].copy()
    runs["ended"] = runs.groupby("deal_id")["changed_at"].shift(-1)
    known = runs[runs["changed_at"] < T]
    current = known[known["ended"].isna() | (known["ended"] >= T)].set_index("deal_id")["changed_at"]
    d["started"] = current.reindex(d.index)
    d["started"] = d["started"].fillna(d["created_date"])
    d["age"] = (T - d["started"]).dt.total_seconds() / 86400

    # per-stage figures at T (cumulative rule), all deals and per comparable group
    done = known[(known["ended"] < T) & known["stage"].isin(open_)].copy()
    done["days"] = (done["ended"] - done["changed_at"]).dt.total_seconds() / 86400
    per = done.groupby(["deal_id", "stage"]).agg(days=("days", "sum"), visits=("days", "size")).reset_index()
    won_now = set(known[(known["ended"].isna() | (known["ended"] >= T)) & known["stage"].isin(won)]["deal_id"])
    grp = deals.set_index("deal_id")[conf["by"]]
    per["grp"] = per["deal_id"].map(grp)
    per["won"] = per["deal_id"].isin(won_now)
    won_grp = grp[grp.index.isin(won_now)]

    def figures(frame, keys, won_total):
        f = frame.groupby(keys).agg(p90=("days", lambda x: x.quantile(0.9)), median=("days", "median"),
                                    deals=("days", "size"), visits=("visits", "sum"), won_passed=("won", "sum"))
        f = f.reset_index()
        f["won_deals"] = won_total(f)
        return f

    fa = figures(per, ["stage"], lambda f: len(won_now))
    fg = figures(per, ["grp", "stage"], lambda f: f["grp"].map(won_grp.value_counts()).fillna(0))

    def later(f, keys):
        rows = []
        for key, part in (f.groupby(keys) if keys else [(None, f)]):
            byst = part.set_index("stage")
            for s in open_:
                need = [t for t in open_[pos[s]:] if t in byst.index and byst.at[t, "won_deals"] > 0
                        and byst.at[t, "won_passed"] >= 0.5 * byst.at[t, "won_deals"]]
                rows.append({**({"grp": key[0] if isinstance(key, tuple) else key} if keys else {}), "stage": s,
                             "cur_median": byst.at[s, "median"] if s in byst.index else np.nan,
                             "cur_visits": byst.at[s, "visits"] if s in byst.index else 0,
                             "later_days": float(sum(0 if pd.isna(byst.at[t, "median"]) else byst.at[t, "median"]
                                                     for t in need)),
                             "later_min": min((byst.at[t, "visits"] for t in need), default=np.inf)})
        return pd.DataFrame(rows)

    la, lg = later(fa, None), later(fg, ["grp"])
    d["grp"] = d[conf["by"]]
    d = d.reset_index().merge(la, left_on="stage_t", right_on="stage", how="left", suffixes=("", "_a"))
    d = d.merge(lg.rename(columns={c: c + "_g" for c in ("cur_median", "cur_visits", "later_days", "later_min")}),
                left_on=["grp", "stage_t"], right_on=["grp", "stage"], how="left", suffixes=("", "_g"))
    m = conf["min_visits"]
    use_g = d["cur_visits_g"].fillna(0).ge(m) & d["later_min_g"].fillna(np.inf).ge(m) & d["grp"].notna()
    med = np.where(use_g, d["cur_median_g"], d["cur_median"])
    lat = np.where(use_g, d["later_days_g"], d["later_days"])
    remaining = np.maximum(0, np.nan_to_num(med) - d["age"]) + np.nan_to_num(lat)
    realistic = (T + pd.to_timedelta(remaining, unit="D")).dt.normalize()
    p90 = d["stage_t"].map(fa.set_index("stage")["p90"])

    # plans, steps, the account map
    pl = plans.copy()
    for c in ("created_date", "converted_date", "seller_signed_date", "buyer_signed_date"):
        pl[c] = pd.to_datetime(pl[c])
    exists = pl["created_date"].isna() | (pl["created_date"] < T)
    pl["mutual_ok"] = (pl["plan_type"] == "mutual") & exists
    pl["signed"] = (pl["plan_type"] == "mutual") & (pl["seller_signed_date"] < T) & (pl["buyer_signed_date"] < T)
    dates = pl[["created_date", "converted_date", "seller_signed_date", "buyer_signed_date"]]
    pl["last"] = dates.where(dates < T).max(axis=1)
    pl["exists"] = exists
    pf = pl.groupby("deal_id").agg(has_plan=("exists", "any"), has_mutual=("mutual_ok", "any"),
                                   signed=("signed", "any"), last_plan=("last", "max"))
    sp = steps.merge(pl[["deal_id", "plan_type", "exists"]], on=["deal_id", "plan_type"])
    sp = sp[sp["exists"]]
    sp["use"] = np.where(sp["deal_id"].map(pf["has_mutual"]).fillna(False), "mutual", "closing")
    sp = sp[sp["plan_type"] == sp["use"]].copy()
    for c in ("due_date", "completed_date"):
        sp[c] = pd.to_datetime(sp[c])
    over = (sp["due_date"] < T) & sp["status"].ne("rejected") & (sp["completed_date"].isna() | (sp["completed_date"] >= T))
    sp["ob"] = over & sp["side"].eq("buyer")
    sp["os"] = over & ~sp["side"].eq("buyer")
    sp["done"] = sp["completed_date"].where(sp["completed_date"] < T)
    sf = sp.groupby("deal_id").agg(ob=("ob", "sum"), os=("os", "sum"), last_step=("done", "max"))
    mp = amap.assign(ch=amap["role"].eq("champion"), eb=amap["role"].eq("economic buyer"),
                     c=~amap["role"].eq("blocker")).groupby("account_id").agg(ch=("ch", "any"), eb=("eb", "any"),
                                                                              contacts=("c", "sum"))
    d = d.join(pf, on="deal_id").join(sf, on="deal_id").join(mp, on="account_id")
    spos = d["stage_t"].map(pos)
    has_map = d["account_id"].isin(mp.index).to_numpy()
    last = pd.concat([d["changed_at"], d["last_plan"], d["last_step"],
                      d["created_date"].where(d["changed_at"].isna())], axis=1).max(axis=1)
    flags = pd.DataFrame({
        "stalled": d["age"] > p90,
        "past_close_date": d["close_t"] < T,
        "behind_schedule": realistic > d["close_t"],
        "overdue_buyer_steps": d["ob"].fillna(0) > 0,
        "pushed_repeatedly": (d["pushes"].fillna(0) >= r["pushed_repeatedly_pushes"])
                             | (d["days_pushed"].fillna(0) >= r["pushed_repeatedly_days"]),
        "amount_dropped": (d["peak"] > 0) & (d["amount_t"] <= r["amount_dropped_share"] * d["peak"]),
        "overdue_seller_steps": d["os"].fillna(0) > 0,
        "no_plan": (spos >= pos.get(r["no_plan_stage"], np.inf)) & ~d["has_plan"].fillna(False).astype(bool),
        "unsigned_plan": (spos >= pos.get(r["unsigned_plan_stage"], np.inf)) & ~d["signed"].fillna(False).astype(bool),
        "no_account_map": ~has_map,
        "no_champion": has_map & ~(d["champion"].fillna("").str.strip().ne("") | d["ch"].fillna(False).astype(bool)),
        "no_economic_buyer": has_map & ~(d["economic_buyer"].fillna("").str.strip().ne("")
                                         | d["eb"].fillna(False).astype(bool)),
        "single_threaded": has_map & (d["contacts"].fillna(0) < r["single_threaded_contacts"]),
        "stale": ((T - last).dt.total_seconds() / 86400) >= r["stale_days"],
    })
    weights = json.loads((workdir / "r_weights.json").read_text())      # learnt by ours (role_ours)
    score = sum(flags[f].to_numpy(bool) * float(weights[f]) for f in FLAGS)
    out = pd.DataFrame({"deal_id": d["deal_id"], "score": score})
    out["flags"] = [[f for f, on in zip(FLAGS, row) if on] for row in flags[list(FLAGS)].to_numpy(bool)]
    return out


def role_pandas(workdir: Path) -> dict:
    t = time.perf_counter()
    df = pandas_risk(workdir)
    return {"risk": {"s": time.perf_counter() - t, "key": _summary(df)}, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    sides = run_sides(__file__, __doc__, role_generate, role_ours, role_pandas)
    if sides is None:
        return
    a, ours, pdx = sides
    o, p = ours["risk"], pdx["risk"]
    agree = "yes" if o["key"] == p["key"] else "NO"
    print(f"risk flags, {a.deals:,} deals, {o['key']['open_deals']:,} open at the data's date (seconds; each side "
          "its own process)")
    print_table(("report", "ours cold", "ours warm", "pandas", "speed-up (warm)", "agree"),
                [("risk", f"{o['cold_s']:.2f}", f"{o['warm_s']:.2f}", f"{p['s']:.2f}", f"{p['s'] / o['warm_s']:.1f}×",
                  agree)])
    b = ours["backtest"]
    report_target("risk, warm", o["warm_s"], p["s"], 2, None)
    record("risk, cold (learns the weights)", o["cold_s"], None, "", None)
    record(f"risk-backtest, {b['quarters']} quarters", b["s"], None, "< 20 s", b["s"] < 20)
    print(f"risk-backtest: {b['quarters']} quarter starts, {b['evaluations']:,} evaluations, {b['s']:.2f} s "
          "(one pass for all quarter starts)")
    c = ours["calibration"]
    print(f"risk-backtest --calibration: {c['s']:.2f} s; Brier {c['brier']:.4f} against the stage rate alone "
          f"{c['brier_stage']:.4f}; bands then: " + ", ".join(
              f"{k} {v['evaluations']:,} won "
              + ("—" if v["actual_win_rate"] is None else f"{100 * v['actual_win_rate']:.1f} %")
              for k, v in c["bands"].items()))
    print("risk bands of the open deals: " + ", ".join(f"{k} {v:,}" for k, v in o["bands"].items()))
    print(f"peak RSS: ours {ours['peak_rss_mb']:,.0f} MB, pandas {pdx['peak_rss_mb']:,.0f} MB")
    if agree != "yes":
        for k in o["key"]:
            if o["key"][k] != p["key"].get(k):
                print(f"  {k}: ours {o['key'][k]} vs pandas {p['key'].get(k)}")


if __name__ == "__main__":
    main()
