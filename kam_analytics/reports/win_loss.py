"""Win-loss (docs/metrics.md "Win rate", "Bands", "Plan steps"): win rates by any dimension with
their 95 % Wilson score interval, by the deal's mutual-plan facts at its closing, and each
mutual-plan step's lateness in won and in lost deals. The finished mutual plans fed back into
the win-loss analysis, as the Greek seed asks. SQL: sql/models/closed_deals.sql (the deals closed in
the range, amounts converted), sql/models/mutual_steps.sql and sql/models/mutual_plan_facts.sql (a plan as
it stood at a cutoff), sql/models/closed_plan_facts.sql and sql/models/closed_steps.sql (both at each deal's
closing), sql/reports/win_loss.sql (counts by a dimension or a plan fact), sql/reports/step_lateness.sql."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from .. import dims, formatting, models, settings
from ..dates import end_of, parse_date, start_of
from ..errors import UsageError
from ..catalogue import (
    PLAN_EFFECT_EXTRA, PLAN_EFFECT_KEYS, PLAN_FACTS as FACTS, STEP_EXTRA, STEP_KEYS, WIN_LOSS_EXTRA as EXTRA,
    WIN_LOSS_KEYS as KEYS,
)

BANDS = ("0-25%", "25-50%", "50-75%", "75-100%", "no buyer step due", "no plan")
Z = 1.96                            # docs/metrics.md: the 95 % Wilson score interval

# the product's own words (docs/metrics.md), for the pages' help texts
DEFINITIONS = {
    "win_rate": "won / (won + lost) by count, among deals closed in the range (closed_date in [from, to); default "
                "all closed deals)",
    "value_win_rate": "won amount / (won amount + lost amount), in the settings currency",
    "interval": "the count rate's 95% Wilson score interval (z = 1.96)",
    "has_mutual_plan": "the deal has a mutual plan (created by its closed date)",
    "plan_signed": "both sides signed the mutual plan by the closed date (a deal without a mutual plan is not "
                   "signed)",
    "completion_band": "completed / total steps of the mutual plan at the closed date, in 0-25%, 25-50%, 50-75%, "
                       "75-100% (upper bound inclusive, 0 in the first), or no plan (no mutual plan, or one with "
                       "no steps)",
    "buyer_on_time_band": "buyer engagement (buyer-side steps completed on time / buyer-side steps whose original "
                          "due date has passed, capped at 1) at the closed date, in the same bands, no plan, or no "
                          "buyer step due",
    "on_time_rate": "steps completed on time (completed_date ≤ original_due_date, else due_date, by the closed "
                    "date) / steps",
    "median_late_days": "median of completed_date − original_due_date over the completed steps (negative when "
                        "early)",
    "overdue_at_close_rate": "steps overdue at the closed date (not completed, status not rejected, due_date "
                             "passed) / steps",
}


def wilson(won, n, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of won/n: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n);
    NaN where n is 0."""
    won, n = np.asarray(won, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = won / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _range(conf: dict, date_from, date_to, segment, as_of) -> tuple[dict, list[str]]:
    """The range's parameters and the note that says what it is. An explicit --as-of caps
    the range: only deals closed before it."""
    t0 = start_of(parse_date(date_from, "--from"))
    t1 = end_of(parse_date(date_to, "--to"))
    cap = start_of(parse_date(as_of, "--as-of"))
    if cap is not None and (t1 is None or cap < t1):
        t1 = cap
    if t0 is not None and t1 is not None and t1 <= t0:
        raise UsageError("--to must be on or after --from")
    params = {"date_from": t0, "date_to": t1, "segment": segment or None, "currency": conf["currency"]}
    if t0 is None and t1 is None:
        what = "Every closed deal (won or lost), dated or not"
    else:
        what = ("Deals closed " + (f"from {t0.date()} " if t0 else "") + (f"before {t1.date()}" if t1 else "")).strip()
    return params, [what + (f", segment {segment}" if segment else "") + "."]


def _query(name: str, dim: dims.Dim, fact: str | None = None) -> str:
    """sql/<name>.sql put together (models.query). win_loss.sql counts the closed deals by `dim`:
    the split dimension, or with `fact` that plan fact at closing. Only whitelisted names (the
    dimension from dims.py, a FACTS name) go into the text; values are parameters."""
    if name != "win_loss":
        return models.query(name, dim=dim.expr, joins=dim.joins)
    rows = "{closed_deals}" if fact is None else f"select * exclude (dim), {_fact(fact)} as dim from ({{closed_plan_facts}})"
    return models.query(name, win_loss_rows=rows, dim=dim.expr, joins=dim.joins)


def _fact(fact: str) -> str:
    if fact not in FACTS:
        raise UsageError(f"unknown plan fact {fact!r}. Known facts: {', '.join(FACTS)}")
    return fact


def _text(value) -> str | None:
    """A row's value as SQL's ::varchar writes it (booleans as true/false)."""
    if formatting.is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value).lower() if str(value) in ("True", "False") else str(value)


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    """win_rate, the Wilson interval and value_win_rate from the counts and amounts; null
    (NaN) where the denominator is 0."""
    n = (df["won"] + df["lost"]).to_numpy()
    df["deals"] = n.astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["win_rate"] = np.where(n > 0, df["won"] / np.where(n > 0, n, 1), np.nan)
        total = (df["won_amount"] + df["lost_amount"]).to_numpy(dtype=float)
        df["value_win_rate"] = np.where(total > 0, df["won_amount"] / np.where(total > 0, total, 1), np.nan)
    df["win_rate_low"], df["win_rate_high"] = wilson(df["won"], n)
    for c in ("won", "lost"):
        df[c] = df[c].astype("int64")
    for c in ("win_rate", "value_win_rate", "win_rate_low", "win_rate_high"):
        df[c] = df[c].astype("float64").round(6)
    return df


