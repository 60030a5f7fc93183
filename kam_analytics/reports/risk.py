"""Deals at risk (DESIGN.md "Risk flags") and the flags' back-test on the team's own closed
deals (DESIGN.md "Risk back-test"). Both read sql/risk.sql, which takes the facts behind every
flag at any number of as-of dates in one pass; this module words each flag as one sentence
with its numbers, scores and bands the deals, and sums the back-test."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from .. import closing_plan, dims, models, periods, settings
from ..dates import end_of, parse_date, start_of
from ..errors import UsageError

RISK_KEYS = ("deal_id", "score", "band", "flags", "reasons")
RISK_EXTRA = ("deal_name", "owner", "segment", "account_id", "stage", "amount", "close_date", "realistic_close_date",
              "current_values")
BACKTEST_KEYS = ("flag", "evaluations", "flagged_deals", "win_rate_flagged", "win_rate_unflagged", "lift",
                 "median_days_before_close")
BACKTEST_EXTRA = ("flagged_evaluations", "current_values", "weight", "threshold")
# every flag, in the order pages and reasons list them
FLAGS = ("stalled", "past_close_date", "behind_schedule", "overdue_buyer_steps", "pushed_repeatedly",
         "amount_dropped", "overdue_seller_steps", "no_plan", "unsigned_plan", "no_champion", "no_economic_buyer",
         "single_threaded", "stale")
# flags resting on facts without dates: the account map, the deal's champion and economic
# buyer fields, and the steps' due dates and statuses are today's (DESIGN.md)
CURRENT_VALUES = ("overdue_buyer_steps", "overdue_seller_steps", "no_champion", "no_economic_buyer", "single_threaded")
LABELS = {
    "stalled": "Stalled", "past_close_date": "Past close date", "behind_schedule": "Behind schedule",
    "overdue_buyer_steps": "Overdue buyer-side steps", "pushed_repeatedly": "Pushed repeatedly",
    "amount_dropped": "Amount dropped", "overdue_seller_steps": "Overdue seller-side steps", "no_plan": "No plan",
    "unsigned_plan": "Mutual plan unsigned", "no_champion": "No champion", "no_economic_buyer": "No economic buyer",
    "single_threaded": "Single-threaded", "stale": "Stale",
}
# DESIGN.md's definition of each flag, for help texts
DEFINITIONS = {
    "stalled": "age of the current open visit > p90 of the completed durations of that stage (the configured "
               "revisit rule)",
    "past_close_date": "close_date < as_of",
    "pushed_repeatedly": "≥ {pushed_repeatedly_pushes} pushes or ≥ {pushed_repeatedly_days} days pushed in total",
    "amount_dropped": "amount ≤ {amount_dropped_share:.0%} of its peak",
    "overdue_buyer_steps": "overdue plan steps, buyer-side (not completed, not rejected, due date before the as-of)",
    "overdue_seller_steps": "overdue plan steps, seller-side (and joint)",
    "no_plan": "no plan at or after {no_plan_stage}",
    "unsigned_plan": "mutual plan unsigned (by both sides) at or after {unsigned_plan_stage}",
    "no_champion": "no champion (from the deal or the account map)",
    "no_economic_buyer": "no economic buyer (from the deal or the account map)",
    "single_threaded": "fewer than {single_threaded_contacts} buyer contacts (the account's stakeholders other "
                       "than blockers)",
    "behind_schedule": "as_of + the remaining time (max(0, median of the current stage − its age) + the medians of "
                       "the later open stages that at least half of comparable won deals passed through) > "
                       "close_date",
    "stale": "no history row and no plan-step change for {stale_days} days",
}


def definition(flag: str, risk_conf: dict) -> str:
    return DEFINITIONS[flag].format(**{k: v for k, v in risk_conf.items() if not isinstance(v, dict)})


def _stats_sql(con, as_ofs: list[datetime], conf: dict, cfg) -> tuple[str, dict]:
    """sql/stage_stats.sql at the as-ofs: its materialised table when it was built for the one
    as-of asked, else computed live (the back-test's quarter starts, all in one query)."""
    if len(as_ofs) == 1 and models.get_meta(con, "stage_stats_key") == closing_plan._stats_key(as_ofs[0], conf, cfg):
        return "select s.*, a.as_of from stage_stats s cross join as_ofs a", {}
    # computed on its own first (a temp table): one query holding both needs twice the memory.
    # One as-of at a time: the per-stage quantiles are holistic aggregates DuckDB cannot spill,
    # and 8 quarter starts at 1,000,000 deals together need more than the 1 GB cap (bench/risk.py)
    query, dim = closing_plan._stats_query(con, conf)
    for i, as_of in enumerate(as_ofs):
        con.execute(f"create or replace temp table kam_risk_stats as {query}" if i == 0 else
                    f"insert into temp.kam_risk_stats {query}", closing_plan._stats_params(cfg, [as_of], dim))
    return "select * from temp.kam_risk_stats", {}


def facts(con: duckdb.DuckDBPyConnection, as_ofs: list[datetime], conf: dict | None = None,
          closed_since: bool = False, only_mutual: bool = False, account_id: str | None = None) -> pd.DataFrame:
    """sql/risk.sql: one row per (as_of, deal open then) with every flag's facts and flags.
    With `closed_since` (the back-test) only the deals closed by now, and only the columns
    the back-test sums: a quarter of the rows and a fifth of the columns to hand to pandas.
    With `only_mutual` only the deals that have a mutual plan (map-health); with `account_id`
    only that account's deals (the Account page)."""
    conf = conf or settings.load(con)
    cfg = settings.stage_config(con, conf)
    r = conf["risk"]
    stats, stats_params = _stats_sql(con, as_ofs, conf, cfg)
    dim = dims.resolve(con, conf["comparable_by"], conf)
    query = (models.sql("risk").replace("{stage_stats}", stats).replace("{dim}", dim.expr)
             .replace("{joins}", dim.joins))
    position = {s: i for i, s in enumerate(cfg.open, start=1)}
    params = {
        "as_ofs": list(as_ofs), "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
        "open_stages": list(cfg.open), "min_visits": int(conf["comparable_min_visits"]),
        "push_count": int(r["pushed_repeatedly_pushes"]), "push_days": int(r["pushed_repeatedly_days"]),
        "drop_share": float(r["amount_dropped_share"]),
        # a configured stage not in the stage list: the flag cannot trip (said in the notes)
        "no_plan_pos": position.get(r["no_plan_stage"]), "unsigned_pos": position.get(r["unsigned_plan_stage"]),
        "min_contacts": int(r["single_threaded_contacts"]), "stale_days": float(r["stale_days"]),
        "only_mutual": bool(only_mutual), "account_id": account_id, **stats_params, **dim.params,
    }
    if closed_since:
        query = (f"select as_of, deal_id, status_now, closed_date, {', '.join(FLAGS)} from ({query}) "
                 "where status_now in ('won', 'lost')")
    return con.execute(query, models.used_params(query, params)).df()


def _score(df: pd.DataFrame, r: dict) -> tuple[np.ndarray, np.ndarray]:
    score = np.zeros(len(df))
    for f in FLAGS:
        score += df[f].to_numpy(dtype=bool) * float(r["weights"][f])
    band = np.where(score >= r["bands"]["high"], "high", np.where(score >= r["bands"]["medium"], "medium", "low"))
    return score, band


def _days(x) -> str:
    return f"{x:,.0f} day" + ("" if round(x) == 1 else "s")


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _day_text(values: pd.Series) -> list[str]:
    """Dates (or timestamps) as the pages write them: 2026-03-31, with the time when it has one."""
    ts = pd.to_datetime(values)
    has_time = (ts != ts.dt.normalize()).to_numpy()
    day, minute = ts.dt.strftime("%Y-%m-%d").tolist(), ts.dt.strftime("%Y-%m-%d %H:%M").tolist()
    return [m if t else d for d, m, t in zip(day, minute, has_time)]


class _Lists(dict):
    """A frame's columns as Python lists, each converted the first time a sentence needs it."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__()
        self.frame = frame

    def __missing__(self, name: str) -> list:
        self[name] = values = self.frame[name].tolist()
        return values


def _reasons(flag: str, d: pd.DataFrame, r: dict, rule: str, as_of: datetime) -> list[str]:
    """The flag's sentence with the numbers behind it, for each row of `d` (the rows where
    it tripped), built a column at a time: 80,000 deals take a fraction of a second."""
    col = _Lists(d)
    if flag == "stalled":
        return [f"Stalled: {_days(a)} in {s}; 90 % of the {n:,} deals' completed time in {s} was at most {_days(p)} "
                f"({rule} rule)" for s, a, p, n in zip(col["stage"], col["age_days"], col["p90_days"], col["p90_deals"])]
    if flag == "past_close_date":
        late = (pd.Timestamp(as_of.date()) - pd.to_datetime(d["close_date"])).dt.days.tolist()
        return [f"Past close date: the close date {c} was {_days(n)} before the as-of"
                for c, n in zip(_day_text(d["close_date"]), late)]
    if flag == "pushed_repeatedly":
        return [f"Pushed repeatedly: {_plural(p, 'push', 'pushes')}, {_days(x)} in total (flagged from "
                f"{r['pushed_repeatedly_pushes']} pushes or {r['pushed_repeatedly_days']} days)"
                for p, x in zip(col["pushes"], col["days_pushed"])]
    if flag == "amount_dropped":
        return [f"Amount dropped: {a:,.0f} is {a / p:.0%} of its peak {p:,.0f} (flagged at "
                f"{r['amount_dropped_share']:.0%} or less)" for a, p in zip(col["amount"], col["peak_amount"])]
    if flag in ("overdue_buyer_steps", "overdue_seller_steps"):
        buyer = flag == "overdue_buyer_steps"
        side = "buyer-side" if buyer else "seller-side or joint"
        return [f"{LABELS[flag]}: {_plural(n, side + ' step')} of the {'mutual' if m else 'closing'} plan past due "
                "and not completed (current due dates and statuses)"
                for n, m in zip(col["overdue_buyer" if buyer else "overdue_seller"], col["has_mutual"])]
    if flag == "no_plan":
        return [f"No plan: in {s}, at or after {r['no_plan_stage']}, with no closing or mutual plan" for s in col["stage"]]
    if flag == "unsigned_plan":
        return [f"Mutual plan unsigned: in {s}, at or after {r['unsigned_plan_stage']}, and "
                + ("its mutual plan is not signed by both sides" if m else "it has no mutual plan")
                for s, m in zip(col["stage"], col["has_mutual"])]
    if flag in ("no_champion", "no_economic_buyer"):
        return [f"{LABELS[flag]}: none named on the deal or on the account map (current values)"] * len(d)
    if flag == "single_threaded":
        return [f"Single-threaded: {_plural(n, 'buyer contact')} on the account map (stakeholders other than "
                f"blockers; flagged below {r['single_threaded_contacts']}) (current values)" for n in col["contacts"]]
    if flag == "behind_schedule":
        return [f"Behind schedule: {_days(x)} still to go by the medians of "
                f"{'the deal' + chr(39) + 's comparable group' if sc == 'group' else 'all deals'} gives {rc}, after "
                f"the close date {c}" for x, sc, rc, c in zip(col["remaining_days"], col["scope"],
                                                               _day_text(d["realistic_close_date"]),
                                                               _day_text(d["close_date"]))]
    if flag == "stale":
        return [f"Stale: no history row or plan change for {_days(q)} (since {since}; flagged from {r['stale_days']} "
                "days)" for q, since in zip(col["quiet_days"], _day_text(d["last_change_at"]))]
    raise ValueError(flag)


def risk(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every deal open at the as-of (default: the data's date) with its score, band, flags and
    one sentence per flag, the riskiest first."""
    conf = settings.load(con)
    r = conf["risk"]
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or models.default_as_of(con)
    df = facts(con, [as_of_ts], conf)
    score, band = _score(df, r)
    df["score"], df["band"] = score, band
    rule = conf["revisit_rule"]
    names, reasons = [[] for _ in range(len(df))], [[] for _ in range(len(df))]
    for f in FLAGS:
        rows = np.flatnonzero(df[f].to_numpy(dtype=bool))
        for i, text in zip(rows.tolist(), _reasons(f, df.iloc[rows], r, rule, as_of_ts) if len(rows) else []):
            names[i].append(f)
            reasons[i].append(text)
    df["flags"], df["reasons"] = names, reasons
    df["current_values"] = [[f for f in fs if f in CURRENT_VALUES] for fs in names]
    df = df.sort_values(["score", "amount", "deal_id"], ascending=[False, False, True], na_position="last")
    out = df[[*RISK_KEYS, *RISK_EXTRA]].reset_index(drop=True)
    out["score"] = out["score"].astype(float)
    notes = [f"Open deals as of {as_of_ts.date()}: score = the sum of the tripped flags' weights; band high from "
             f"{r['bands']['high']:g}, medium from {r['bands']['medium']:g}, else low.",
             "Flags marked current values rest on undated facts (the account map, champion and economic buyer, "
             "steps' due dates and statuses), taken as they are today."]
    cfg = settings.stage_config(con, conf)
    for key in ("no_plan_stage", "unsigned_plan_stage"):
        if r[key] not in cfg.open:
            notes.append(f"The {key.replace('_', ' ')} {r[key]!r} is not an open stage of the stage list, so that "
                         "flag cannot trip: change it on the Settings page.")
    out.attrs.update({"report": "risk", "as_of": as_of_ts, "notes": notes})
    return out


