"""Pacing (docs/metrics.md "Pacing"): where the period stands week by week (won so far,
commit, best case, weighted: forecast accuracy's rules at each point) against where its past
periods stood by the same day of their own, and the pipeline still needed to reach the quota.
SQL: sql/reports/pacing.sql, every point of the period and of its past periods in one pass."""

from __future__ import annotations

import statistics
from datetime import timedelta

import duckdb
import pandas as pd

from .. import models, periods, settings, stage_list
from ..errors import UsageError
from ..catalogue import PACING_KEYS as KEYS
from . import forecasting

PAST_PERIODS = 4         # the typical pace: the last four periods that won anything ...
LOOKBACK = 12            # ... looked for among the twelve before the period

# The product's own words for each figure: page help, column help, the README.
DEFINITIONS = {
    "points": "the period's first day and every 7 days after it while before the as-of (and inside the period), "
              "then the as-of itself",
    "won_so_far": "won in the period before the point: closed_date in the period and before the point (a win "
                  "after the period's end belongs to a later period)",
    "commit_forecast": "won so far + the amounts, as they stood at the point, of open deals with a close date in "
                       "the period and forecast category commit",
    "best_case_forecast": "the commit forecast + the open deals in best case",
    "weighted_forecast": "won so far + the sum of each open deal's amount (close date in the period) × the win "
                         "rate from its stage at the point, the win rates from deals closed before the point",
    "quota": "the period's quota summed over owners (an owner's row for the period, else the sum of its months'); "
             "empty without quotas",
    "typical_won_share": "of the last four periods of the same kind (quarters, or months) before this one that won "
                         "anything: each one's won by the same day of its own period / all it won; the median of "
                         "them",
    "typical_band": "the lowest and the highest of those shares; the chart draws the quota × the shares",
    "pipeline_needed": "at the as-of: (quota − won so far) / the share of the amount open and due in the period at "
                       "the same day of the past periods that they went on to win in them (their median); 0 once "
                       "won so far reaches the quota; empty without a quota or without past periods",
}


def _ratio(num, den):
    return None if num is None or den is None or den == 0 else num / den


def _window(con, period, as_of, conf):
    """The period, its bounds, the as-of, the number of weekly points and the as-of's day offset."""
    name, p0, p1 = forecasting.period_window(con, period, conf)
    a = forecasting.as_of_or_default(con, as_of)
    if a < p0:
        raise UsageError(f"--as-of {a.date()} is before {name} starts ({p0.date()}): its pacing starts on its first "
                         "day")
    weeks = 0
    while p0 + timedelta(days=7 * weeks) < min(a, p1):
        weeks += 1
    return name, p0, p1, a, weeks, (a - p0).days


def _candidates(con, name: str, start_month: int) -> list[tuple[str, object, object]]:
    """The periods of the same kind before `name`, latest first, up to LOOKBACK of them and none
    that ended before the data's first date."""
    first = con.execute("select min(least(created_date, closed_date)) from deals").fetchone()[0]
    out, current = [], name
    for _ in range(LOOKBACK):
        current = periods.previous(current, start_month)
        q0, q1 = periods.bounds(current, start_month)
        if first is None or q1 <= first:
            break
        out.append((current, q0, q1))
    return out


def _figures(con, name, p0, p1, a, weeks, offset, past, conf) -> pd.DataFrame:
    cfg = stage_list.stage_config(con, conf)
    bounds = [(p0.date(), p1.date()), *((q0, q1) for _, q0, q1 in past)]
    params = {"period_starts": [b[0] for b in bounds], "period_ends": [b[1] for b in bounds],
              "first_p0": min(b[0] for b in bounds), "last_p1": p1.date(), "p0": p0, "as_of": a,
              "weeks": weeks, "asof_days": offset, "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
              "open_stages": list(cfg.open), "currency": conf["currency"], "period": name,
              "months": periods.months_of(name), "period_months": 3 if "-Q" in name else 1}
    query = models.query("pacing")
    return con.execute(query, models.used_params(query, params)).df()


def _typical(fig: pd.DataFrame, past, weeks: int):
    """The past periods that won anything (the latest PAST_PERIODS), their won share at each
    point and their pipeline conversion at the as-of's offset."""
    used = []
    for pid, (pname, _, _) in enumerate(past, start=1):
        rows = fig[fig["pid"] == pid].set_index("idx")
        final = float(rows.loc[weeks + 1, "won_so_far"])
        if final <= 0:
            continue
        at = rows.loc[weeks]
        used.append({"period": pname, "final_won": final,
                     "shares": [float(rows.loc[i, "won_so_far"]) / final for i in range(weeks + 1)],
                     "open_due_deals": int(at["open_due_deals"]), "open_due_amount": float(at["open_due_amount"]),
                     "conversion": _ratio(float(at["went_on_to_win"]), float(at["open_due_amount"]))})
        if len(used) == PAST_PERIODS:
            break
    return used


