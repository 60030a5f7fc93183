"""Fiscal periods (DESIGN.md "Periods"): quarters and months with a configurable fiscal-year
start month, named `FY2026-Q1` and `FY2026-M01`; a fiscal year is named by the calendar
year in which it ends (with a January start, the calendar year itself)."""

from __future__ import annotations

from datetime import date


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