def quarter_starts(con, date_from, date_to, conf: dict, as_of=None) -> tuple[list[datetime], datetime, datetime]:
    """The fiscal-quarter starts in [from, to) (DESIGN.md: a window is [from 00:00, day after to
    00:00)). Default: the eight quarter starts before the as-of (the data's date)."""
    start_month = int(conf["fiscal_year_start_month"])
    t1 = (end_of(parse_date(date_to, "--to")) or start_of(parse_date(as_of, "--as-of"))
          or models.default_as_of(con))
    t0 = start_of(parse_date(date_from, "--from"))
    if t0 is None:
        name = periods.fiscal_quarter((t1 - timedelta(microseconds=1)).date(), start_month)
        starts = []
        for _ in range(8):
            p0, _p1 = periods.bounds(name, start_month)
            starts.append(start_of(p0))
            name = periods.fiscal_quarter(p0 - timedelta(days=1), start_month)
        t0 = min(starts)
    if t1 <= t0:
        raise UsageError(f"--to must be on or after --from (the range is {t0.date()} to "
                         f"{(t1 - timedelta(days=1)).date()})")
    out = []
    name = periods.fiscal_quarter(t0.date(), start_month)
    p0, _ = periods.bounds(name, start_month)
    q = start_of(p0)
    while q < t1:
        if q >= t0:
            out.append(q)
        nxt = periods.bounds(periods.fiscal_quarter((q + timedelta(days=100)).date(), start_month), start_month)[0]
        q = start_of(nxt)
    if len(out) > 80:
        raise UsageError(f"the range holds {len(out)} quarter starts; at most 80 (20 years) can be back-tested at once")
    return out, t0, t1


