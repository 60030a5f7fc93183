"""Numbers and dates for people: one helper for pages and the CLI's table format
(thousands separators, days with one decimal, percentages, ISO dates, "—" for missing)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

DASH = "—"


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# Relationship strength 1–5 in words (DESIGN.md "Key accounts").
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


def column_kind(name: str) -> str:
    n = name.lower()
    if n.endswith("_days") or n in ("days", "open_age_days"):
        return "days"
    if "rate" in n or "share" in n or n.startswith("conversion") or n in ("attainment", "coverage", "coverage_score", "accuracy", "completion", "buyer_engagement") or n.endswith("_accuracy"):
        return "percent"
    if "amount" in n or n in ("deals", "in_progress", "won", "lost", "reached", "steps", "evaluations",
                              "quota", "potential", "value_12m", "actual", "change", "mean", "p10", "p50", "p90",
                              "won_by_as_of", "won_so_far", "pipeline_needed") \
            or n.endswith(("_deals", "_count", "_forecast", "_error", "_steps")) \
            or (n.startswith(("calls_", "call_")) and "accuracy" not in n and "submitted" not in n):
        return "count"
    return "other"


def cell(name: str, value) -> str:
    kind = column_kind(name)
    if kind == "days":
        return days(value)
    if kind == "percent":
        return percent(value)
    if kind == "count":
        return number(value)
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
