"""Reading files into grids of text cells, and finding the table(s) in each grid: title or
banner rows above the header, key-value blocks (`Deal ID: D1`), blank rows and columns,
and total/footer lines (Total, Grand Total, Totale, Count) below the data."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ..errors import InputError

TEXT_EXT = {".csv", ".tsv", ".txt"}
BOOK_EXT = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
# Labels of the key-value blocks above a table (account plan and plan headers).
KV_LABELS = {"data", "date", "plan date", "creato da", "created by", "versione", "version", "obiettivo",
             "objective", "deal id", "deal", "opportunity id", "buyer owner", "seller owner", "account",
             "cliente", "account name", "problem", "problema", "proposed solution", "soluzione proposta",
             "target date", "data obiettivo", "plan type", "tipo piano", "annual target",
             "obiettivo annuale", "next review", "prossima revisione", "snapshot date", "as of",
             "report date", "data report"}
FOOTER_WORDS = {"total", "totals", "grand total", "totale", "totale generale", "subtotal", "sub total",
                "count", "sum", "somma", "totali", "record count"}


_FOOTER_STARTS = {"tot", "gra", "sub", "cou", "sum", "som", "rec"}   # cheap test before norm()


def norm(text) -> str:
    """Header normal form: lower case, no accents, units and punctuation as spaces."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"\((%|[a-z]{3}|eur|usd|days?|giorni)\)", " ", s)
    s = re.sub(r"[^a-z0-9#]+", " ", s)
    return s.strip()


@dataclass
class Grid:
    file: str
    sheet: str | None
    rows: list[list[str | None]]     # text cells; None or '' when empty
    delimiter: str | None = None
    encoding: str | None = None


@dataclass
class Table:
    file: str
    sheet: str | None
    header_row: int | None           # 1-based, as the user sees it in the spreadsheet
    headers: list[str]
    rows: list[list[str | None]]
    row_numbers: list[int]           # the spreadsheet row of each data row
    meta: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # key-value block above:
    # normalised label -> (label as written, value, spreadsheet row)
    skipped: list[str] = field(default_factory=list)     # footer lines left out, said aloud
    delimiter: str | None = None
    banner: list[str] = field(default_factory=list)      # title lines above (a report's date)


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.isoformat(sep=" ") if v.time() != time() else v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v.total_seconds() / 86400)
    if isinstance(v, float):
        if v != v:
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    s = str(v).strip()
    return s or None


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name}: this is not a text table (it holds binary data); expected csv, tsv, txt, xlsx, xls or ods")
    for enc in ("utf-8-sig", "utf-16"):
        if enc == "utf-16" and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return raw.decode(enc), ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    best, best_score = ",", -1.0
    for d in (",", ";", "\t", "|"):
        counts = [len(next(csv.reader([ln], delimiter=d))) - 1 for ln in lines]
        counts = [c for c in counts if c > 0]
        if not counts:
            continue
        # the delimiter that splits most lines into the same, largest number of fields
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * (1 + common / 100)
        if score > best_score:
            best, best_score = d, score
    return best


def read_grids(path: Path, display_name: str | None = None) -> list[Grid]:
    name = display_name or path.name
    ext = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{name}: file not found")
    if not path.is_file():
        raise InputError(f"{name}: this is a folder, not a file; name the files to import")
    if path.stat().st_size == 0:
        raise InputError(f"{name}: the file is empty")
    if ext in BOOK_EXT:
        return _read_book(path, name)
    if ext in TEXT_EXT or ext == "":
        raw = path.read_bytes()
        if raw[:2] == b"PK" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            return _read_book(path, name)
        text, enc = _decode(raw, name)
        delim = "\t" if ext == ".tsv" else _delimiter(text[:65536])
        # cells stay as read ('' is missing): stripping happens column-wise when values convert
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
        return [Grid(name, None, rows, delim, enc)]
    raise InputError(f"{name}: unsupported file type {ext!r}; expected csv, tsv, txt, xlsx, xlsm, xls or ods")


_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