def _amount_notes(df: pd.DataFrame, currency: str) -> list[str]:
    notes = []
    if int(df["without_rate"].sum()):
        notes.append(f"{int(df['without_rate'].sum()):,} deal(s) have no rate into {currency} (fx_rates): counted, "
                     "not in the amounts.")
    if int(df["without_amount"].sum()):
        notes.append(f"{int(df['without_amount'].sum()):,} deal(s) have no amount: counted, not in the amounts.")
    return notes


def win_loss(con: duckdb.DuckDBPyConnection, by: str | None = None, date_from=None, date_to=None,
             segment: str | None = None, as_of=None) -> pd.DataFrame:
    """Per (dimension value,): won and lost deals and amounts, the win rate by count with its
    Wilson interval, and by value."""
    conf = settings.load(con)
    dim = dims.resolve(con, by, conf)
    params, notes = _range(conf, date_from, date_to, segment, as_of)
    query = _query("win_loss", dim)
    df = con.execute(query, models.used_params(query, {**params, **dim.params})).df()
    df = _rates(df)
    if by == "size_band":
        order = {label: i for i, label in enumerate(dim.params["size_labels"])}
        df = df.assign(_o=df["dim"].map(order).fillna(len(order))).sort_values("_o").drop(columns="_o")
    else:
        df = df.assign(_null=df["dim"].isna()).sort_values(["_null", "deals", "dim"], ascending=[True, False, True])
    notes += _amount_notes(df, conf["currency"])
    if by:
        df = df.rename(columns={"dim": by})[[by, *KEYS, *EXTRA]]
        if df[by].isna().any():
            notes.append(f"A missing {by} is a row of its own (null).")
    else:
        df = df[[*KEYS, *EXTRA]]
    df = df.reset_index(drop=True)
    df.attrs.update({"report": "win-loss", "by": by or None, "from": params["date_from"], "to": params["date_to"],
                     "segment": segment or None, "currency": conf["currency"], "notes": notes})
    return df


def plan_effect(con: duckdb.DuckDBPyConnection, by: str = "has_mutual_plan", date_from=None, date_to=None,
                segment: str | None = None, as_of=None) -> pd.DataFrame:
    """Won and lost deals per value of one plan fact at the deal's closing (docs/metrics.md "Bands"), with
    the Wilson interval."""
    by = by or "has_mutual_plan"
    conf = settings.load(con)
    params, notes = _range(conf, date_from, date_to, segment, as_of)
    query = _query("win_loss", dims.resolve(con, None, conf), fact=by)
    df = _rates(con.execute(query, models.used_params(query, params)).df())
    if by in ("has_mutual_plan", "plan_signed"):
        df = df.sort_values("dim", ascending=False)
    else:
        df = df.assign(_o=df["dim"].map({b: i for i, b in enumerate(BANDS)})).sort_values("_o").drop(columns="_o")
    notes += _amount_notes(df, conf["currency"])
    notes.append(f"{by}: {DEFINITIONS[by]}. Facts are measured at each deal's closed date: steps completed "
                 "later do not count.")
    df = df.rename(columns={"dim": by})[[by, *PLAN_EFFECT_KEYS, *PLAN_EFFECT_EXTRA]].reset_index(drop=True)
    df.attrs.update({"report": "plan-effect", "by": by, "from": params["date_from"], "to": params["date_to"],
                     "segment": segment or None, "currency": conf["currency"], "notes": notes})
    return df


