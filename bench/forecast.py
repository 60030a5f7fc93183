"""Benchmark: the forecasting reports at scale, beside a plain pandas implementation.

    python bench/forecast.py --deals 1000000

Each side runs in its own process and reports its own peak RSS:
  1. generate + load the demo world (shared with bench/velocity.py) unless --workdir holds one
     of that size, and export deals, history, fx rates and quotas to parquet
  2. ours: each report cold (first run in a fresh process) and warm (best of two more), each
     on its own connection
  2b. the Forecast page in AppTest (its own process): opened, then the as-of changed to a new
     date; the rerun's time is the page's as-of change (every as-of report uncached)
  3. pandas: the same reports from the parquet files. The history is sorted and the
     same-timestamp rule applied once, outside the timings (what our derived deal_states
     table holds); each report then takes its snapshots with groupby/merge
The key figures are compared (equal, or for forecast-range within 2 %: other random streams).
pacing runs on a whole 13-week quarter (PACE_PERIOD as of PACE_AS_OF: 14 points and four past
quarters); its pandas side places each state of the history once, as an interval, and masks it
at every point (a snapshot per point with groupby would take minutes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common import ROOT, child, export_parquet, parser, peak_rss_mb, print_table, record, report_target, run_role

sys.path.insert(0, str(ROOT))

PERIOD, PAST, WF_FROM = "FY2026-Q4", "FY2026-Q3", "2026-10-01"
PACE_PERIOD, PACE_AS_OF = "FY2026-Q3", "2026-09-30"     # 13 weekly points and the as-of
LIMITS = {"forecast-range": 3, "pacing": 2}              # seconds, warm; the others 1 s


def role_generate(workdir: Path, deals: int) -> dict:
    from velocity import role_generate as generate

    out = generate(workdir, deals)
    from kam_analytics import db

    with db.read(workdir / "velocity.duckdb") as con:
        export_parquet(con, workdir, {
            "f_deals": "select deal_id, owner, created_date, close_date, closed_date, stage, amount, currency, "
                       "forecast_category from deals",
            "f_history": "select deal_id, changed_at, stage, amount, close_date, forecast_category, shape, seq "
                         "from deal_history",
            "f_fx": "select * exclude (batch_id) from fx_rates",
            "f_quotas": "select * exclude (batch_id) from quotas",
        })
    return out


def _reports():
    from kam_analytics.reports import forecast_quality as q
    from kam_analytics.reports import forecasting as f
    from kam_analytics.reports import pacing as pc

    return {
        "pipeline": lambda con: f.pipeline(con),
        "pushes": lambda con: f.pushes(con),
        "slippage": lambda con: f.slippage(con, PAST),
        "waterfall": lambda con: f.waterfall(con, period=PERIOD),
        "forecast-accuracy": lambda con: q.forecast_accuracy(con, PAST),
        "attainment": lambda con: q.attainment(con, PERIOD),
        "forecast-range": lambda con: q.forecast_range(con, PERIOD),
        "pacing": lambda con: pc.pacing(con, PACE_PERIOD, PACE_AS_OF),
    }


def _key(name, df) -> dict:
    """The figures both sides must agree on."""
    if name == "pipeline":
        return {"deals": int(df["deals"].sum()), "amount": round(float(df["amount"].sum()))}
    if name == "pushes":
        return {"deals": len(df), "pushes": int(df["pushes"].sum()), "pull_ins": int(df["pull_ins"].sum()),
                "days_pushed": int(df["days_pushed"].sum())}
    if name == "slippage":
        r = df.iloc[0]
        return {k: round(float(r[k])) for k in ("expected_deals", "expected_amount", "won_amount", "lost_amount",
                                                 "slipped_amount", "open_amount")}
    if name == "waterfall":
        return {r["category"]: round(float(r["amount"])) for r in df.to_dict("records")}
    if name == "forecast-accuracy":
        r = df.iloc[0]
        return {k: round(float(r[k])) for k in ("commit_forecast", "best_case_forecast", "weighted_forecast", "actual")}
    if name == "attainment":
        return {"quota": round(float(df["quota"].sum())), "won": round(float(df["won_amount"].sum())),
                "open": round(float(df["open_amount"].sum()))}
    if name == "pacing":
        first, mid, last = df.iloc[0], df.iloc[len(df) // 2], df.iloc[-1]
        out = {f"{k}_{at}": round(float(r[k])) for at, r in (("first", first), ("mid", mid), ("last", last))
               for k in ("won_so_far", "commit_forecast", "best_case_forecast", "weighted_forecast")}
        out.update({f"share_{at}_ppm": round(1e6 * float(r[k])) for at, r in (("mid", mid), ("last", last))
                    for k in ("typical_won_share", "typical_won_share_low", "typical_won_share_high")})
        out["pipeline_needed"] = None if last["pipeline_needed"] != last["pipeline_needed"] \
            else round(float(last["pipeline_needed"]))
        return out
    r = df.iloc[0]
    return {k: round(float(r[k])) for k in ("p10", "p50", "p90", "commit_forecast", "weighted_forecast")}


def role_ours(workdir: Path) -> dict:
    from common import cold_and_warm

    from kam_analytics import db, derived

    path = workdir / "velocity.duckdb"
    out = {}
    for name, func in _reports().items():
        df, cold, warm = cold_and_warm(path, func, runs=2)
        out[name] = {"cold_s": cold, "warm_s": warm, "key": _key(name, df)}
    with db.read(path) as con:
        out["as_of"] = str(derived.default_as_of(con).date())
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def role_page(workdir: Path) -> dict:
    """The Forecast page itself (Streamlit's AppTest runs the script as a browser session
    would, minus the browser): opened at the data's date, then the as-of changed to a date
    not seen before, so the rerun reads every as-of-dependent report uncached."""
    import os
    from datetime import date

    from streamlit.testing.v1 import AppTest

    os.environ["KAM_DB"] = str(workdir / "velocity.duckdb")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["period"] = PERIOD
    at.run()
    at.switch_page("views/forecast.py")
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    at.date_input(key="fc-as-of").set_value(date(2026, 11, 2))
    t = time.perf_counter()
    at.run()
    change = time.perf_counter() - t
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    return {"first_open_s": first, "as_of_change_s": change, "problems": problems, "peak_rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------- plain pandas


class Pandas:
    """The reports in plain pandas, from the parquet files."""

    def __init__(self, workdir: Path):
        import pandas as pd

        self.pd = pd
        d = pd.read_parquet(workdir / "f_deals.parquet")
        for c in ("created_date", "close_date", "closed_date"):
            d[c] = pd.to_datetime(d[c])
        d["currency"] = d["currency"].fillna("EUR").str.upper()
        self.deals = d
        h = pd.read_parquet(workdir / "f_history.parquet")
        h["close_date"] = pd.to_datetime(h["close_date"])
        h = h.sort_values(["deal_id", "changed_at", "seq"], kind="stable")
        h = h.drop_duplicates(["deal_id", "changed_at"], keep="last")      # the same-timestamp rule
        h = h[h["deal_id"].isin(d["deal_id"])]
        h["previous_close_date"] = h.groupby("deal_id")["close_date"].shift()
        h["next_at"] = h.groupby("deal_id")["changed_at"].shift(-1)        # deal_states' next_at, row_no
        h["row_no"] = h.groupby("deal_id").cumcount() + 1
        self.hist = h.reset_index(drop=True)
        self.fx = pd.read_parquet(workdir / "f_fx.parquet")
        self.fx["valid_from"] = pd.to_datetime(self.fx["valid_from"])
        self.fx["currency"] = self.fx["currency"].str.upper()
        self.quotas = pd.read_parquet(workdir / "f_quotas.parquet")
        self.stages = ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation"]
        self.won, self.lost = {"Closed Won"}, {"Closed Lost"}
        dates = [self.hist["changed_at"].max(), d["created_date"].max(), d["closed_date"].max()]
        self.now = pd.Timestamp(max(x for x in dates if x == x).date()) + pd.Timedelta(days=1)

    def status(self, stage):
        return stage.map(lambda s: "won" if s in self.won else "lost" if s in self.lost else "open")

    def convert(self, df):
        """amount in EUR: the rate valid at the close date, else the latest."""
        pd = self.pd
        out = df.copy()
        out["amount_base"] = out["amount"].where(out["currency"] == "EUR")
        foreign = out[(out["currency"] != "EUR")]
        if len(foreign):
            latest = self.fx.sort_values("valid_from").groupby("currency")["rate"].last()
            dated = foreign[foreign["close_date"].notna()].sort_values("close_date")
            m = pd.merge_asof(dated[["close_date", "currency"]].reset_index(), self.fx.sort_values("valid_from"),
                              left_on="close_date", right_on="valid_from", by="currency").set_index("index")
            rate = foreign["currency"].map(latest)
            rate.loc[m.index] = m["rate"].fillna(rate.loc[m.index])
            out.loc[foreign.index, "amount_base"] = foreign["amount"] * rate
        return out

    def snapshot(self, t):
        pd = self.pd
        h = self.hist
        before = h[h["changed_at"] < t].groupby("deal_id").tail(1)
        first = h.groupby("deal_id").head(1)
        first = first[~first["deal_id"].isin(before["deal_id"])]
        picked = pd.concat([before, first])[["deal_id", "stage", "amount", "close_date", "forecast_category", "shape"]]
        d = self.deals[self.deals["created_date"] < t]
        s = d.merge(picked, on="deal_id", how="left", suffixes=("_cur", ""))
        use_cur = s["shape"].isna() | (s["shape"] == "wide")
        s["stage"] = s["stage"].fillna(s["stage_cur"])
        for c in ("amount", "close_date", "forecast_category"):
            s[c] = s[c + "_cur"].where(use_cur, s[c])
        s["status"] = self.status(s["stage"])
        return self.convert(s[["deal_id", "owner", "stage", "status", "amount", "close_date", "forecast_category",
                               "currency", "closed_date"]])

    def bounds(self, period):
        from kam_analytics import periods

        p0, p1 = periods.bounds(period)
        return self.pd.Timestamp(p0), self.pd.Timestamp(p1)

    def pipeline(self):
        s = self.snapshot(self.now)
        s = s[s["status"] == "open"].copy()
        s["period"] = ("FY" + s["close_date"].dt.year.astype("Int64").astype(str) + "-Q"
                       + ((s["close_date"].dt.month - 1) // 3 + 1).astype("Int64").astype(str))
        return (s.groupby(["stage", "forecast_category", "period"], dropna=False)
                .agg(deals=("deal_id", "size"), amount=("amount_base", "sum")).reset_index())

    def pushes(self):
        h = self.hist[self.hist["changed_at"] < self.now]
        moved = h[h["previous_close_date"].notna() & h["close_date"].notna()]
        days = (moved["close_date"] - moved["previous_close_date"]).dt.days
        per = self.pd.DataFrame({"deal_id": moved["deal_id"], "push": days > 0, "pull": days < 0,
                                 "days": days.where(days > 0, 0)})
        agg = per.groupby("deal_id").agg(pushes=("push", "sum"), pull_ins=("pull", "sum"), days_pushed=("days", "sum"))
        snap = self.snapshot(self.now)[["deal_id"]]
        out = snap.merge(agg.reset_index(), on="deal_id", how="left").fillna(0)
        return out.sort_values(["pushes", "days_pushed"], ascending=False)

    def slippage(self, period):
        p0, p1 = self.bounds(period)
        s0 = self.snapshot(p0)
        x = s0[(s0["status"] == "open") & (s0["close_date"] >= p0) & (s0["close_date"] < p1)]
        ended = p1 <= self.now
        s1 = self.snapshot(p1 if ended else self.now).set_index("deal_id").reindex(x["deal_id"])
        closed_in = s1["status"].isin(["won", "lost"]) & (s1["closed_date"].fillna(s1["close_date"]) < p1)
        outcome = s1["status"].where(closed_in, "slipped" if ended else "open")
        if not ended:
            outcome = outcome.where(~((outcome == "open") & (s1["close_date"] >= p1)), "slipped")
        amt = x.set_index("deal_id")["amount_base"]
        return self.pd.DataFrame([{"expected_deals": len(x), "expected_amount": amt.sum(),
                                   **{f"{o}_amount": amt[outcome == o].sum() for o in ("won", "lost", "slipped", "open")}}])

    def waterfall(self, period, t0, t1):
        pd = self.pd
        w0, w1 = self.bounds(period)
        s0 = self.snapshot(t0).set_index("deal_id")
        s1 = self.snapshot(t1).set_index("deal_id")
        h = self.hist
        inwin = h[(h["changed_at"] >= t0) & (h["changed_at"] < t1)]
        reopened = set(inwin.loc[self.status(inwin["stage"]) == "open", "deal_id"])
        s0 = s0.reindex(s1.index)
        existed = s0["stage"].notna()
        in_w0 = (s0["close_date"] >= w0) & (s0["close_date"] < w1)
        in_w1 = (s1["close_date"] >= w0) & (s1["close_date"] < w1)
        in_start = existed & (s0["status"] == "open") & in_w0
        in_end = (s1["status"] == "open") & in_w1
        closed_in = (s1["status"] != "open") & (~existed | (s0["status"] == "open") | s1.index.isin(reopened))
        keep = in_start | in_end | (closed_in & in_w1)
        a0, a1 = s0["amount_base"].fillna(0), s1["amount_base"].fillna(0)
        left = pd.Series("pushed_out", index=s1.index).where(~in_end, "end")
        left = left.where(~closed_in, s1["status"])
        entered = pd.Series("new", index=s1.index).where(~existed, "pulled_in").where(~in_start, "start")
        change = (a1 - a0).where(in_start, 0)
        k = keep
        rows = {"start": a0[k & in_start].sum(), "new": a1[k & (entered == "new")].sum(),
                "pulled_in": a1[k & (entered == "pulled_in")].sum(), "increased": change[k & (change > 0)].sum(),
                "decreased": -change[k & (change < 0)].sum()}
        for c in ("pushed_out", "won", "lost", "end"):
            rows[c] = a1[k & (left == c)].sum()
        return pd.DataFrame([{"category": c, "amount": v} for c, v in rows.items()])

    def win_rates(self, a):
        """Win rate from each open stage among deals closed before a (docs/metrics.md)."""
        h = self.hist[self.hist["changed_at"] < a]
        last = h.groupby("deal_id").tail(1)
        closed = last[last["stage"].isin(self.won | self.lost)]
        pos = {s: i + 1 for i, s in enumerate(self.stages)}
        hh = h[h["deal_id"].isin(closed["deal_id"])]
        furthest = hh["stage"].map(pos).groupby(hh["deal_id"]).max().fillna(0)
        c = closed.set_index("deal_id")
        won = c["stage"].isin(self.won)
        f = furthest.reindex(c.index).fillna(0)
        return {s: won.sum() / (won.sum() + ((~won) & (f >= i)).sum()) for s, i in pos.items()}

    def accuracy(self, period):
        p0, p1 = self.bounds(period)
        s = self.snapshot(p0)
        rates = self.win_rates(p0)
        inp = (s["status"] == "open") & (s["close_date"] >= p0) & (s["close_date"] < p1)
        won_by = s.loc[(s["status"] == "won") & (s["closed_date"] >= p0) & (s["closed_date"] < p0), "amount_base"].sum()
        fc = s["forecast_category"].str.lower().str.replace(" ", "")
        commit = won_by + s.loc[inp & (fc == "commit"), "amount_base"].sum()
        best = won_by + s.loc[inp & fc.isin(["commit", "bestcase"]), "amount_base"].sum()
        weighted = won_by + (s.loc[inp, "amount_base"] * s.loc[inp, "stage"].map(rates).fillna(0)).sum()
        d = self.deals
        won = self.convert(d[(d["stage"].isin(self.won)) & (d["closed_date"] >= p0) & (d["closed_date"] < p1)])
        return self.pd.DataFrame([{"commit_forecast": commit, "best_case_forecast": best,
                                   "weighted_forecast": weighted, "actual": won["amount_base"].sum()}])

    def attainment(self, period):
        p0, p1 = self.bounds(period)
        s = self.snapshot(self.now)
        won = s[(s["status"] == "won") & (s["closed_date"] >= p0) & (s["closed_date"] < p1)
                & (s["closed_date"] < self.now)].groupby("owner")["amount_base"].sum()
        open_ = s[(s["status"] == "open") & (s["close_date"] >= p0) & (s["close_date"] < p1)].groupby("owner")[
            "amount_base"].sum()
        q = self.quotas[self.quotas["period"] == period].groupby("owner")["amount"].sum()
        rows = self.pd.DataFrame({"quota": q, "won_amount": won.reindex(q.index).fillna(0),
                                  "open_amount": open_.reindex(q.index).fillna(0)})
        no_quota = won.index.union(open_.index).difference(q.index)      # the "(no quota)" row
        if len(no_quota):
            rows.loc["(no quota)"] = [float("nan"), won.reindex(no_quota).fillna(0).sum(),
                                      open_.reindex(no_quota).fillna(0).sum()]
        return rows

    def forecast_range(self, period, runs=10_000, seed=11):
        import numpy as np

        pd = self.pd
        p0, p1 = self.bounds(period)
        a = self.now
        remaining = (p1 - a).total_seconds()
        s = self.snapshot(a)
        due = s[(s["status"] == "open") & (s["close_date"] < p1)]
        h = self.hist[self.hist["changed_at"] < a]
        # visits: runs of one stage; their start, end and the deal's closing time
        new_visit = h["stage"] != h.groupby("deal_id")["stage"].shift()
        v = h[new_visit][["deal_id", "stage", "changed_at"]].rename(columns={"changed_at": "start"})
        v["end"] = v.groupby("deal_id")["start"].shift(-1)
        closings = v[v["stage"].isin(self.won | self.lost)].groupby("deal_id")["start"].min()
        v["closed_at"] = v["deal_id"].map(closings)
        cur = v.groupby("deal_id").tail(1).set_index("deal_id")
        start = cur["start"].reindex(due["deal_id"])     # no visit yet: from created_date
        start = start.fillna(self.deals.set_index("deal_id")["created_date"].reindex(due["deal_id"]))
        age = (a - start).dt.total_seconds().clip(lower=0) / 86400
        due = due.assign(age_bin=(age // 30).astype(int).to_numpy())
        rates = self.win_rates(a)
        dur = (v["end"].fillna(a).clip(upper=a) - v["start"]).dt.total_seconds()
        obs_room = (a - v["start"]).dt.total_seconds() - remaining
        probs = {}
        for stage in self.stages:
            vs = v["stage"] == stage
            for b in sorted(set(due.loc[due["stage"] == stage, "age_bin"]) | {0}):
                reach = v["start"] + pd.to_timedelta(b * 30, unit="D")
                pop = vs & (dur >= b * 30 * 86400) & (obs_room >= b * 30 * 86400)
                closed = pop & (v["closed_at"] <= reach + pd.to_timedelta(remaining, unit="s"))
                probs[(stage, b)] = (int(pop.sum()), int(closed.sum()))
        q = []
        for stage, b in zip(due["stage"], due["age_bin"]):
            n, c = probs.get((stage, b), (0, 0))
            if n < 5:
                n, c = probs.get((stage, 0), (0, 0))
            q.append(rates.get(stage, 0) * (c / n if n and remaining > 0 else 0.0))
        q = np.array(q)
        amounts = due["amount_base"].fillna(0).to_numpy()
        rng = np.random.default_rng(seed)
        totals = np.zeros(runs)
        for i in range(0, len(q), 1024):
            totals += (rng.random((runs, len(q[i:i + 1024]))) < q[i:i + 1024]) @ amounts[i:i + 1024]
        won_by = s.loc[(s["status"] == "won") & (s["closed_date"] >= p0) & (s["closed_date"] < p1)
                       & (s["closed_date"] < a), "amount_base"].sum()              # won IN P before a
        totals += won_by
        p10, p50, p90 = np.quantile(totals, [0.1, 0.5, 0.9], method="inverted_cdf")
        fc = s["forecast_category"].str.lower().str.replace(" ", "")
        inp = (s["status"] == "open") & (s["close_date"] >= p0) & (s["close_date"] < p1)
        return pd.DataFrame([{"p10": p10, "p50": p50, "p90": p90,
                              "commit_forecast": won_by + s.loc[inp & (fc == "commit"), "amount_base"].sum(),
                              "weighted_forecast": won_by + (s.loc[inp, "amount_base"]
                                                             * s.loc[inp, "stage"].map(rates).fillna(0)).sum()}])

    def pacing(self, period, as_of):
        """docs/metrics.md "Pacing": every state of the history as an interval (lo, hi], masked at each
        point of the period and of its last four past quarters that won anything."""
        import numpy as np

        from kam_analytics import periods

        pd = self.pd
        p0, p1 = self.bounds(period)
        a = pd.Timestamp(as_of)
        weeks = 0
        while p0 + pd.Timedelta(days=7 * weeks) < min(a, p1):
            weeks += 1
        offset = a - p0
        d = self.deals
        first = min(d["created_date"].min(), d["closed_date"].min())
        past, name = [], period
        for _ in range(12):
            name = periods.previous(name)
            q0, q1 = self.bounds(name)
            if q1 <= first:
                break
            past.append((name, q0, q1))
        starts = [p0] + [q0 for _, q0, _ in past]
        # the states: history rows with the deal's fields (wide rows take the current amount etc.)
        s = self.hist.merge(d[["deal_id", "created_date", "closed_date", "currency", "stage", "amount", "close_date",
                               "forecast_category"]], on="deal_id", suffixes=("", "_cur"))
        wide = s["shape"] == "wide"
        for c in ("amount", "close_date", "forecast_category"):
            s[c] = s[c + "_cur"].where(wide, s[c])
        s["stage"] = s["stage"].fillna(s["stage_cur"])
        s["lo"] = s["created_date"].where(s["row_no"] == 1, np.maximum(s["changed_at"], s["created_date"]))
        s = s[s["created_date"].notna() & (s["created_date"] < a) & ((s["changed_at"] < a) | (s["row_no"] == 1))
              & (s["next_at"].isna() | (s["next_at"] >= min(starts)))]
        s["status"] = self.status(s["stage"])
        won = s["status"] == "won"
        key = s["closed_date"].where(won, s["close_date"])
        s = s[(won | (s["status"] == "open")) & (key >= min(starts)) & (key < p1)].copy()
        key = key.loc[s.index]
        ascending = np.array(sorted(starts), dtype="datetime64[ns]")     # pid 0: P, then the latest first
        s["pid"] = len(starts) - np.searchsorted(ascending, key.to_numpy(dtype="datetime64[ns]"), side="right")
        s = self.convert(s)
        won = s["status"] == "won"
        s["lo_counted"] = s["lo"].where(~won, np.maximum(s["lo"], s["closed_date"]))
        s["category"] = s["forecast_category"].fillna("").str.lower().str.replace(r"[^a-z0-9]", "", regex=True)

        def at(rows, t):
            return rows[(rows["lo_counted"] < t) & (rows["hi"].isna() | (rows["hi"] >= t))]

        s["hi"] = s["next_at"]
        points = [p0 + pd.Timedelta(days=7 * k) for k in range(weeks)] + [a]
        rates = self._rates_at(points)
        own = s[s["pid"] == 0]
        rows = []
        for i, t in enumerate(points):
            x = at(own, t)
            w = x.loc[x["status"] == "won", "amount_base"].sum()
            o = x[x["status"] == "open"]
            rows.append({"week_start": t, "won_so_far": w,
                         "commit_forecast": w + o.loc[o["category"] == "commit", "amount_base"].sum(),
                         "best_case_forecast": w + o.loc[o["category"].isin(["commit", "bestcase"]),
                                                         "amount_base"].sum(),
                         "weighted_forecast": w + (o["amount_base"] * o["stage"].map(rates[i]).fillna(0)).sum()})
        used = []
        for pid, (pname, q0, _) in enumerate(past, start=1):
            mine = s[s["pid"] == pid]
            end = at(mine, a)
            final = end.loc[end["status"] == "won", "amount_base"].sum()
            if final <= 0:
                continue
            shares = [at(mine, q0 + (t - p0)).pipe(lambda x: x.loc[x["status"] == "won", "amount_base"].sum()) / final
                      for t in points]
            due = at(mine, q0 + offset)
            due = due[due["status"] == "open"]
            went = due.loc[due["deal_id"].isin(end.loc[end["status"] == "won", "deal_id"]), "amount_base"].sum()
            due_amount = due["amount_base"].sum()
            used.append((shares, went / due_amount if due_amount else None))
            if len(used) == 4:
                break
        q = self.quotas
        q = q.assign(owner_key=q["owner"].str.lower().str.replace(r"[^a-z0-9]", "", regex=True),
                     p=q["period"].str.strip().str.upper())
        months = periods.months_of(period)
        own_q = q[q["p"] == period].groupby("owner_key")["amount"].sum()
        month_q = q[q["p"].isin(months)].groupby("owner_key")["amount"].sum()
        quota = own_q.combine_first(month_q).sum() if len(own_q) or len(month_q) else None
        out = pd.DataFrame(rows)
        for j, name in enumerate(("typical_won_share", "typical_won_share_low", "typical_won_share_high")):
            pick = (np.median, np.min, np.max)[j]
            out[name] = [pick([u[0][i] for u in used]) if used else None for i in range(len(points))]
        conversions = [u[1] for u in used if u[1] is not None]
        won_now = out["won_so_far"].iloc[-1]
        needed = (None if quota is None or not used else 0.0 if won_now >= quota
                  else (quota - won_now) / np.median(conversions) if conversions and np.median(conversions) else None)
        out["pipeline_needed"] = [None] * (len(out) - 1) + [needed]
        return out

    def _rates_at(self, points):
        """Win rate from each open stage among deals closed before each point (docs/metrics.md): the
        visits (runs of one stage) once, each lost one with the furthest open stage before it."""
        pd = self.pd
        h = self.hist
        new_visit = h["stage"] != h.groupby("deal_id")["stage"].shift()
        v = h[new_visit][["deal_id", "stage", "changed_at"]].rename(columns={"changed_at": "start"})
        v["end"] = v.groupby("deal_id")["start"].shift(-1)
        pos = {s: i + 1 for i, s in enumerate(self.stages)}
        v["pos"] = v["stage"].map(pos)
        reached = v.groupby("deal_id")["pos"].cummax()
        v["furthest"] = reached.groupby(v["deal_id"]).ffill().groupby(v["deal_id"]).shift().fillna(0)
        won_v, lost_v = v[v["stage"].isin(self.won)], v[v["stage"].isin(self.lost)]
        out = []
        for t in points:
            w = int(((won_v["start"] < t) & (won_v["end"].isna() | (won_v["end"] >= t))).sum())
            lost = lost_v[(lost_v["start"] < t) & (lost_v["end"].isna() | (lost_v["end"] >= t))]["furthest"]
            out.append({s: (w / (w + int((lost >= i).sum())) if w + int((lost >= i).sum()) else None)
                        for s, i in pos.items()})
        return [{k: v for k, v in r.items() if v is not None} for r in out]


def role_pandas(workdir: Path) -> dict:
    t = time.perf_counter()
    p = Pandas(workdir)
    prepare = time.perf_counter() - t
    runs = {
        "pipeline": p.pipeline, "pushes": p.pushes, "slippage": lambda: p.slippage(PAST),
        "waterfall": lambda: p.waterfall(PERIOD, p.pd.Timestamp(WF_FROM), p.now),
        "forecast-accuracy": lambda: p.accuracy(PAST), "attainment": lambda: p.attainment(PERIOD),
        "forecast-range": lambda: p.forecast_range(PERIOD),
        "pacing": lambda: p.pacing(PACE_PERIOD, PACE_AS_OF),
    }
    out = {"prepare_s": prepare}
    for name, fn in runs.items():
        t = time.perf_counter()
        df = fn()
        out[name] = {"s": time.perf_counter() - t, "key": _key(name, df)}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _agree(name, ours: dict, theirs: dict) -> str:
    if name == "forecast-range":
        ok = all(abs(ours[k] - theirs[k]) <= 0.02 * max(1, abs(theirs[k])) for k in ours)
    else:
        ok = all(ours[k] == theirs.get(k) if ours[k] is None or theirs.get(k) is None
                 else abs(ours[k] - theirs[k]) <= 1 for k in ours)
    return "yes" if ok else "NO"


def main() -> None:
    ap = parser(__doc__, ("generate", "ours", "page", "pandas"))
    a = ap.parse_args()
    if run_role(a, {"generate": lambda: role_generate(a.workdir, a.deals), "ours": lambda: role_ours(a.workdir),
                    "page": lambda: role_page(a.workdir),
                    "pandas": lambda: role_pandas(a.workdir)}):
        return
    child(__file__, "generate", a.workdir, "--deals", str(a.deals))
    ours = child(__file__, "ours", a.workdir)
    page = child(__file__, "page", a.workdir)
    pdx = child(__file__, "pandas", a.workdir)
    rows = []
    for name in _reports():
        o, p = ours[name], pdx[name]
        rows.append((name, f"{o['cold_s']:.2f}", f"{o['warm_s']:.2f}", f"{p['s']:.2f}",
                     f"{p['s'] / o['warm_s']:.1f}×", _agree(name, o["key"], p["key"])))
    print(f"forecasting reports, {a.deals:,} deals, data as of {ours['as_of']} (seconds; each side its own process)")
    print_table(("report", "ours cold", "ours warm", "pandas", "speed-up (warm)", "agree"), rows)
    print(f"Forecast page (AppTest, its own process): first open {page['first_open_s']:.2f} s; as-of changed to "
          f"a new date {page['as_of_change_s']:.2f} s; peak RSS {page['peak_rss_mb']:,.0f} MB"
          + (f"; PROBLEMS: {page['problems']}" if page["problems"] else ""))
    for name in _reports():
        report_target(f"{name}, warm", ours[name]["warm_s"], pdx[name]["s"], LIMITS.get(name, 1),
                      None if name == "forecast-range" else 5)
    record("Forecast page, as-of changed", page["as_of_change_s"], None, "< 2 s", page["as_of_change_s"] < 2)
    record("forecasting peak RSS", ours["peak_rss_mb"], pdx["peak_rss_mb"], "< 1,500 MB", ours["peak_rss_mb"] < 1500,
           "MB")
    print(f"pandas prepare (read parquet, sort, same-timestamp rule; not in its timings): {pdx['prepare_s']:.2f} s")
    print(f"peak RSS: ours {ours['peak_rss_mb']:,.0f} MB, pandas {pdx['peak_rss_mb']:,.0f} MB")
    for name in _reports():
        if _agree(name, ours[name]["key"], pdx[name]["key"]) != "yes":
            print(f"  {name}: ours {ours[name]['key']} vs pandas {pdx[name]['key']}")


if __name__ == "__main__":
    main()