def _read_book(path: Path, name: str) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    head = path.read_bytes()[:8]
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and _ENCRYPTION_STREAM in path.read_bytes()[:16 << 20]:
        # an OLE container holding an EncryptionInfo stream: Office's password encryption
        raise InputError(f"{name}: the workbook is password-protected (encrypted); save it without a "
                         "password to open it here (sheet protection alone is fine)")
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's errors are plain exceptions with a reason
        raise InputError(f"{name}: cannot be read as a spreadsheet ({exc}); expected xlsx, xlsm, xls or ods") from None
    grids = []
    # hidden sheets (drop-down lists, lookups) and chart sheets are not the user's data
    visible = {m.name for m in wb.sheets_metadata
               if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")}
    for sheet in [s for s in wb.sheet_names if s in visible]:
        try:
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputError(f"{name}, sheet {sheet!r}: cannot be read ({exc})") from None
        grids.append(Grid(name, sheet, [[_cell_text(v) for v in r] for r in rows]))
    return grids


def _is_texty(v: str | None) -> bool:
    return v is not None and not re.fullmatch(r"[-+]?[\d.,\s%€$£]+|\d{4}-\d{2}-\d{2}.*|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}.*", v)


def find_tables(grid: Grid, known_headers: set[str]) -> list[Table]:
    """The tables in a grid. A header row is a row of at least two text cells, scored by
    how many are known headers; rows above it with one value, or a `key: value` pair,
    are a banner or a key-value block. Data runs to the next blank row followed by another
    header, or to the end; total/footer lines are left out and said aloud."""
    rows = grid.rows
    tables: list[Table] = []
    i = 0
    meta: dict[str, tuple[str, str, int]] = {}
    banner: list[str] = []
    while i < len(rows):
        row = rows[i]
        filled = [v.strip() for v in row if v and v.strip()]
        if not filled:
            i += 1
            continue
        texty = [v for v in filled if _is_texty(v)]
        known = sum(1 for v in filled if norm(v) in known_headers)
        is_kv = len(filled) == 2 and known < 2 and (
            filled[0].rstrip().endswith(":") or norm(filled[0]) in KV_LABELS or not _is_texty(filled[1]))
        if is_kv:
            label = filled[0].rstrip().rstrip(":").strip()
            meta[norm(label)] = (label, filled[1], i + 1)
            i += 1
            continue
        if len(filled) < 2 or len(texty) < len(filled):
            banner.append(" ".join(filled))   # a banner line ("Opportunities report", "Filtered by ...")
            i += 1
            continue
        # the header: trim columns to its extent
        width = max(j for j, v in enumerate(row) if v and v.strip()) + 1
        start = min(j for j, v in enumerate(row) if v and v.strip())
        headers = [((row[j] or "").strip() or f"column {j + 1}") for j in range(start, width)]
        data, numbers, skipped = [], [], []
        k = i + 1
        while k < len(rows):
            r = rows[k]
            cells = r[start:width] if len(r) >= width else [(r[j] if j < len(r) else None) for j in range(start, width)]
            if not any(cells) or ((not cells[0] or cells[0].isspace()) and not any(v.strip() for v in cells if v)):
                # a blank row: the table ends if what follows looks like another header
                nxt = next((m for m in range(k + 1, len(rows)) if any(v and v.strip() for v in rows[m])), None)
                if nxt is None:
                    break
                nf = [v.strip() for v in rows[nxt] if v and v.strip()]
                if len(nf) >= 2 and all(_is_texty(v) for v in nf) and sum(norm(v) in known_headers for v in nf) >= 2:
                    break
                k += 1
                continue
            first = next(v for v in cells if v and v.strip()).strip()
            if first[:3].lower() in _FOOTER_STARTS and (norm(first) in FOOTER_WORDS or norm(first).startswith(("total ", "totale "))):
                skipped.append(f"row {k + 1}: footer line {first!r} left out")
                k += 1
                continue
            data.append(cells)
            numbers.append(k + 1)
            k += 1
        tables.append(Table(grid.file, grid.sheet, i + 1, headers, data, numbers, dict(meta), skipped, grid.delimiter,
                            banner))
        meta, banner = {}, []
        i = k
    if meta:   # a key-value block with no table below it (a plan's or account plan's header)
        tables.append(Table(grid.file, grid.sheet, None, [], [], [], dict(meta), [], grid.delimiter, banner))
    return tables