def step_lateness(con: duckdb.DuckDBPyConnection, date_from=None, date_to=None, segment: str | None = None,
                  as_of=None) -> pd.DataFrame:
    """Per mutual-plan step (by normalised name) and outcome: steps, the share completed on
    time, the median late days and the share overdue at close: which steps slip before a loss."""
    conf = settings.load(con)
    params, notes = _range(conf, date_from, date_to, segment, as_of)
    query = _query("step_lateness", dims.resolve(con, None, conf))
    df = con.execute(query, models.used_params(query, params)).df()
    # each group's name: its most frequent spelling over both outcomes (ties: the first by
    # name); its place: the mean step number of its steps
    names, position = {}, {}
    for key, g in df.groupby("step_key"):
        counts = Counter()
        for spelled in g["spellings"]:
            counts.update(spelled)
        names[key] = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        position[key] = g["step_no_sum"].sum() / g["steps"].sum()
    df["step"], df["_p"] = df["step_key"].map(names), df["step_key"].map(position)
    df["_o"] = df["outcome"].map({"won": 0, "lost": 1})
    df = df.sort_values(["_p", "step", "_o"]).drop(columns=["_o", "_p"]).reset_index(drop=True)
    for c in ("steps", "completed_steps"):
        df[c] = df[c].astype("int64")
    for c in ("on_time_rate", "median_late_days", "overdue_at_close_rate"):
        df[c] = df[c].astype("float64").round(6)
    notes.append("Steps of the deals' mutual plans as they stood at each deal's closed date, grouped by name "
                 "(case, accents, punctuation and numbering ignored).")
    df = df[[*STEP_KEYS, *STEP_EXTRA]]
    df.attrs.update({"report": "step-lateness", "from": params["date_from"], "to": params["date_to"],
                     "segment": segment or None, "notes": notes})
    return df


def _page(con, query: str, params: dict, order: str, limit: int) -> tuple[pd.DataFrame, int]:
    p = models.used_params(query, params)
    total = con.execute(f"select count(*) from ({query})", p).fetchone()[0]
    return con.execute(f"select * from ({query}) order by {order} limit {int(limit)}", p).df(), int(total)


def deals_behind(con: duckdb.DuckDBPyConnection, by: str | None = None, value=None, fact: str | None = None,
                 fact_value=None, outcome: str | None = None, date_from=None, date_to=None,
                 segment: str | None = None, as_of=None, limit: int = 10_000) -> tuple[pd.DataFrame, int]:
    """The closed deals behind one row of win-loss (`by`=`value`) or plan-effect
    (`fact`=`fact_value`), optionally of one outcome, with their plan facts: (rows, total)."""
    conf = settings.load(con)
    dim = dims.resolve(con, by, conf)
    params, _notes = _range(conf, date_from, date_to, segment, as_of)
    where = ["($outcome::varchar is null or outcome = $outcome::varchar)"]
    if by:
        where.append("dim::varchar is not distinct from $value::varchar")
    if fact:
        where.append(f"{_fact(fact)}::varchar = $fact_value::varchar")
    query = ("select deal_id, deal_name, account_id, owner, segment, outcome, amount_conv as amount, closed_date, "
             "loss_reason, competitor, dim, has_mutual_plan, plan_signed, steps, completion, buyer_engagement, "
             "completion_band, buyer_on_time_band from (" + _query("closed_plan_facts", dim) + ") where "
             + " and ".join(where))
    df, total = _page(con, query, {**params, **dim.params, "outcome": outcome, "value": _text(value),
                                   "fact_value": _text(fact_value)}, "amount desc nulls last, deal_id", limit)
    # a dimension already listed (owner, segment, ...) is not repeated
    return (df.rename(columns={"dim": by}) if by and by not in df.columns else df.drop(columns=["dim"])), total


def step_deals(con: duckdb.DuckDBPyConnection, step_key: str, outcome: str | None = None, date_from=None,
               date_to=None, segment: str | None = None, as_of=None, limit: int = 10_000) -> tuple[pd.DataFrame, int]:
    """The steps behind one row of step-lateness, each with its deal: (rows, total)."""
    conf = settings.load(con)
    params, _notes = _range(conf, date_from, date_to, segment, as_of)
    query = ("select deal_id, deal_name, owner, outcome, closed_date, step_no, step, side, original_due_date, "
             "due_date, completed_date, status, on_time, late_days, overdue as overdue_at_close from ("
             + _query("closed_steps", dims.resolve(con, None, conf)) + ") where step_key = $step_key "
             "and ($outcome::varchar is null or outcome = $outcome::varchar)")
    return _page(con, query, {**params, "step_key": step_key, "outcome": outcome},
                 "overdue_at_close desc, late_days desc nulls last, deal_id", limit)


def range_bounds(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None]:
    """The first and last closed_date of the closed deals (the page's date pickers' bounds)."""
    return con.execute("select min(closed_date), max(closed_date) from deals where status in ('won', 'lost')").fetchone()


def segments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The segments of the closed deals (the page's segment filter)."""
    rows = con.execute("select distinct segment from deals where status in ('won', 'lost') and segment is not null "
                       "order by 1").fetchall()
    return [r[0] for r in rows]
