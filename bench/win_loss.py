"""Benchmark: win-loss, plan-effect, step-lateness and map-health at scale, beside a plain
pandas implementation of each.

    python bench/win_loss.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (shared with bench/velocity.py and bench/risk.py) unless
     --workdir holds one of that size; the demo puts closing plans on about 29 % of the deals
     and mutual plans on 14 % (1.3 million mutual-plan steps at 1,000,000 deals); export
     deals, plans, steps and fx rates to parquet
  2. ours: each report cold (first run in a fresh process) and warm (best of two more):
     `win-loss --by owner`, `plan-effect --by` each of the four facts, `step-lateness` and
     `map-health` (its risk band included)
  3. pandas: the same numbers from the parquet files with groupby/merge (currency conversion,
     the plan facts at each deal's closing, step names normalised; map-health's risk band from
     bench/risk.py's pandas implementation of the risk flags)
Each report's figures are compared between the two sides.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import ROOT, cold_and_warm, export_world, peak_rss_mb, print_table, report_target, run_sides

sys.path.insert(0, str(ROOT))

FACTS = ("has_mutual_plan", "plan_signed", "completion_band", "buyer_on_time_band")


def role_generate(workdir: Path, deals: int) -> dict:
    from risk import role_generate as generate

    out = generate(workdir, deals)
    export_world(workdir, {
        "w_deals": "select deal_id, owner, status, amount, currency, close_date, closed_date from deals",
        "w_plans": "select deal_id, plan_type, created_date, converted_date, seller_signed_date, "
                   "buyer_signed_date from plans",
        "w_steps": "select deal_id, plan_type, step_no, step, side, original_due_date, due_date, completed_date, "
                   "status from plan_steps",
        "w_fx": "select currency, rate, valid_from from fx_rates",
    }, "w_conf", lambda con, conf, cfg: {"currency": conf["currency"]})
    return out


# ---------------------------------------------------------------- summaries both sides give


def _win_loss_key(df) -> dict:
    return {"rows": int(len(df)), "won": int(df["won"].sum()), "lost": int(df["lost"].sum()),
            "won_amount": round(float(df["won_amount"].sum())), "low_sum": round(float(df["win_rate_low"].sum()), 4)}


def _fact_key(df, fact) -> dict:
    return {str(v).lower(): [int(w), int(x)] for v, w, x in zip(df[fact], df["won"], df["lost"])}


def _steps_key(df) -> dict:
    return {"rows": int(len(df)), "steps": int(df["steps"].sum()),
            "on_time": round(float((df["on_time_rate"] * df["steps"]).sum())),
            "median_late_sum": round(float(df["median_late_days"].fillna(0).sum()), 2)}


def _health_key(df) -> dict:
    return {"plans": int(len(df)), "steps": int(df["steps"].sum()),
            "overdue_buyer": int(df["overdue_buyer_steps"].sum()), "overdue_seller": int(df["overdue_seller_steps"].sum()),
            "signed": int(df["signed"].sum()), "engagement_sum": round(float(df["buyer_engagement"].fillna(0).sum()), 3),
            "bands": {b: int((df["risk_band"] == b).sum()) for b in ("high", "medium", "low")}}


def role_ours(workdir: Path) -> dict:
    from kam_analytics.reports import mutual_plans, win_loss

    path = workdir / "velocity.duckdb"
    out = {}
    runs = [("win-loss --by owner", lambda con: win_loss.win_loss(con, by="owner"), _win_loss_key)]
    runs += [(f"plan-effect --by {f}", (lambda f: lambda con: win_loss.plan_effect(con, by=f))(f),
              (lambda f: lambda df: _fact_key(df, f))(f)) for f in FACTS]
    runs += [("step-lateness", win_loss.step_lateness, _steps_key), ("map-health", mutual_plans.map_health, _health_key)]
    for name, report, key in runs:
        df, cold, warm = cold_and_warm(path, report, runs=2)
        out[name] = {"cold_s": cold, "warm_s": warm, "key": key(df)}
    out["peak_rss_mb"] = peak_rss_mb()
    # map-health's bands score with the weights risk learns from the back-test: the pandas side
    # (bench/risk.py's pandas_risk) reads them, as bench/risk.py's does (learning is not timed)
    from kam_analytics import db
    from kam_analytics.reports.risk import risk

    with db.read(path) as con:
        (workdir / "r_weights.json").write_text(json.dumps(risk(con).attrs["weights"]))
    return out


# ---------------------------------------------------------------- plain pandas


def _wilson_low(won, n):
    import numpy as np

    z = 1.96
    p = won / n
    return np.clip((p + z * z / (2 * n) - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n), 0, 1)


def _closed(workdir: Path, conf: dict):
    import numpy as np
    import pandas as pd

    deals = pd.read_parquet(workdir / "w_deals.parquet")
    fx = pd.read_parquet(workdir / "w_fx.parquet")
    c = deals[deals["status"].isin(["won", "lost"])].copy()
    for col in ("close_date", "closed_date"):
        c[col] = pd.to_datetime(c[col])
    base = conf["currency"].upper()
    c["cur"] = c["currency"].fillna("").str.strip().replace("", base).str.upper()
    fx["currency"] = fx["currency"].str.upper()
    fx["valid_from"] = pd.to_datetime(fx["valid_from"])
    fx = fx.sort_values("valid_from")
    latest = fx.groupby("currency")["rate"].last()
    rate = pd.Series(np.where(c["cur"] == base, 1.0, np.nan), index=c.index)
    foreign = c[(c["cur"] != base) & c["close_date"].notna()].sort_values("close_date")
    m = pd.merge_asof(foreign[["close_date", "cur"]].reset_index(), fx, left_on="close_date", right_on="valid_from",
                      left_by="cur", right_by="currency", direction="backward").set_index("index")
    rate.loc[m.index] = m["rate"].fillna(m["cur"].map(latest)).to_numpy()
    undated = (c["cur"] != base) & c["close_date"].isna()
    rate[undated] = c.loc[undated, "cur"].map(latest)
    c["amount_conv"] = c["amount"] * rate
    c["cutoff"] = (c["closed_date"] + pd.Timedelta(days=1)).fillna(pd.Timestamp("9999-12-31"))
    return c


def _mutual_steps(workdir: Path, cutoffs):
    """Every mutual plan existing at its deal's cutoff with its steps' facts then (the same
    rules as sql/models/mutual_steps.sql), one row per step (a plan without steps: one empty row)."""
    import pandas as pd

    plans = pd.read_parquet(workdir / "w_plans.parquet")
    plans = plans[plans["plan_type"] == "mutual"]
    for col in ("created_date", "seller_signed_date", "buyer_signed_date"):
        plans[col] = pd.to_datetime(plans[col])
    p = plans.merge(cutoffs, on="deal_id")
    p = p[p["created_date"].isna() | (p["created_date"] < p["cutoff"])]
    p["plan_signed"] = (p["seller_signed_date"] < p["cutoff"]) & (p["buyer_signed_date"] < p["cutoff"])
    steps = pd.read_parquet(workdir / "w_steps.parquet")
    steps = steps[steps["plan_type"] == "mutual"].drop(columns="plan_type")
    for col in ("original_due_date", "due_date", "completed_date"):
        steps[col] = pd.to_datetime(steps[col])
    s = p[["deal_id", "cutoff", "plan_signed"]].merge(steps, on="deal_id", how="left")
    first_due = s["original_due_date"].fillna(s["due_date"])
    s["completed"] = s["completed_date"] < s["cutoff"]
    s["on_time"] = s["completed"] & (s["completed_date"] <= first_due)
    s["late_days"] = ((s["completed_date"] - first_due).dt.days).where(s["completed"])
    s["due_passed"] = first_due < s["cutoff"]
    s["overdue"] = s["step_no"].notna() & ~s["completed"] & s["status"].ne("rejected") & (s["due_date"] < s["cutoff"])
    s["has_step"] = s["step_no"].notna()
    return s


def _bands(x, steps):
    import numpy as np

    return np.select([steps == 0, x.isna(), x <= 0.25, x <= 0.5, x <= 0.75],
                     ["no plan", "no buyer step due", "0-25%", "25-50%", "50-75%"], "75-100%")


def _plan_facts(s):
    import numpy as np

    b = s["side"].eq("buyer")
    g = s.assign(bd=b & s["due_passed"], bo=b & s["on_time"], ob=s["overdue"] & b, os=s["overdue"] & ~b).groupby(
        "deal_id").agg(plan_signed=("plan_signed", "any"), steps=("has_step", "sum"), done=("completed", "sum"),
                       bd=("bd", "sum"), bo=("bo", "sum"), ob=("ob", "sum"), os=("os", "sum"))
    g["completion"] = g["done"] / g["steps"].where(g["steps"] > 0)
    g["buyer_engagement"] = np.minimum(1.0, g["bo"] / g["bd"].where(g["bd"] > 0))
    g["completion_band"] = _bands(g["completion"], g["steps"])
    g["buyer_on_time_band"] = _bands(g["buyer_engagement"], g["steps"])
    g["completion_band"] = np.where(g["steps"] == 0, "no plan", g["completion_band"])
    return g


def _step_key(names):
    import unicodedata

    import pandas as pd

    uniq = pd.Series(names.dropna().unique())
    plain = uniq.map(lambda x: "".join(ch for ch in unicodedata.normalize("NFKD", x) if not unicodedata.combining(ch)))
    key = plain.str.lower().str.replace(r"^[^a-z0-9]*((step|passo|fase)[^a-z0-9]*)?[0-9]+([^a-z0-9]+|$)", "",
                                        regex=True).str.replace(r"[^a-z0-9]", "", regex=True)
    return names.map(dict(zip(uniq, key)))


def role_pandas(workdir: Path) -> dict:
    import numpy as np
    import pandas as pd

    conf = json.loads((workdir / "w_conf.json").read_text())
    out = {}

    t = time.perf_counter()
    c = _closed(workdir, conf)
    g = c.groupby(c["owner"], dropna=False)
    wl = pd.DataFrame({"won": g["status"].apply(lambda s: (s == "won").sum()),
                       "lost": g["status"].apply(lambda s: (s == "lost").sum()),
                       "won_amount": c["amount_conv"].where(c["status"] == "won").groupby(c["owner"], dropna=False).sum()})
    wl["win_rate_low"] = _wilson_low(wl["won"], wl["won"] + wl["lost"])
    out["win-loss --by owner"] = {"s": time.perf_counter() - t, "key": _win_loss_key(wl)}

    for fact in FACTS:
        t = time.perf_counter()
        c = _closed(workdir, conf)
        s = _mutual_steps(workdir, c[["deal_id", "cutoff"]])
        f = _plan_facts(s)
        d = c.join(f, on="deal_id")
        d["has_mutual_plan"] = d["deal_id"].isin(f.index)
        d["plan_signed"] = d["plan_signed"].fillna(False).astype(bool)
        for col in ("completion_band", "buyer_on_time_band"):
            d[col] = d[col].fillna("no plan")
        pe = d.groupby(fact)["status"].agg(won=lambda x: (x == "won").sum(), lost=lambda x: (x == "lost").sum())
        out[f"plan-effect --by {fact}"] = {"s": time.perf_counter() - t, "key": _fact_key(pe.reset_index(), fact)}

    t = time.perf_counter()
    c = _closed(workdir, conf)
    s = _mutual_steps(workdir, c[["deal_id", "cutoff"]])
    s = s[s["has_step"]].merge(c[["deal_id", "status"]].rename(columns={"status": "outcome"}), on="deal_id")
    s["key"] = _step_key(s["step"])
    sl = s.groupby(["key", "outcome"]).agg(steps=("step_no", "size"), on_time_rate=("on_time", "mean"),
                                          median_late_days=("late_days", "median")).reset_index()
    out["step-lateness"] = {"s": time.perf_counter() - t, "key": _steps_key(sl)}

    t = time.perf_counter()
    from risk import FLAGS, pandas_risk

    rc = json.loads((workdir / "r_conf.json").read_text())
    risk = pandas_risk(workdir)
    bands = rc["risk"]["bands"]
    risk["risk_band"] = np.where(risk["score"] >= bands["high"], "high",
                                 np.where(risk["score"] >= bands["medium"], "medium", "low"))
    T = pd.Timestamp(conf["as_of"])
    plans = pd.read_parquet(workdir / "w_plans.parquet")
    mutual = plans[plans["plan_type"] == "mutual"][["deal_id"]].assign(cutoff=T)
    f = _plan_facts(_mutual_steps(workdir, mutual))
    mh = risk.join(f, on="deal_id", how="inner").rename(columns={"plan_signed": "signed", "ob": "overdue_buyer_steps",
                                                                 "os": "overdue_seller_steps"})
    out["map-health"] = {"s": time.perf_counter() - t, "key": _health_key(mh)}
    assert FLAGS
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    sides = run_sides(__file__, __doc__, role_generate, role_ours, role_pandas)
    if sides is None:
        return
    a, ours, pdx = sides
    print(f"win-loss and mutual plans, {a.deals:,} deals (seconds; each side its own process)")
    rows, bad = [], []
    for name in [k for k in ours if k != "peak_rss_mb"]:
        o, p = ours[name], pdx[name]
        agree = o["key"] == p["key"]
        if not agree:
            bad.append(f"{name}: ours {o['key']} pandas {p['key']}")
        rows.append((name, f"{o['cold_s']:.2f}", f"{o['warm_s']:.2f}", f"{p['s']:.2f}",
                     f"{p['s'] / o['warm_s']:.1f}×", "yes" if agree else "NO"))
    print_table(("report", "ours cold", "ours warm", "pandas", "speed-up (warm)", "agree"), rows)
    for name in [k for k in ours if k != "peak_rss_mb"]:
        report_target(f"{name}, warm", ours[name]["warm_s"], pdx[name]["s"], 1)
    print(f"peak RSS: ours {ours['peak_rss_mb']:,.0f} MB, pandas {pdx['peak_rss_mb']:,.0f} MB")
    if bad:
        sys.exit("the two sides disagree:\n" + "\n".join(bad))


if __name__ == "__main__":
    main()
