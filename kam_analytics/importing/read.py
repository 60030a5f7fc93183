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
class Problem:
    """A cell (or a whole row, col None) the reader found wrong: a formula error, a value too
    long for a cell, a row with more values than the header has columns. Row and column are
    the grid's (0-based); a table turns them into the row and header the user sees."""
    row: int
    col: int | None
    value: str | None
    reason: str
    mapped_only: bool = False        # only a problem when the column is imported


@dataclass
class Grid:
    file: str
    sheet: str | None
    rows: list[list[str | None]]     # text cells; None or '' when empty
    delimiter: str | None = None
    encoding: str | None = None
    problems: list[Problem] = field(default_factory=list)


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
    frame: "pd.DataFrame | None" = None                  # column-read data (large text files), else None
    # (spreadsheet row, header or None for the whole row, value, reason, only when the column is imported)
    problems: list[tuple[int, str | None, str | None, str, bool]] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.frame) if self.frame is not None else len(self.rows)

    def raw_frame(self) -> "pd.DataFrame":
        """The data rows as text columns named by the headers; an empty cell is missing."""
        import pandas as pd

        if self.frame is not None:
            return self.frame
        return pd.DataFrame(self.rows, columns=self.headers, dtype=object).replace("", None)

    def values(self, header: str) -> set:
        """The distinct filled values of one column."""
        if self.frame is not None:
            col = self.frame.iloc[:, self.headers.index(header)]
            return set(col.dropna().unique())
        j = self.headers.index(header)
        return {r[j] for r in self.rows if r[j]}


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


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """The text of a file: UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252. A
    file that mixes UTF-8 with another encoding, or holds a few NUL bytes in its text, is
    refused with the line that shows it (decoding it either way would change letters)."""
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and b"\x00" in raw:
        nul = raw.index(b"\x00")
        if raw.count(b"\x00") > len(raw) // 100 or b"\x00" in raw[:64] and raw[:4].count(b"\x00") > 1:
            raise InputError(f"{name}: this is not a text table (it holds binary data); expected csv, tsv, txt, "
                             "xlsx, xls or ods")
        line = _line_of(raw, nul)
        start = raw.rfind(b"\n", 0, nul) + 1
        end = raw.find(b"\n", nul)
        shown = raw[start:end if end >= 0 else len(raw)].decode("utf-8", "replace").replace("\x00", "\\x00")
        raise InputError(f"{name}, row {line}: the text holds NUL bytes (\\x00), which no text table has: "
                         f"{shown[:120]!r}; expected plain text. The file was damaged or saved as binary: remove "
                         "them or export the file again")
    for enc in ("utf-8-sig", "utf-16"):
        if enc == "utf-16" and not utf16:
            continue
        try:
            return raw.decode(enc), ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError as exc:
            if enc == "utf-8-sig" and (m := _UTF8_SEQUENCE.search(raw)):
                bad_line, good_line = _line_of(raw, exc.start), _line_of(raw, m.start())
                good = raw[m.start():m.end()].decode("utf-8")
                raise InputError(f"{name}, row {bad_line}: the file mixes encodings: row {good_line} holds UTF-8 "
                                 f"text ({good!r}) but row {bad_line} has the byte 0x{raw[exc.start]:02X}, which is "
                                 "not UTF-8 (a value pasted from another file?); expected one encoding. Save the "
                                 "file again as UTF-8 (in Excel: CSV UTF-8)") from None
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


MAX_CELL_CHARS = 32_767      # the most a spreadsheet cell holds (Excel's limit)
MAX_COLUMNS = 2_000          # wider than any CRM export we know (HubSpot's all-properties: ~600)
csv.field_size_limit(1 << 30)   # long values are read, then refused by MAX_CELL_CHARS with their row


