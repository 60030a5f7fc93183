"""Writing report DataFrames as csv, xlsx and json (DESIGN.md "Exports"): xlsx cells hold
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
    """A leading ' before text a spreadsheet would run (DESIGN.md "Exports"), and before text
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


def to_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per DataFrame. Text is written as text (never a formula); list values are
    joined with '; '. A sheet named 'About' can carry the report's parameters."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, df in frames.items():
        ws = wb.create_sheet(title=title[:31])
        for c, name in enumerate(df.columns, start=1):
            put(ws, 1, c, str(name))
        for r, row in enumerate(df.itertuples(index=False, name=None), start=2):
            for c, value in enumerate(row, start=1):
                v = _plain(value)
                if isinstance(v, list):
                    v = "; ".join("" if x is None else str(x) for x in v)
                if v is None:
                    continue
                if isinstance(v, str) and ("T" in v or "-" in v) and _looks_like_date(v):
                    v = _to_date(v)
                put(ws, r, c, v)
        for c, name in enumerate(df.columns, start=1):
            ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = max(10, min(40, len(str(name)) + 2))
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def put(ws, row: int, column: int, value):
    """Write a value into an openpyxl cell - every cell the product writes goes through here:
    text stays text ("=SUM(A1)" is never a formula, DESIGN.md "Exports") and text a
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