def risk_backtest(con: duckdb.DuckDBPyConnection, date_from=None, date_to=None, as_of=None) -> pd.DataFrame:
    """Each flag evaluated at every fiscal-quarter start in the range on the deals open then that
    have closed by the data's date: how the flagged and unflagged evaluations ended. The range
    ends at --to, else at --as-of, else at the data's date."""
    conf = settings.load(con)
    r = conf["risk"]
    starts, t0, t1 = quarter_starts(con, date_from, date_to, conf, as_of)
    base = pd.DataFrame()
    if starts:
        base = facts(con, starts, conf, closed_since=True)
    won = (base["status_now"] == "won").to_numpy() if len(base) else np.zeros(0, bool)
    rows = []
    for f in FLAGS:
        on = base[f].to_numpy(dtype=bool) if len(base) else np.zeros(0, bool)
        n_on, n_off = int(on.sum()), int((~on).sum())
        rate_on = float(won[on].mean()) if n_on else None
        rate_off = float(won[~on].mean()) if n_off else None
        first = base.loc[on, ["deal_id", "as_of", "closed_date"]].sort_values("as_of").drop_duplicates("deal_id")
        before = (pd.to_datetime(first["closed_date"]) - pd.to_datetime(first["as_of"])).dt.days.dropna()
        rows.append({
            "flag": f, "evaluations": len(base), "flagged_deals": int(first["deal_id"].nunique()),
            "win_rate_flagged": rate_on, "win_rate_unflagged": rate_off,
            "lift": rate_off / rate_on if rate_on and rate_off is not None else None,
            "median_days_before_close": float(before.median()) if len(before) else None,
            "flagged_evaluations": n_on, "current_values": f in CURRENT_VALUES,
            "weight": float(r["weights"][f]), "threshold": definition(f, r),
        })
    df = pd.DataFrame(rows, columns=[*BACKTEST_KEYS, *BACKTEST_EXTRA])
    df["flagged_deals"] = df["flagged_deals"].astype("int64")
    notes = [f"Evaluations: each deal open at a fiscal-quarter start from {t0.date()} to "
             f"{(t1 - timedelta(days=1)).date()} ({len(starts)} quarter start(s): "
             f"{', '.join(str(s.date()) for s in starts) or 'none'}) that has closed by the data's date; win rates "
             "are over evaluations, lift = unflagged / flagged.",
             "median_days_before_close: from the quarter start at which the flag first showed to the deal's "
             "closed date.",
             "Flags marked current values rest on today's account map, champion fields and steps' due dates, "
             "so their back-test looks back with today's knowledge."]
    df.attrs.update({"report": "risk-backtest", "from": t0, "to": t1, "quarter_starts": starts, "notes": notes,
                     "as_of": t1})
    return df



