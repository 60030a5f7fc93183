"""Fiscal periods (docs/metrics.md "Periods"): quarters and months with a configurable fiscal-year
start month, named `FY2026-Q1` and `FY2026-M01`; a fiscal year is named by the calendar
year in which it ends (with a January start, the calendar year itself)."""

from __future__ import annotations

import re
from datetime import date

from .errors import UsageError

_PERIOD = re.compile(r"FY(\d{4})-(Q[1-4]|M(0[1-9]|1[0-2]))")


def fiscal_year(d: date, start_month: int = 1) -> int:
    return d.year if start_month == 1 or d.month < start_month else d.year + 1


def fiscal_quarter(d: date, start_month: int = 1) -> str:
    q = ((d.month - start_month) % 12) // 3 + 1
    return f"FY{fiscal_year(d, start_month)}-Q{q}"


def fiscal_month(d: date, start_month: int = 1) -> str:
    m = (d.month - start_month) % 12 + 1
    return f"FY{fiscal_year(d, start_month)}-M{m:02d}"


def quarter_bounds(name: str, start_month: int = 1) -> tuple[date, date]:
    """First day of the quarter and first day of the next one."""
    fy, q = int(name[2:6]), int(name[-1])
    first_month0 = start_month - 1 + (q - 1) * 3      # months after January of the start year
    start_year = fy if start_month == 1 else fy - 1
    y, m = start_year + first_month0 // 12, first_month0 % 12 + 1
    ny, nm = (y + (m + 2) // 12, (m + 2) % 12 + 1)
    return date(y, m, 1), date(ny, nm, 1)


def month_bounds(name: str, start_month: int = 1) -> tuple[date, date]:
    """First day of the fiscal month and first day of the next one."""
    fy, m = int(name[2:6]), int(name[-2:])
    first_month0 = start_month - 1 + (m - 1)
    start_year = fy if start_month == 1 else fy - 1
    y, mm = start_year + first_month0 // 12, first_month0 % 12 + 1
    return date(y, mm, 1), date(y + mm // 12, mm % 12 + 1, 1)


def bounds(name: str, start_month: int = 1) -> tuple[date, date]:
    """A period named FY2026-Q1 or FY2026-M01: its first day and the first day after it."""
    text = str(name or "").strip().upper()
    if not _PERIOD.fullmatch(text):
        raise UsageError(f"--period: expected a fiscal quarter such as FY2026-Q1 or a fiscal month such as "
                         f"FY2026-M01, got {name!r}")
    return quarter_bounds(text, start_month) if "-Q" in text else month_bounds(text, start_month)


def previous(name: str, start_month: int = 1) -> str:
    """The period of the same kind (quarter or month) just before `name`."""
    p0, _ = bounds(name, start_month)
    day_before = date.fromordinal(p0.toordinal() - 1)
    return fiscal_quarter(day_before, start_month) if "-Q" in name.upper() else fiscal_month(day_before, start_month)


def months_of(name: str) -> list[str]:
    """The fiscal months inside a quarter (FY2026-Q2: FY2026-M04 to M06); none for a month."""
    text = str(name).strip().upper()
    if "-Q" not in text:
        return []
    fy, q = int(text[2:6]), int(text[-1])
    return [f"FY{fy}-M{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def quarters_around(d: date | None, start_month: int = 1, before: int = 8, after: int = 2) -> list[str]:
    """The fiscal quarter holding `d` with `before` quarters before it and `after` after it,
    oldest first (a period picker's choices); empty without a date."""
    if d is None:
        return []
    current = fiscal_quarter(d, start_month)
    out = [current]
    p0, p1 = bounds(current, start_month)
    for _ in range(before):
        name = fiscal_quarter(date.fromordinal(p0.toordinal() - 1), start_month)
        out.insert(0, name)
        p0, _ = bounds(name, start_month)
    for _ in range(after):
        name = fiscal_quarter(p1, start_month)
        out.append(name)
        _, p1 = bounds(name, start_month)
    return out