def pacing(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None) -> pd.DataFrame:
    """One row per point of the period (its weeks before the as-of, then the as-of): won so far,
    the commit, best-case and weighted forecasts as they stood then, the quota, the typical
    won share by then of the last four periods (median, lowest, highest) and, on the as-of's
    row, the pipeline still needed to reach the quota."""
    conf = settings.load(con)
    start_month = int(conf["fiscal_year_start_month"])
    name, p0, p1, a, weeks, offset = _window(con, period, as_of, conf)
    candidates = _candidates(con, name, start_month)
    past = candidates[:PAST_PERIODS]
    fig = _figures(con, name, p0, p1, a, weeks, offset, past, conf)
    used = _typical(fig, past, weeks)
    if len(used) < PAST_PERIODS and len(candidates) > len(past):   # some won nothing: look further back
        past = candidates
        fig = _figures(con, name, p0, p1, a, weeks, offset, past, conf)
        used = _typical(fig, past, weeks)

    own = fig[fig["pid"] == 0].set_index("idx")
    quota = own["quota"].iloc[0]
    quota = None if quota is None or quota != quota else float(quota)
    conversions = [u["conversion"] for u in used if u["conversion"] is not None]
    share = statistics.median(conversions) if conversions else None
    won_now = float(own.loc[weeks, "won_so_far"])
    if quota is None or not used:
        needed = None
    elif won_now >= quota:
        needed = 0.0
    else:
        needed = _ratio(quota - won_now, share)
    rows = []
    for i in range(weeks + 1):
        shares = [u["shares"][i] for u in used]
        won = float(own.loc[i, "won_so_far"])
        rows.append({
            "period": name,
            "week_start": (p0 + timedelta(days=7 * i)).date() if i < weeks else a.date(),
            "week_index": i,
            "won_so_far": won,
            "commit_forecast": won + float(own.loc[i, "open_commit"]),
            "best_case_forecast": won + float(own.loc[i, "open_best_case"]),
            "weighted_forecast": won + float(own.loc[i, "open_weighted"]),
            "quota": quota,
            "typical_won_share": round(statistics.median(shares), 6) if shares else None,
            "typical_won_share_low": round(min(shares), 6) if shares else None,
            "typical_won_share_high": round(max(shares), 6) if shares else None,
            "pipeline_needed": needed if i == weeks else None,
        })
    df = pd.DataFrame(rows, columns=list(KEYS))
    for c in ("won_so_far", "commit_forecast", "best_case_forecast", "weighted_forecast", "pipeline_needed"):
        df[c] = df[c].astype("float64").round(6)     # amounts: no float noise in the contract
    deals_behind = sum(u["open_due_deals"] for u in used)
    df.attrs.update({"report": "pacing", "as_of": a, "period": name,
                     "notes": _notes(name, p0, a, weeks, offset, quota, used, share, deals_behind,
                                     int(own.loc[weeks, "without_rate"]), conf),
                     "past_periods": [u["period"] for u in used], "pipeline_share": share,
                     "pipeline_deals": deals_behind, "min_sample": int(conf["min_sample"]),
                     "currency": conf["currency"]})
    return df


def _notes(name, p0, a, weeks, offset, quota, used, share, deals_behind, without_rate, conf) -> list[str]:
    currency, kind = conf["currency"], "quarters" if "-Q" in name else "months"
    notes = [f"Points: {p0.date()} and every 7 days after it while before the as-of ({weeks} in {name}), then "
             f"the as-of {a.date()}. At each point won so far, commit, best case and weighted as they stood then "
             f"(forecast accuracy's rules as of that day; win rates from deals closed before it), in {currency}."]
    if quota is None:
        notes.append(f"No quota is loaded for {name}: quota and pipeline needed are empty.")
    if not used:
        notes.append(f"No {kind[:-1]} before {name} won anything in the data: there is no typical pace and no "
                     "pipeline needed.")
        return notes + forecasting._rate_note(without_rate, currency, "deal(s) at the as-of")
    listed = ", ".join(f"{u['period']} (won {u['final_won']:,.0f})" for u in used)
    notes.append(f"Typical pace: the won share by the same day of each of the {len(used)} latest {kind} before "
                 f"{name} that won anything, {listed}; the median, lowest and highest of them.")
    if len(used) < PAST_PERIODS:
        notes.append(f"Only {len(used)} past {kind if len(used) != 1 else kind[:-1]} to go on (the typical pace "
                     f"takes {PAST_PERIODS}): a small sample, read the band with care.")
    conv = ", ".join(f"{u['period']} " + ("—" if u["conversion"] is None else f"{u['conversion']:.1%}")
                     for u in used)
    if share is None:
        notes.append(f"No past {kind[:-1]} had an amount open and due {offset} days into it ({conv}): pipeline "
                     "needed is empty.")
    else:
        notes.append(f"Pipeline needed divides what is left of the quota by {share:.1%}, the median share of the "
                     f"amount open and due {offset} days into each past {kind[:-1]} that it went on to win ({conv}; "
                     f"{deals_behind:,} deals behind it).")
        if deals_behind < int(conf["min_sample"]):
            notes.append(f"Only {deals_behind:,} deal(s) behind that share, below the small-sample minimum of "
                         f"{int(conf['min_sample'])}: too few to say on the pages.")
    return notes + forecasting._rate_note(without_rate, currency, "deal(s) at the as-of")