def deal_timeline(con: duckdb.DuckDBPyConnection, deal_id: str, as_of=None) -> dict[str, pd.DataFrame]:
    """One deal's timeline for the drill-down, as it stood at the as-of: its stage visits, its
    states over time (close-date pushes and amount; forecasting.deal_history) and its plan
    steps, each overdue one marked buyer-side or seller-side (DESIGN.md "Plan steps")."""
    from .forecasting import deal_history

    as_of_ts = start_of(parse_date(as_of, "--as-of")) or models.default_as_of(con)
    visits = con.execute(
        "select visit_no, stage, started_at, case when ended_at < $a then ended_at end as ended_at, "
        "epoch(least(coalesce(ended_at, $a), $a) - started_at) / 86400.0 as days, "
        "ended_at is null or ended_at >= $a as in_progress "
        "from stage_visits where deal_id = $d and started_at < $a order by started_at",
        {"d": str(deal_id), "a": as_of_ts}).df()
    history = deal_history(con, str(deal_id))
    history = history[history["changed_at"] < as_of_ts].reset_index(drop=True)
    steps = con.execute(
        "select s.plan_type, s.step_no, s.step, s.side, s.owner, s.original_due_date, s.due_date, "
        "case when s.completed_date < $a then s.completed_date end as completed_date, s.status, "
        "case when s.due_date < $a and s.status is distinct from 'rejected' "
        "          and (s.completed_date is null or s.completed_date >= $a) "
        "     then case when s.side = 'buyer' then 'overdue, buyer-side' else 'overdue, seller-side' end end "
        "  as overdue "
        "from plan_steps s join plans p on p.deal_id = s.deal_id and p.plan_type = s.plan_type "
        "where s.deal_id = $d and (p.created_date is null or p.created_date < $a) "
        "order by s.plan_type desc, s.step_no", {"d": str(deal_id), "a": as_of_ts}).df()
    return {"visits": visits, "history": history, "steps": steps}