def _parse_text(text: str, delim: str, name: str) -> list[list[str]]:
    """Rows of a text table. A quote that opens a value and is never closed would swallow
    every line after it into one cell: refused with the row and column where it opens."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    # an odd number of quotes and a last row whose value runs over lines: the quote never closed
    if rows and text.count('"') % 2 and any("\n" in v for v in rows[-1]):
        k = len(rows) - 1
        j = next(j for j, v in enumerate(rows[k]) if "\n" in v)
        header = next((r for r in rows if any(v.strip() for v in r)), [])
        col = f", column {header[j]!r}" if j < len(header) and header[j].strip() and k > 0 else ""
        swallowed = rows[k][j].count("\n")
        raise InputError(f"{name}, row {k + 1}{col}: a quote (\") opens the value {rows[k][j][:60]!r} and is never "
                         f"closed, so {swallowed:,} line(s) after it would run into that one cell; expected a "
                         "closing quote. Close the quote or remove it, then import again")
    return rows


def _long_cells(rows: list[list], cut: bool = False) -> list[Problem]:
    """Values longer than a spreadsheet cell holds. `cut`: the reader already cut values at
    that length (calamine does, in a workbook), so a value of exactly that length was longer."""
    limit = MAX_CELL_CHARS - 1 if cut else MAX_CELL_CHARS
    out = []
    for i, r in enumerate(rows):
        if r and max(len(v) if v else 0 for v in r) > limit:
            for j, v in enumerate(r):
                if v and len(v) > limit:
                    what = (f"a value of {len(v):,} characters; expected at most {MAX_CELL_CHARS:,} (the most a "
                            "spreadsheet cell holds)") if not cut else (
                            f"a value that reaches the {MAX_CELL_CHARS:,} characters a spreadsheet cell holds (a "
                            "longer one is cut there when read); expected a shorter value")
                    out.append(Problem(i, j, v[:60] + "…", what, True))
                    r[j] = v[:MAX_CELL_CHARS]
    return out


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
        rows = _parse_text(text, delim, name)
        return [Grid(name, None, rows, delim, enc, _long_cells(rows))]
    raise InputError(f"{name}: unsupported file type {ext!r}; expected csv, tsv, txt, xlsx, xlsm, xls or ods")


_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
# Caps on what a workbook may make us read (issue 10: a zip bomb, or a sheet of millions of cells,
# must not take the process past 2 GB). xlsx/xlsm/ods are zip files: their directory is read
# first, and nothing is inflated when the parts add up to more than MAX_BOOK_BYTES or a large
# part is compressed beyond MAX_RATIO (real sheets compress 5-30 times). A worksheet's declared
# dimension is checked against MAX_CELLS before it is loaded (about 150 bytes a cell once read;
# larger tables belong in a csv, read column-wise).
MAX_BOOK_BYTES = 1 << 30
MAX_RATIO = 200
RATIO_FROM_BYTES = 64 << 20
MAX_CELLS = 10_000_000
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _column_number(letters: bytes) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letters.decode())


def _inspect_zip(path: Path, name: str) -> dict[str, int]:
    """The zip's directory checked before anything is inflated: damaged or truncated archives,
    zip bombs and oversized parts are refused with a message. Returns each worksheet part's
    declared cell count (xlsx), read from the part's first bytes."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: the file is damaged or truncated ({exc}); expected an xlsx, xlsm or ods "
                         "workbook - save it again from the spreadsheet program") from None
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
            raise InputError(f"{name}: this zip holds no workbook (no xl/workbook.xml or content.xml; "
                             f"{len(names)} other file(s)); expected an xlsx, xlsm or ods workbook")
        total = sum(i.file_size for i in infos)
        if total > MAX_BOOK_BYTES:
            raise InputError(f"{name}: the workbook unpacks to {total / (1 << 20):,.0f} MB, over the "
                             f"{MAX_BOOK_BYTES >> 20:,} MB this importer reads from a workbook; export the table as "
                             "csv (read column-wise, any size) or split the workbook")
        for i in infos:
            if i.file_size > RATIO_FROM_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                raise InputError(f"{name}: the part {i.filename!r} unpacks {i.file_size / max(i.compress_size, 1):,.0f}"
                                 f" times its packed size ({i.file_size / (1 << 20):,.0f} MB), which no real sheet "
                                 "does (a zip bomb?); the file was not read")
        cells = {}
        for i in infos:
            if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"):
                try:
                    with zf.open(i) as f:
                        head = f.read(4096)
                except Exception as exc:  # noqa: BLE001 - a damaged part: said as such
                    raise InputError(f"{name}: the part {i.filename!r} is damaged ({exc}); save the workbook "
                                     "again from the spreadsheet program") from None
                m = _DIMENSION.search(head)
                if m and m.group(3):
                    rows = int(m.group(4)) - int(m.group(2)) + 1
                    cols = _column_number(m.group(3)) - _column_number(m.group(1)) + 1
                    cells[i.filename] = rows * cols
        return cells


