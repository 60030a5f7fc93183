"""Benchmark: the key-account reports at scale, beside a plain pandas implementation.

    python bench/accounts.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (shared with bench/velocity.py, bench/risk.py and
     bench/win_loss.py) unless --workdir holds one of that size: 40,000 accounts, about 3,700
     of them key with account plans, goals, account maps and action plans; export accounts,
     deals, history, the account tables and fx rates to parquet
  2. ours: `accounts` (key accounts) and `accounts --scope all`, `account-goals`, and the
     Account page's read of one key account (account_detail: profile, plan, goals, map, actions,
     deals with risk band and MAP status), each cold (first run in a fresh process) and warm
     (best of two more)
  3. pandas: the same numbers from the parquet files: the snapshot at the as-of from the
     history (last row before it, else the first; wide rows and deals without history take
     the deal's fields), currency conversion with merge_asof, the 12 months' won amount, the
     latest plan, the map's roles, overdue actions, coverage, plan elements and the goals'
     actuals over their fiscal years
Each report's figures are compared between the two sides.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import ROOT, cold_and_warm, export_world, peak_rss_mb, print_table, record, run_sides

sys.path.insert(0, str(ROOT))


def role_generate(workdir: Path, deals: int) -> dict:
    from velocity import role_generate as generate

    out = generate(workdir, deals)
    export_world(workdir, {
        "a_accounts": "select account_id, tier, revenue_potential from accounts",
        "a_deals": "select deal_id, account_id, stage, status, amount, currency, created_date, close_date, "
                   "closed_date from deals",
        "a_history": "select deal_id, changed_at, stage, amount, close_date, shape, seq from deal_history",
        "a_plans": "select * exclude (batch_id) from account_plans",
        "a_goals": "select account_id, goal, metric, target_value, due_date from account_goals",
        "a_map": "select account_id, role from stakeholders",
        "a_actions": "select account_id, status, due_date, completed_date from account_actions",
        "a_fx": "select currency, rate, valid_from from fx_rates",
    }, "a_conf", lambda con, conf, cfg: {
        "won": list(cfg.won), "lost": list(cfg.lost), "currency": conf["currency"],
        "start_month": int(conf["fiscal_year_start_month"]),
        "one_account": con.execute("select account_id from accounts where lower(trim(tier)) in "
                                   "('key', 'strategic', 'chiave', 'strategico') order by account_id "
                                   "limit 1").fetchone()[0]})
    return out


# ---------------------------------------------------------------- summaries both sides give


def _accounts_key(df) -> dict:
    return {"accounts": int(len(df)), "value_12m": round(float(df["value_12m"].sum())),
            "potential": round(float(df["potential"].sum())), "open_pipeline": round(float(df["open_pipeline"].sum())),
            "coverage": round(float(df["coverage_score"].sum()), 4), "overdue": int(df["overdue_actions"].sum()),
            "elements": int(df["plan_elements"].sum()), "plan_age": int(df["plan_age_days"].fillna(0).sum())}


def _goals_key(df) -> dict:
    return {"goals": int(len(df)), "measurable": int(df["actual"].notna().sum()),
            "actual": round(float(df["actual"].fillna(0).sum()), 2),
            "progress": round(float(df["progress"].fillna(0).sum()), 4)}


def role_ours(workdir: Path) -> dict:
    from kam_analytics.reports import accounts

    path = workdir / "velocity.duckdb"
    conf = json.loads((workdir / "a_conf.json").read_text())
    out = {}
    runs = [("accounts", accounts.accounts, _accounts_key),
            ("accounts --scope all", lambda con: accounts.accounts(con, scope="all"), _accounts_key),
            ("account-goals", accounts.account_goals, _goals_key),
            ("Account page (one key account)", lambda con: accounts.account_detail(con, conf["one_account"]),
             lambda d: {"deals": int(len(d["deals"])), "value_12m": round(float(d["account"]["value_12m"]))})]
    for name, report, key in runs:
        df, cold, warm = cold_and_warm(path, report, runs=2)
        out[name] = {"cold_s": cold, "warm_s": warm, "key": key(df)}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---------------------------------------------------------------- plain pandas


def _convert(df, fx, base: str, close_col: str, amount_col: str):
    """amount in the base currency: the rate valid at the close date, else the latest rate."""
    import numpy as np
    import pandas as pd

    cur = df["currency"].fillna(base).str.strip().str.upper().replace("", base)
    out = pd.Series(np.where(cur == base, df[amount_col], np.nan), index=df.index, dtype="float64")
    foreign = df[cur != base].assign(currency=cur[cur != base])
    if len(foreign):
        rates = fx.assign(currency=fx["currency"].str.upper()).sort_values("valid_from")
        latest = rates.groupby("currency")["rate"].last()
        dated = foreign[foreign[close_col].notna()].sort_values(close_col)
        merged = pd.merge_asof(dated.reset_index(), rates, left_on=close_col, right_on="valid_from", by="currency",
                               direction="backward").set_index("index")["rate"]
        rate = merged.reindex(foreign.index)
        rate = rate.fillna(foreign["currency"].map(latest))
        out.loc[foreign.index] = foreign[amount_col] * rate
    return out


def _snapshot(deals, hist, as_of):
    """Each deal existing at as_of with its stage, amount and close date then."""
    import pandas as pd

    hist = hist.sort_values(["deal_id", "changed_at", "seq"])
    before = hist[hist["changed_at"] < as_of].groupby("deal_id").tail(1)
    first = hist.groupby("deal_id").head(1)
    first = first[(first["changed_at"] >= as_of) & ~first["deal_id"].isin(before["deal_id"])]
    state = pd.concat([before, first]).set_index("deal_id")
    d = deals[deals["created_date"] < as_of].set_index("deal_id")
    s = state.reindex(d.index)
    has = s["stage"].notna()
    wide = s["shape"].eq("wide")
    snap = pd.DataFrame({
        "account_id": d["account_id"], "currency": d["currency"],
        "stage": s["stage"].where(has, d["stage"]),
        "amount": s["amount"].where(has & ~wide, d["amount"]),
        "close_date": s["close_date"].where(has & ~wide, d["close_date"]),
    })
    return snap.reset_index()


def role_pandas(workdir: Path) -> dict:
    import numpy as np
    import pandas as pd

    from kam_analytics.reports.accounts import GOAL_METRICS   # the metric names only (data, not code)
    from kam_analytics.importing.read import norm

    t0 = time.perf_counter()
    conf = json.loads((workdir / "a_conf.json").read_text())
    base, start_month = conf["currency"], conf["start_month"]
    as_of = pd.Timestamp(conf["as_of"])
    read = {n: pd.read_parquet(workdir / f"a_{n}.parquet")
            for n in ("accounts", "deals", "history", "plans", "goals", "map", "actions", "fx")}
    acc, deals, fx = read["accounts"], read["deals"], read["fx"]
    for c in ("created_date", "close_date", "closed_date"):
        deals[c] = pd.to_datetime(deals[c])
    hist = read["history"]
    hist["close_date"] = pd.to_datetime(hist["close_date"])
    fx["valid_from"] = pd.to_datetime(fx["valid_from"])

    # key accounts
    plans = read["plans"]
    plans["plan_date"] = pd.to_datetime(plans["plan_date"])
    latest = plans[plans["plan_date"] < as_of].sort_values("plan_date").groupby("account_id").tail(1)
    latest = latest.set_index("account_id")
    is_key = acc["tier"].fillna("").str.strip().str.lower().isin(["key", "strategic", "chiave", "strategico"])

    def chosen(scope: str):
        if scope == "all":
            return acc
        return acc[is_key] if is_key.any() else acc[acc["account_id"].isin(latest.index)]

    # value of the last 12 months
    closed = deals[deals["status"].isin(["won", "lost"])].copy()
    closed["amount_conv"] = _convert(closed, fx, base, "close_date", "amount")
    frm = as_of - pd.DateOffset(years=1)
    won12 = closed[(closed["status"] == "won") & (closed["closed_date"] >= frm) & (closed["closed_date"] < as_of)]
    value = won12.groupby("account_id")["amount_conv"].sum()

    # the pipeline at the as-of
    snap = _snapshot(deals, hist, as_of)
    snap = snap[~snap["stage"].isin(conf["won"] + conf["lost"])].copy()
    snap["amount_base"] = _convert(snap, fx, base, "close_date", "amount")
    pipe = snap.groupby("account_id")["amount_base"].sum()

    smap = read["map"]
    roles = {r: set(smap.loc[smap["role"] == r, "account_id"]) for r in ("decision maker", "economic buyer", "champion")}
    acts = read["actions"]
    day = as_of.normalize()
    due, done = pd.to_datetime(acts["due_date"]), pd.to_datetime(acts["completed_date"])
    overdue_rows = (due < day) & ~acts["status"].fillna("").isin(["done", "rejected"]) & (done.isna() | (done >= day))
    overdue = acts[overdue_rows].groupby("account_id").size()
    goals = read["goals"]
    has_goals, has_actions = set(goals["account_id"]), set(acts["account_id"])

    def report(scope: str) -> pd.DataFrame:
        a = chosen(scope).set_index("account_id")
        ids = a.index
        p = latest.reindex(ids)
        age = (day - p["plan_date"]).dt.days
        crit = pd.DataFrame({
            "reviewed": (age <= 180).fillna(False).astype(bool),
            "dm": ids.isin(list(roles["decision maker"])), "eb": ids.isin(list(roles["economic buyer"])),
            "ch": ids.isin(list(roles["champion"])), "no_overdue": overdue.reindex(ids).fillna(0).to_numpy() == 0,
        }, index=ids)
        texts = ["customer_profile", "situation_analysis", "strategies", "resource_allocation", "performance_monitoring"]
        elements = sum(p[c].fillna("").astype(str).str.strip().ne("").astype(int) for c in texts)
        elements = elements + ids.isin(list(has_goals)).astype(int) + ids.isin(list(has_actions)).astype(int)
        open_pipe = pipe.reindex(ids).fillna(0.0)
        return pd.DataFrame({
            "value_12m": value.reindex(ids).fillna(0.0), "open_pipeline": open_pipe,
            "potential": a["revenue_potential"].fillna(open_pipe),
            "coverage_score": crit.sum(axis=1) / 5, "overdue_actions": overdue.reindex(ids).fillna(0).astype(int),
            "plan_elements": elements, "plan_age_days": age,
        })

    out = {}
    t = time.perf_counter()
    out["accounts"] = _accounts_key(report("key"))
    out["accounts --scope all"] = _accounts_key(report("all"))

    # goals over the fiscal year of their due date
    metric_of = {w: k for k, words in GOAL_METRICS.items() for w in words}
    g = goals[goals["account_id"].isin(chosen("key")["account_id"])].copy()
    g["key"] = [metric_of.get(norm(m)) if isinstance(m, str) else None for m in g["metric"]]
    dd = pd.to_datetime(g["due_date"]).fillna(as_of - pd.Timedelta(days=1))
    fy = dd.dt.year + ((start_month > 1) & (dd.dt.month >= start_month)).astype(int)
    g["fy0"] = pd.to_datetime({"year": fy - (1 if start_month > 1 else 0), "month": start_month, "day": 1})
    g["fy1"] = g["fy0"] + pd.DateOffset(years=1)
    c = closed[closed["closed_date"] < as_of]
    m = g.merge(c[["account_id", "status", "closed_date", "amount_conv"]], on="account_id", how="left")
    m = m[(m["closed_date"] >= m["fy0"]) & (m["closed_date"] < m["fy1"])]
    won_m = m[m["status"] == "won"]
    by = ["account_id", "goal"]
    won_amount = won_m.groupby(by)["amount_conv"].sum()
    won_n = won_m.groupby(by).size()
    lost_n = m[m["status"] == "lost"].groupby(by).size()
    pm = g.merge(snap[["account_id", "close_date", "amount_base"]], on="account_id", how="left")
    pm = pm[(pm["close_date"] >= pm["fy0"]) & (pm["close_date"] < pm["fy1"])]
    pipe_fy = pm.groupby(by)["amount_base"].sum()
    gi = g.set_index(by)
    wn, ln = won_n.reindex(gi.index).fillna(0), lost_n.reindex(gi.index).fillna(0)
    values = {"won amount": won_amount.reindex(gi.index).fillna(0.0), "won deals": wn,
              "open pipeline": pipe_fy.reindex(gi.index).fillna(0.0),
              "win rate": (wn / (wn + ln)).where((wn + ln) > 0)}
    actual = pd.Series(np.nan, index=gi.index)
    for k, v in values.items():
        actual = actual.where(gi["key"] != k, v)
    target = gi["target_value"].where(~((gi["key"] == "win rate") & (gi["target_value"] > 1)), gi["target_value"] / 100)
    progress = (actual / target).where(gi["key"].notna() & (target > 0)).round(6)
    out["account-goals"] = _goals_key(pd.DataFrame({"actual": actual, "progress": progress}))
    compute = time.perf_counter() - t
    total = time.perf_counter() - t0
    return {"read_s": total - compute, "s": total, "peak_rss_mb": peak_rss_mb(), "keys": out}


def main() -> None:
    sides = run_sides(__file__, __doc__, role_generate, role_ours, role_pandas)
    if sides is None:
        return
    a, ours, pdx = sides
    print(f"key accounts, {a.deals:,} deals (seconds; each side its own process)")
    print(f"pandas: {pdx['s']:.2f} s for the three reports together, {pdx['read_s']:.2f} s of it reading and "
          "preparing the parquet files (the snapshot and conversions shared)")
    rows, bad = [], []
    for name in [k for k in ours if k != "peak_rss_mb"]:
        o = ours[name]
        p = pdx["keys"].get(name)
        agree = "—" if p is None else ("yes" if o["key"] == p else "NO")
        if agree == "NO":
            bad.append(f"{name}: ours {o['key']} pandas {p}")
        rows.append((name, f"{o['cold_s']:.2f}", f"{o['warm_s']:.2f}", agree))
    print_table(("report", "ours cold", "ours warm", "agrees with pandas"), rows)
    for name in ("accounts", "accounts --scope all", "account-goals"):
        record(f"{name}, warm", ours[name]["warm_s"], None, "< 1 s", ours[name]["warm_s"] < 1)
    together = sum(ours[k]["warm_s"] for k in ("accounts", "accounts --scope all", "account-goals"))
    print(f"the three reports warm together: ours {together:.2f} s, pandas {pdx['s']:.2f} s "
          f"({pdx['s'] / together:.1f}×)")
    record("accounts, account-goals together", together, pdx["s"], ">= 5x", pdx["s"] / together >= 5)
    print(f"peak RSS: ours {ours['peak_rss_mb']:,.0f} MB, pandas {pdx['peak_rss_mb']:,.0f} MB")
    if bad:
        sys.exit("the two sides disagree:\n" + "\n".join(bad))


if __name__ == "__main__":
    main()
