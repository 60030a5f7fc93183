"""Dates given by users (docs/metrics.md "As-of dates"): ISO dates; an as-of or `--from` date is
the start of that day; a `--to` date means up to the start of the next day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .errors import UsageError


def parse_date(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"{what}: expected an ISO date such as 2026-03-31, got {value!r}") from None


def start_of(d: date | None) -> datetime | None:
    return None if d is None else datetime.combine(d, datetime.min.time())


def end_of(d: date | None) -> datetime | None:
    """A `--to` date: the window runs up to the start of the next day."""
    return None if d is None else datetime.combine(d + timedelta(days=1), datetime.min.time())
