"""Numbers and dates for people: one helper for pages and the CLI's table format
(thousands separators, days with one decimal, percentages, ISO dates, "—" for missing)."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd

DASH = "—"


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# Relationship strength 1–5 in words (docs/metrics.md "Key accounts").
RELATIONSHIP = {1: "very weak", 2: "weak", 3: "moderate", 4: "strong", 5: "very strong"}


def number(value, decimals: int = 0) -> str:
    if is_missing(value) or (isinstance(value, float) and math.isinf(value)):
        return DASH
    return f"{float(value):,.{decimals}f}"


def amount(value, currency: str | None = "") -> str:
    """An amount with its currency: 1,117,530 EUR (— when missing)."""
    text = number(value)
    return text if text == DASH or not currency else f"{text} {currency}"


def compact(value) -> str:
    """A large amount in short: 6,990,391 → 6.99M, 48,200 → 48.2k."""
    if is_missing(value):
        return DASH
    v = float(f"{float(value):.3g}")          # three significant digits first: 999,999 → 1M
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.3g}{suffix}" if abs(v) < 1000 * div else f"{v / div:,.0f}{suffix}"
    return number(v)


def days(value) -> str:
    return number(value, 1)


def percent(value, decimals: int = 1) -> str:
    if is_missing(value):
        return DASH
    return f"{float(value) * 100:,.{decimals}f}%"


def when(value) -> str:
    if is_missing(value):
        return DASH
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Column names whose values are amounts of money (the settings currency unless the table has a
# currency column of its own), counts, shares (fractions shown as percentages) and multiples.
_AMOUNTS = {"quota", "potential", "value_12m", "actual", "mean", "p10", "p50", "p90", "won_by_as_of",
            "won_so_far", "pipeline_needed", "open_pipeline", "revenue_potential", "annual_revenue",
            "annual_target", "expected_loss", "calls_commit", "calls_best_case", "calls_actual", "call_commit",
            "call_best_case", "change"}
_COUNTS = {"deals", "in_progress", "won", "lost", "reached", "steps", "evaluations", "pushes", "pull_ins", "runs",
           "calls_owners", "plans", "map_people", "actions", "goals", "overdue_actions", "open_deals",
           "won_deals_12m", "coverage_met", "plan_elements", "completed_visits", "visit_no", "step_no",
           "week_index", "rows", "people"}
_PERCENTS = {"attainment", "coverage_score", "accuracy", "completion", "buyer_engagement", "progress",
             "expected_progress", "predicted_win_probability"}
_MULTIPLES = {"coverage", "lift", "stage_adjusted_lift"}


def column_kind(name: str) -> str:
    """What a report column holds, from its name: days, percent (a fraction), multiple (a ratio
    such as pipeline coverage, 3.2×), amount (money), count, or other."""
    n = str(name).lower()
    words = n.split("_")
    if n in _MULTIPLES or n.endswith(("_coverage", "_lift")):
        return "multiple"
    if "days" in words or n == "days":
        return "days"
    if n in _PERCENTS or "rate" in words or "share" in words or n.startswith("conversion") \
            or n.endswith("_accuracy") or n.endswith("_probability"):
        return "percent"
    if "amount" in words or n in _AMOUNTS or n.endswith(("_forecast", "_error")):
        return "amount"
    if n in _COUNTS or n.endswith(("_deals", "_count", "_steps", "_visits", "_evaluations")) \
            or (n.startswith(("calls_", "call_")) and "submitted" not in n):
        return "count"
    return "other"


def multiple(value, decimals: int = 1) -> str:
    """A ratio as a multiple: 3.181 → 3.2× (— when missing)."""
    if is_missing(value) or (isinstance(value, float) and math.isinf(value)):
        return DASH
    return f"{float(value):,.{decimals}f}×"


# Headers in words for report keys that the rule in `label` would not get right.
LABELS = {
    "deal_id": "Deal ID", "deal_name": "Deal", "account_id": "Account ID", "account_name": "Account",
    "pull_ins": "Pull-ins", "value_12m": "Value, last 12 months", "won_deals_12m": "Won deals, last 12 months",
    "map_people": "People on the map", "map_status": "MAP status", "step_no": "No.", "visit_no": "Visit",
    "in_progress": "In progress", "in_progress_median_age_days": "Median age in progress (days)",
    "conversion_to_next": "Conversion to next stage", "win_rate_from_stage": "Win rate from the stage",
    "calls_commit": "Owners' commit calls", "calls_best_case": "Owners' best-case calls",
    "calls_actual": "Actual of owners with a call", "calls_owners": "Owners with a call",
    "calls_commit_accuracy": "Owners' commit-call accuracy", "calls_best_case_accuracy": "Owners' best-case-call accuracy",
    "call_commit": "Commit call", "call_best_case": "Best-case call", "call_submitted_at": "Call submitted",
    "call_commit_accuracy": "Commit-call accuracy", "call_best_case_accuracy": "Best-case-call accuracy",
    "won_by_as_of": "Won by the as-of", "as_of": "As of", "has_mutual_plan": "Mutual plan",
    "plan_signed": "Plan signed", "relationship_strength": "Relationship", "account_owner": "Account owner",
    "target_value": "Target", "progress_status": "Status", "owner_status": "Owner's status",
    "expected_progress": "Expected by now", "coverage_score": "Coverage", "coverage_met": "Criteria met",
}
_TOKENS = {"id": "ID", "fx": "FX", "fy": "FY", "kam": "KAM", "csv": "CSV", "url": "URL", "12m": "12 months",
           "p10": "P10", "p25": "P25", "p50": "P50", "p75": "P75", "p90": "P90"}


def label(name) -> str:
    """A report key as a header in words: "pull_ins" → "Pull-ins", "median_days" → "Median (days)",
    "commit_accuracy" → "Commit accuracy"; a name already in words keeps its words, first letter
    in capitals."""
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if "_" not in text:
        return text[:1].upper() + text[1:]
    words = [w for w in text.split("_") if w]
    unit = ""
    if len(words) > 1 and words[-1] == "days":
        words, unit = words[:-1], " (days)"
    words = [_TOKENS.get(w.lower(), w) for w in words]
    out = " ".join(words) + unit
    return out[:1].upper() + out[1:]


def number_format(name, values: pd.Series | None = None, currency: str | None = None) -> str | None:
    """The printf format of a number column as people read it (one number of decimals per column):
    amounts whole with thousands separators and the currency, days to one decimal, counts whole,
    multiples to one decimal with ×; None for percentages (a fraction, shown by the grid's percent
    format at one decimal) and for other columns (two decimals unless whole)."""
    kind = column_kind(name)
    if kind == "amount":
        return "%,.0f" + (f" {currency}" if currency else "")
    if kind == "days":       # durations to one decimal; whole days (a count of days) whole
        if values is not None and (pd.api.types.is_integer_dtype(values) or _whole(values)):
            return "%,.0f"
        return "%,.1f"
    if kind == "count":
        return "%,d" if values is None or not pd.api.types.is_float_dtype(values) else "%,.0f"
    if kind == "multiple":
        return "%,.1f×"
    if kind == "percent":
        return None
    if values is not None and pd.api.types.is_integer_dtype(values):
        return "%d" if str(name).lower() in ("seed", "year", "fiscal_year") else "%,d"
    if values is not None and pd.api.types.is_float_dtype(values):
        return "%,.0f" if _whole(values) else "%,.2f"
    return None


def _whole(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and pd.api.types.is_numeric_dtype(present) and bool((present == present.round(0)).all())


def for_display(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of a report frame whose values read as words where a grid would print code:
    yes/no for true/false, lists joined with "; ", date-times at midnight as dates, amounts of a
    "count" or "amount" column rounded; numbers stay numbers (the grid formats them, see
    number_format) and missing values stay missing (the grid shows them as —)."""
    shown = df.copy()
    shown.attrs = {}
    for col in shown.columns:
        values = shown[col]
        if pd.api.types.is_bool_dtype(values):
            shown[col] = values.map({True: "yes", False: "no"}).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(values):
            present = values.dropna()
            if len(present) and (present == present.dt.normalize()).all():
                shown[col] = values.dt.date
        elif values.dtype == object:
            present = values.dropna()
            if not len(present):
                continue
            if present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
                shown[col] = values.map(lambda v: v if is_missing(v) else ("yes" if v else "no"))
            elif present.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
                shown[col] = values.map(lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray))
                                        else v)
    return shown


def cell(name: str, value) -> str:
    if isinstance(value, str):           # text (a rule's name, a figure a page already wrote) as it is
        return value
    kind = column_kind(name)
    if kind == "days":
        return days(value)
    if kind == "percent":
        return percent(value)
    if kind in ("count", "amount"):
        return number(value)
    if kind == "multiple":
        return multiple(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    if isinstance(value, float):
        return number(value, 2)
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return number(value)
    return when(value) if not isinstance(value, str) else value


def table_text(df: pd.DataFrame) -> str:
    """A plain-text table for terminals: right-aligned numbers, formatted for people."""
    if df.empty:
        return "(no rows)"
    cols = list(df.columns)
    body = [[cell(c, v) for c, v in zip(cols, row)] for row in df.itertuples(index=False, name=None)]
    widths = [max(len(str(c)), *(len(r[i]) for r in body)) for i, c in enumerate(cols)]
    numeric = [column_kind(c) != "other" for c in cols]

    def fmt(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    lines = [fmt([str(c) for c in cols]), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in body]
    return "\n".join(lines)