_SIGNATURES = [(b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"%PDF", "a PDF document"), (b"{\\rtf", "an RTF document"), (b"<", "HTML or XML text (some CRMs name an HTML report .xls: export it as csv or xlsx instead)")]


def _read_book(path: Path, name: str) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    head = path.read_bytes()[:8]
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and _ENCRYPTION_STREAM in path.read_bytes()[:16 << 20]:
        # an OLE container holding an EncryptionInfo stream: Office's password encryption
        raise InputError(f"{name}: the workbook is password-protected (encrypted); save it without a "
                         "password to open it here (sheet protection alone is fine)")
    if head[:2] != b"PK" and head != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        what = next((w for sig, w in _SIGNATURES if head.startswith(sig)), None)
        if what:
            raise InputError(f"{name}: this is not a spreadsheet: its content is {what} (a renamed file?); expected "
                             "an xlsx, xlsm, xls or ods workbook")
    cells = _inspect_zip(path, name) if head[:2] == b"PK" else {}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's errors are plain exceptions with a reason
        raise InputError(f"{name}: cannot be read as a spreadsheet ({exc}); expected xlsx, xlsm, xls or ods") from None
    grids = []
    # hidden sheets (drop-down lists, lookups) and chart sheets are not the user's data
    visible = {m.name for m in wb.sheets_metadata
               if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")}
    big = max(cells.values(), default=0)
    for sheet in [s for s in wb.sheet_names if s in visible]:
        if big > MAX_CELLS:
            n = _declared_cells(wb, sheet, cells)
            if n > MAX_CELLS:
                raise InputError(f"{name}, sheet {sheet!r}: the sheet declares {n:,} cells, over the "
                                 f"{MAX_CELLS:,} this importer reads from one sheet; export it as csv (read "
                                 "column-wise, any size) or split it")
        try:
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputError(f"{name}, sheet {sheet!r}: cannot be read ({exc})") from None
        grid_rows = [[_cell_text(v) for v in r] for r in rows]
        del rows
        problems = _long_cells(grid_rows, cut=True)
        if head[:2] == b"PK":
            for (i, j), err in _error_cells(path, _sheet_part(wb, sheet)).items():
                if i < len(grid_rows) and j < len(grid_rows[i]):
                    grid_rows[i][j] = err
                    problems.append(Problem(i, j, err, f"the cell holds the formula error {err} (a broken link to "
                                            "another file, a division by zero or a lookup that found nothing); "
                                            "expected a value. Fix the formula, or paste the values", True))
        grids.append(Grid(name, sheet, grid_rows, problems=problems))
    return grids


# A cell whose formula failed: Excel writes t="e" and the error text (#REF!, #DIV/0! ...) as its
# value; calamine reads it as an empty cell, so the sheet's xml is searched for them (in chunks:
# a sheet part is never held whole).
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\st="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>.*?</f>)?<v>([^<]*)</v>', re.S)


def _error_cells(path: Path, part: str) -> dict[tuple[int, int], str]:
    import zipfile

    out: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as zf:
        if part not in zf.namelist():
            return out
        tail = b""
        with zf.open(part) as f:
            while chunk := f.read(4 << 20):
                buf = tail + chunk
                if b't="e"' in buf:
                    for m in _ERROR_CELL.finditer(buf):
                        out[(int(m.group(2)) - 1, _column_number(m.group(1)) - 1)] = m.group(3).decode(errors="replace")
                tail = buf[-8192:]     # a cell cut at the chunk's edge is whole in the next buffer
    return out


def pictures_note(path: Path) -> str:
    """', and its pictures or drawings are not read' for a workbook that holds some."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            if any(n.startswith(("xl/media/", "xl/drawings/", "Pictures/")) for n in zf.namelist()):
                return ": its sheets hold pictures or drawings, which are not read - only cells are"
    except (zipfile.BadZipFile, OSError):
        pass
    return ""


def _sheet_part(wb, sheet: str) -> str:
    """A sheet's part: the n-th worksheet of the workbook (sheetN.xml in the sheet order, as
    Excel and openpyxl write them)."""
    return f"xl/worksheets/sheet{wb.sheet_names.index(sheet) + 1}.xml"


def _declared_cells(wb, sheet: str, cells: dict[str, int]) -> int:
    """The declared cell count of `sheet`; the largest when the parts do not follow the
    sheet order."""
    return cells.get(_sheet_part(wb, sheet), max(cells.values(), default=0))


def _is_footer(first_cell: str) -> bool:
    """A total/footer line, told by its first filled cell (Total, Grand Total, Totale, Count)."""
    return first_cell[:3].lower() in _FOOTER_STARTS and (
        norm(first_cell) in FOOTER_WORDS or norm(first_cell).startswith(("total ", "totale ")))


def release_arrow_memory() -> None:
    """Hand the memory of freed Arrow buffers (a file's columns) back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _is_texty(v: str | None) -> bool:
    return v is not None and not re.fullmatch(r"[-+]?[\d.,\s%€$£]+|\d{4}-\d{2}-\d{2}.*|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}.*", v)


def find_tables(grid: Grid, known_headers: set[str]) -> list[Table]:
    """The tables in a grid. A header row is a row of at least two text cells, scored by
    how many are known headers; rows above it with one value, or a `key: value` pair,
    are a banner or a key-value block. Data runs to the next blank row followed by another
    header, or to the end; total/footer lines are left out and said aloud."""
    rows = grid.rows
    by_row: dict[int, list[Problem]] = {}
    for p in grid.problems:
        by_row.setdefault(p.row, []).append(p)
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
        if width - start > MAX_COLUMNS:
            where = f", sheet {grid.sheet!r}" if grid.sheet else ""
            raise InputError(f"{grid.file}{where}, header row {i + 1}: the table has {width - start:,} columns, over "
                             f"the {MAX_COLUMNS:,} this importer reads; export only the columns you need")
        headers = [((row[j] or "").strip() or f"column {j + 1}") for j in range(start, width)]
        data, numbers, skipped, found = [], [], [], []
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
            if _is_footer(first):
                skipped.append(f"row {k + 1}: footer line {first!r} left out")
                k += 1
                continue
            data.append(cells)
            numbers.append(k + 1)
            if grid.delimiter and (len(r) > width or start) and any(
                    v and v.strip() for j, v in enumerate(r) if j < start or j >= width):
                outside = [v for j, v in enumerate(r) if (j < start or j >= width) and v and v.strip()]
                found.append((k + 1, None, ", ".join(outside)[:200],
                              f"the row has {len(r)} values but the header row has "
                              f"{len(headers)} columns, so {len(outside)} value(s) belong to no column; expected "
                              "one value per column (a delimiter inside a value that is not quoted?)", False))
            for p in by_row.get(k, ()):
                inside = p.col is not None and start <= p.col < width
                found.append((k + 1, headers[p.col - start] if inside else None, p.value, p.reason, p.mapped_only))
            k += 1
        tables.append(Table(grid.file, grid.sheet, i + 1, headers, data, numbers, dict(meta), skipped, grid.delimiter,
                            banner, problems=found))
        meta, banner = {}, []
        i = k
    if meta:   # a key-value block with no table below it (a plan's or account plan's header)
        tables.append(Table(grid.file, grid.sheet, None, [], [], [], dict(meta), [], grid.delimiter, banner))
    return tables



# Text files at least this large are read column-wise (pyarrow's multi-threaded csv reader)
# when their layout is plain; the rest, and any file whose layout the sample cannot vouch
# for, go through the row-wise reader above. Both give the same Table.
FAST_MIN_BYTES = 1 << 20
_SAMPLE_BYTES = 1 << 16


def read_tables(path: Path, known_headers: set[str], display_name: str | None = None) -> list[Table]:
    """Every table of a file: plain large text files column-wise, everything else from grids."""
    name = display_name or path.name
    ext = path.suffix.lower()
    if (ext in TEXT_EXT or ext == "") and path.is_file() and path.stat().st_size >= FAST_MIN_BYTES:
        fast = _fast_text_tables(path, name, ext, known_headers)
        if fast is not None:
            return fast
    return [t for g in read_grids(path, name) for t in find_tables(g, known_headers)]


def _fast_text_tables(path: Path, name: str, ext: str, known_headers: set[str]) -> list[Table] | None:
    """One plain table in a UTF-8 text file, read column-wise; None when the layout is not
    plain (several tables, blank lines inside, ragged rows, quoted line breaks, another
    encoding), so the row-wise reader decides everything the usual way."""
    import codecs

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if head[:2] in (b"PK", b"\xff\xfe", b"\xfe\xff") or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or b"\x00" in head:
        return None
    try:
        sample = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    sample = sample[: sample.rfind("\n") + 1]          # whole lines only
    if not sample:
        return None
    delim = "\t" if ext == ".tsv" else _delimiter(sample)
    rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    found = find_tables(Grid(name, None, rows, delim, "utf-8"), known_headers)
    if len(found) != 1 or not found[0].rows or found[0].skipped:
        return None
    t = found[0]
    width = len(t.headers)
    if (len(rows[t.header_row - 1]) != width or t.row_numbers != list(range(t.header_row + 1, len(rows) + 1))
            or any(len(r) != width for r in rows[t.header_row:])):
        return None
    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    names = [f"c{j}" for j in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=t.header_row, column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delim, ignore_empty_lines=False, invalid_row_handler=on_invalid),
            # large_string: pandas' arrow-backed str columns take it without a copy
            convert_options=pacsv.ConvertOptions(column_types={c: pa.large_string() for c in names}, null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError, UnicodeError):
        return None   # not UTF-8 throughout, an unterminated quote...: the row-wise reader says what
    if invalid or table.num_rows == 0:
        return None
    if any((pc.max(pc.utf8_length(table.column(j))).as_py() or 0) > MAX_CELL_CHARS for j in range(width)):
        return None   # a value too long for a cell: the row-wise reader names its row
    first = [[table.column(j)[i].as_py() for j in range(width)] for i in range(min(len(t.rows), 5))]
    if first != [[v if v != "" else None for v in r] for r in t.rows[:5]]:
        return None
    # blank rows: only at the end (the table ends there); anywhere else the layout is not plain.
    # Boolean masks only: no column is copied.
    def mask(arr) -> np.ndarray:
        return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)

    filled = [mask(pc.invert(pc.utf8_is_space(table.column(j)))) for j in range(width)]
    filled_any = np.logical_or.reduce(filled)
    n = table.num_rows
    if not filled_any.all():
        last_filled = int(np.flatnonzero(filled_any)[-1]) + 1 if filled_any.any() else 0
        if not filled_any[:last_filled].all():
            return None
        n = last_filled
    # footer lines (Total, Count ...): candidates by their first cell, checked as the row-wise reader does
    starts = "|".join(sorted(_FOOTER_STARTS))
    cand = ~filled[0] | mask(pc.match_substring_regex(table.column(0), rf"^\s*({starts})", ignore_case=True))
    cand[n:] = False
    idx = np.flatnonzero(cand)
    if len(idx) > 10_000:
        return None
    keep = np.ones(n, dtype=bool)
    skipped = []
    if len(idx):
        picked = table.take(pa.array(idx)).to_pylist()
        for i, rec in zip(idx, picked):
            first_cell = next((v.strip() for v in rec.values() if v and v.strip()), None)
            if first_cell and _is_footer(first_cell):
                keep[i] = False
                skipped.append(f"row {t.header_row + 1 + i}: footer line {first_cell!r} left out")
    table = table.slice(0, n)
    row_numbers = np.arange(t.header_row + 1, t.header_row + 1 + n)
    if not keep.all():
        table = table.filter(pa.array(keep))
        row_numbers = row_numbers[keep]
    frame = table.to_pandas()
    del table
    release_arrow_memory()
    frame.columns = t.headers
    return [Table(name, None, t.header_row, t.headers, [], row_numbers, t.meta, skipped, delim, t.banner, frame)]
