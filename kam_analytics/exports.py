"""Writing report DataFrames as csv, xlsx and json (docs/data.md "Exports"): xlsx cells hold
values, never formulas; in csv a text value starting with = + - @ tab or carriage return
gets a leading ' (the importer strips it again); numbers are never altered; a missing
value is null in JSON and empty in csv/xlsx, never NaN or infinity."""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime

import numpy as np
import pandas as pd

from . import formatting

_RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value):
    """A JSON-ready Python value: None for missing, NaN or infinite; ISO dates."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df: pd.DataFrame) -> list[dict]:
    cols = list(df.columns)
    return [{c: _plain(v) for c, v in zip(cols, row)} for row in df.itertuples(index=False, name=None)]


def to_json(df: pd.DataFrame) -> str:
    return json.dumps(records(df), ensure_ascii=False, indent=1)


def safe_text(value: str) -> str:
    """A leading ' before text a spreadsheet would run (docs/data.md "Exports"), and before text
    that already starts with quotes and then such a character ("'=x" -> "''=x"), so that the
    importer, taking one quote off, gives back exactly what was written."""
    return "'" + value if value.lstrip("'").startswith(_RISKY_START) else value


def _cell_text(value) -> str:
    v = _plain(value)
    if v is None:
        return ""
    if isinstance(v, list):
        return safe_text("; ".join("" if x is None else str(x) for x in v))
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
    if isinstance(v, int):
        return str(v)
    return safe_text(str(v))


def to_csv(df: pd.DataFrame) -> str:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_text(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        w.writerow([_cell_text(v) for v in row])
    return buf.getvalue()


# Excel number formats by the kind of a report column (formatting.column_kind): the values stay
# exactly as the report gives them, only their display changes.
XLSX_FORMATS = {"amount": "#,##0", "count": "#,##0", "days": "#,##0.0", "percent": "0.0%",
                "multiple": '0.0"×"'}
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"


def to_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per DataFrame, headed by the report's keys (the contract, as csv and json).
    Text is written as text (never a formula); list values are joined with '; '. Each sheet
    gains fitted column widths, a filter on its header, a frozen header row and number formats
    on amounts, counts, days, percentages, multiples and dates (see XLSX_FORMATS). A sheet
    named 'About' can carry the report's parameters."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for title, df in frames.items():
        ws = wb.create_sheet(title=title[:31])
        names = [str(c) for c in df.columns]
        widths = [len(n) for n in names]
        kinds = [formatting.column_kind(n) for n in names]
        for c, name in enumerate(names, start=1):
            put(ws, 1, c, name)
        for r, row in enumerate(df.itertuples(index=False, name=None), start=2):
            for c, value in enumerate(row, start=1):
                v = _plain(value)
                if isinstance(v, list):
                    v = "; ".join("" if x is None else str(x) for x in v)
                if v is None:
                    continue
                if isinstance(v, str) and ("T" in v or "-" in v) and _looks_like_date(v):
                    v = _to_date(v)
                cell = put(ws, r, c, v)
                shown = _shown_width(v, kinds[c - 1])
                if isinstance(v, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(v, date):
                    cell.number_format = DATE_FORMAT
                elif isinstance(v, (int, float)) and not isinstance(v, bool) and kinds[c - 1] in XLSX_FORMATS:
                    cell.number_format = XLSX_FORMATS[kinds[c - 1]]
                widths[c - 1] = max(widths[c - 1], shown)
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = max(8, min(60, width + 2))
        if names:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{max(1, len(df) + 1)}"
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _shown_width(value, kind: str) -> int:
    """About how many characters a cell shows in its number format (for the column's width)."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, (int, float)):
        if kind == "percent":
            return len(formatting.percent(value))
        if kind in ("days", "multiple"):
            return len(formatting.number(value, 1)) + (kind == "multiple")
        if kind in ("amount", "count"):
            return len(formatting.number(value))
        return len(repr(value))
    return max((len(line) for line in str(value).splitlines()), default=0)


def put(ws, row: int, column: int, value):
    """Write a value into an openpyxl cell - every cell the product writes goes through here:
    text stays text ("=SUM(A1)" is never a formula, docs/data.md "Exports") and text a
    spreadsheet would run is marked as typed text (quotePrefix), so editing the cell keeps it
    text; numbers, dates and booleans as they are. Returns the cell."""
    from openpyxl.cell.cell import TYPE_STRING

    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = TYPE_STRING
        if value.startswith(_RISKY_START):
            cell.quotePrefix = True
    return cell


def _looks_like_date(text: str) -> bool:
    if len(text) not in (10, 19, 26) or text[4] != "-" or text[7] != "-":
        return False
    try:
        _to_date(text)
        return True
    except ValueError:
        return False


def _to_date(text: str):
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def about_frame(attrs: dict) -> pd.DataFrame:
    """The report's parameters and notes, as a two-column sheet for xlsx exports. Data a
    report carries beside its rows (simulated totals, a frame it reused) is not a parameter
    and is left out."""
    rows = []
    for k, v in attrs.items():
        if isinstance(v, (np.ndarray, pd.DataFrame, pd.Series, dict)):
            continue
        if isinstance(v, list):
            v = "; ".join(map(str, v)) if k != "notes" else " ".join(map(str, v))
        rows.append({"setting": k, "value": _plain(v) if not isinstance(v, str) else v})
    return pd.DataFrame(rows, columns=["setting", "value"])
