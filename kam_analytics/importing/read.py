"""Reading files into grids of text cells, and finding the table(s) in each grid: title or
banner rows above the header, key-value blocks (`Deal ID: D1`), blank rows and columns,
and summary lines (Total, Grand Totals (1519 records), Subtotal Alpha Foods, Totale
complessivo, Count) at the foot of a table or between its groups."""

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
             "report date", "data report", "buyer signed", "seller signed", "buyer signed date",
             "seller signed date", "firmato cliente", "firmato venditore", "firma cliente", "firma venditore",
             "data firma cliente", "data firma venditore", "responsabile cliente", "responsabile venditore",
             "referente cliente", "referente venditore", "trattativa", "opportunita", "tipo di piano",
             "converted date", "data conversione", "customer owner", "our owner"}

# Summary lines are told by their shape (docs/data.md "Reading values"): the row's first filled
# cell is a summary word, alone or with a count ("Grand Totals (1519 records)", "Totale (12
# righe)", "Count: 12") - a strong label - or a total word with a group label ("Subtotal Alpha
# Foods", "Total Proposal", Excel's "Alpha Foods Total") - a weak one, as a deal may be named
# "Total Gym renewal"; and the rest of the row is mostly empty or numbers (see _summary_rows).
_COUNT_WORDS = (r"(?:records?|rows?|righe|riga|deals?|opportunit(?:y|ies|à)|trattative|items?|elementi|voci|"
                r"lines?|entries|accounts?|clienti)")
_COUNT = rf"(?:[:=\-–]?\s*\(?\s*\d[\d.,'’ ]*(?:\s*{_COUNT_WORDS})?\s*\)?)"
_SUMMARY_WORD = (r"(?:grand\s+totals?|grand\s+count|sub[\s-]?totals?|subtotale|totale\s+(?:complessivo|generale)|"
                 r"totals?|totale|totali|record\s+count|count|conteggio|sum|somma)")
_TOTAL_WORD = r"(?:grand\s+totals?|sub[\s-]?totals?|subtotale|totals?|totale|totali)"
_SUMMARY_STRONG = re.compile(rf"{_SUMMARY_WORD}\s*{_COUNT}?\s*[:.]?", re.I)
_SUMMARY_PREFIX = re.compile(rf"{_TOTAL_WORD}\b[\s:\-–]*\S.*", re.I | re.S)
_SUMMARY_SUFFIX = re.compile(rf".*\S\s+(?:total|totale|subtotal|count)\s*{_COUNT}?", re.I | re.S)
_SUMMARY_HINT = re.compile(r"tot|sub|count|conteggio|sum|somma", re.I)
# the same candidates in RE2 (pyarrow), a superset of the Python patterns above
_SUMMARY_RE2 = (r"^\s*(grand\s+totals?|grand\s+count|sub[\s-]?totals?|subtotale|totale?|totals|totali|record\s+count|"
                r"count|conteggio|sum|somma)(\b|[0-9])|\s(total|totale|subtotal|count)\b[^a-z]*([a-z]+[^a-z]*)?$")
# a summary line's other cells: numbers, amounts with a currency, sums and counts
_SUMMARY_VALUE = re.compile(
    rf"(?:(?:sum|somma|avg|average|media|mean|count|conteggio|max|min|total|totale)\s*[:=]?\s*)?\(?\s*"
    rf"(?:[A-Z]{{3}}\s*|[€$£¥]\s*)?[-+−]?\s*(?:[A-Z]{{3}}\s*|[€$£¥]\s*)?\d[\d.,'’ \u00a0]*"
    rf"(?:%|[A-Z]{{3}}|[€$£¥]|{_COUNT_WORDS})?\s*\)?", re.I)
TEXT_SAMPLE_ROWS = 200       # rows that tell a table's text columns (a weak summary label needs them empty)
MAX_SUMMARY_NOTES = 20       # summary lines said one by one; the rest in one note

# Spreadsheet error values (Excel's, and LibreOffice's Err:NNN), as a cell's text
ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
                "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!")
_ERROR_TEXT = re.compile(r"\s*(?:" + "|".join(re.escape(e) for e in ERROR_VALUES) + r"|Err:\d{3})\s*")
_ERROR_RE2 = r"^\s*(" + "|".join(re.escape(e) for e in ERROR_VALUES) + r"|Err:\d{3})\s*$"
_ERROR_BYTES = (re.compile(b"#(?:" + b"|".join(re.escape(e[1:].encode()) for e in ERROR_VALUES) + b")"),
                re.compile(rb"Err:\d{3}"))


def error_reason(value: str) -> str:
    """What a bad value that is a spreadsheet error value is said to be."""
    return (f"a spreadsheet error value {value.strip()}; expected a value, not a formula error (a division by zero, "
            "a lookup that found nothing, a broken link to another file...). Fix the formula in the spreadsheet, or "
            "paste its values, then import again")


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
    notes: list[str] = field(default_factory=list)   # how the file was read, said once (its first table)


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
    skipped: list[str] = field(default_factory=list)     # summary lines left out, said aloud
    delimiter: str | None = None
    banner: list[str] = field(default_factory=list)      # title lines above (a report's date)
    frame: "pd.DataFrame | None" = None                  # column-read data (large text files), else None
    # (spreadsheet row, header or None for the whole row, value, reason, only when the column is imported)
    problems: list[tuple[int, str | None, str | None, str, bool]] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)   # the spreadsheet rows of the summary lines left out

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


_NUL_CHUNK = 16 << 20


def check_no_nul(chunks, name: str) -> None:
    """The one NUL check of a text file, for both readers (row-wise: the bytes in memory;
    column-wise: the file in chunks of 16 MB). A text holding many NUL bytes is binary data;
    a few of them are refused with the row and the line that shows them (issue 27: a csv of
    1 MB or more was read column-wise with its NULs stored in names)."""
    total = count = lines = 0
    first = None           # (row, the line's text around the first NUL)
    head = b""
    tail = b""             # the end of the previous chunk: the first NUL's line may start there
    for chunk in chunks:
        if not head:
            head = chunk[:64]
        n = chunk.count(b"\x00")
        if n and first is None:
            pos = chunk.index(b"\x00")
            buf = tail + chunk
            at = len(tail) + pos
            start = buf.rfind(b"\n", 0, at) + 1
            end = buf.find(b"\n", at)
            line = buf[start:end if end >= 0 else min(len(buf), at + 4096)]
            first = (lines + chunk.count(b"\n", 0, pos) + 1, line)
        count += n
        total += len(chunk)
        if first is None:
            lines += chunk.count(b"\n")
            tail = chunk[-4096:]
    if first is None:
        return
    if count > total // 100 or b"\x00" in head and head[:4].count(b"\x00") > 1:
        raise InputError(f"{name}: this is not a text table (it holds binary data); expected csv, tsv, txt, "
                         "xlsx, xls or ods")
    row, line = first
    shown = line.decode("utf-8", "replace").replace("\x00", "\\x00")
    raise InputError(f"{name}, row {row}: the text holds NUL bytes (\\x00), which no text table has: "
                     f"{shown[:120]!r}; expected plain text. The file was damaged or saved as binary: remove "
                     "them or export the file again")


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for text saved as UTF-16 with no byte-order mark (some
    exports do): a NUL byte in every second place, and none in the others; else None."""
    if len(head) < 8:
        return None
    head = head[: len(head) // 2 * 2]
    even, odd = head[0::2], head[1::2]
    if not even.count(0) and odd.count(0) >= 0.9 * len(odd):
        return "utf-16-le"
    if not odd.count(0) and even.count(0) >= 0.9 * len(even):
        return "utf-16-be"
    return None


def _file_chunks(path: Path):
    with path.open("rb") as fh:
        while chunk := fh.read(_NUL_CHUNK):
            yield chunk


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """The text of a file: UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252. A
    file that mixes UTF-8 with another encoding, or holds a few NUL bytes in its text, is
    refused with the line that shows it (decoding it either way would change letters)."""
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and (bare := utf16_without_bom(raw[:_SNIFF_BYTES])):
        try:
            return raw.decode(bare), bare
        except UnicodeDecodeError:
            pass
    if not utf16:
        check_no_nul([raw], name)
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
        if not is_text_named_book(path):
            return _read_book(path, name)
        grids = _read_text(path.read_bytes(), name, ".csv")
        grids[0].notes.append(text_named_book_note(ext))
        return grids
    if ext in TEXT_EXT or ext == "":
        raw = path.read_bytes()
        if raw[:2] == b"PK" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            grids = _read_book(path, name)
            if grids:
                what = "an xlsx or ods workbook" if raw[:2] == b"PK" else "an xls workbook"
                grids[0].notes.append(f"this is {what} named {ext or 'without an extension'} — we read it as a "
                                      "workbook")
            return grids
        return _read_text(raw, name, ext)
    raise InputError(f"{name}: unsupported file type {ext!r}; expected csv, tsv, txt, xlsx, xlsm, xls or ods")


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_BYTES = 1 << 16


def is_text_named_book(path: Path) -> bool:
    """A file named .xlsx/.xls/.ods whose bytes are text (issue 26: a csv saved under a
    workbook's name, or a CRM's tab-separated export named .xls): no zip (xlsx, ods) or OLE
    (xls) signature, no document or image signature, no NUL byte in its start unless it is
    UTF-16 with a byte-order mark, and no control characters but tab and line breaks."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head or head[:2] == b"PK" or head[:8] == _OLE:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(head):
        return True
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if body.lstrip()[:1] == b"<" or any(body.startswith(sig) for sig, _w in _SIGNATURES):
        return False        # HTML or XML (said by the workbook reader), an image, a PDF...
    return not re.search(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]", body)


def text_named_book_note(ext: str) -> str:
    return f"this is a text/csv file named {ext} — we read it as csv"


def _read_text(raw: bytes, name: str, ext: str) -> list[Grid]:
    """A text table's grid: decoded, its delimiter detected, parsed row-wise."""
    text, enc = _decode(raw, name)
    if not text.strip():
        raise InputError(f"{name}: the file is empty (it holds only spaces, blank lines or a byte-order mark)")
    delim = "\t" if ext == ".tsv" else _delimiter(text[:65536])
    # cells stay as read ('' is missing): stripping happens column-wise when values convert
    rows = _parse_text(text, delim, name)
    notes = []
    if enc in ("utf-16-le", "utf-16-be"):
        notes.append(f"the file is UTF-16 text with no byte-order mark: read as {enc.upper()}")
    lines = [r for r in rows if any(v.strip() for v in r)]
    if len(lines) > 1 and all(len(r) == 1 for r in lines) and text.lstrip().startswith('"'):
        # every line one quoted value holding the delimiters ("Deal ID,Account,...": a program
        # quoted whole lines): the values inside are the table
        inner = "\n".join(r[0] if r else "" for r in rows)
        inner_delim = _delimiter(inner[:65536])
        widths = [len(r) for r in csv.reader(io.StringIO(inner[:65536], newline=""), delimiter=inner_delim) if r]
        common = max(set(widths), key=widths.count) if widths else 0
        if common > 1 and widths.count(common) >= 0.8 * len(widths):     # a table inside, one width
            text, delim = inner, inner_delim
            rows = _parse_text(text, delim, name)
            notes.append("every line of the file was quoted as one value: read as the values inside the quotes")
    problems = _long_cells(rows)
    if "#" in text or "Err:" in text:
        problems += _error_texts(rows)
    return [Grid(name, None, rows, delim, enc, problems, notes)]


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
MAX_CELLS = 4_000_000     # measured (issue 27): the Import page's whole check of one sheet peaks at 376 MB for
                          # 900,000 cells, 1,084 MB for 3,960,000 (440,000 rows × 9): under the 2 GB bound
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


# Bounds on what a workbook expands to once read (issue 27: a 2 KB xlsx with one value at
# ZZ400000, a 900-byte ods repeating a row a million times, a 7 KB xlsx showing one 1 MB shared
# string in 1,500 cells, 15 sheets of a few million cells each - each took gigabytes). A
# sheet's declared dimension can lie, so the real extent is read from its cells, streaming
# the xml inside the zip, before calamine is asked for the sheet: calamine allocates a sheet
# as one block from its first to its last filled cell (32 bytes a cell), and the reader keeps
# it as a list of rows from A1 (8 bytes a cell, ~60 more for a filled one), and the check
# after it ~300 bytes more a cell: see MAX_CELLS.
MAX_BOOK_CELLS = MAX_CELLS         # every sheet read from one workbook, together (they are held together)
# Text: calamine copies a shared string into every cell that shows it, and Python copies it
# again (1 to 4 bytes a character each): 100,000,000 characters stay under ~800 MB worst case.
# Real tables hold a few dozen characters a cell: 4,000,000 cells of 25 characters fit.
MAX_TEXT_CHARS = 100_000_000
# The shared-string table is read whole when the workbook opens: its part, unpacked, at most
# this (about 4,000,000 cells of distinct 50-character text), and one string at most
# MAX_STRING_CHARS (250 times the 32,767 characters a cell holds: only a broken or hostile
# file has one longer).
MAX_SHARED_STRINGS_BYTES = 256 << 20
MAX_STRING_CHARS = 8_000_000
MAX_NO_VALUE_NOTES = 10_000        # formula cells without a saved value remembered per sheet
NO_SAVED_VALUE = "a formula with no saved value: open and save the file in a spreadsheet program"
_REF = re.compile(r"([A-Za-z]{1,4})(\d{1,9})$")
_SPLIT = ("split it into files of at most {rows:,} rows each (repeat the header row in each) and import them "
          "together, or export it as csv (read column-wise, any size)")


def _col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _expat(ns_sep: str = "}"):
    from xml.parsers import expat

    return expat.ParserCreate(namespace_separator=ns_sep)


class _SheetScan:
    """One xlsx worksheet part read as a stream (expat: no tree is built, nothing is kept
    but counts): the last row and column holding a value (calamine skips cells with only a
    style), how often each shared string is shown, the characters of inline text, and the
    formula cells with no saved value."""

    def __init__(self) -> None:
        self.rows = self.cols = 0
        self.quick = False                   # an upper bound (_quick_bound), not the cells' count
        self.shared: dict[int, int] = {}
        self.inline_chars = 0
        self.no_value: dict[tuple[int, int], str] = {}
        self._row = 0
        self._col = 0
        self._cell: dict | None = None
        self._text: list[str] | None = None
        self._in_is = False

    def start(self, tag: str, attrs: dict) -> None:
        local = tag.rpartition("}")[2]
        if local == "c":
            ref = attrs.get("r")
            m = _REF.match(ref) if ref else None
            if m:
                self._col, self._row = _col_index(m.group(1)), int(m.group(2))
            else:
                self._col += 1
            self._cell = {"t": attrs.get("t", "n"), "v": None, "f": None}
        elif local == "row":
            r = attrs.get("r")
            self._row = int(r) if r and r.isdigit() else self._row + 1
            self._col = 0
        elif self._cell is not None:
            if local in ("v", "f"):
                self._text = []
                self._cell[local] = ""
            elif local == "is":
                self._in_is = True
                self._cell["v"] = ""
            elif local == "t" and self._in_is:
                self._text = []

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)

    def end(self, tag: str) -> None:
        local = tag.rpartition("}")[2]
        cell = self._cell
        if cell is None:
            return
        if local in ("v", "f") and self._text is not None:
            cell[local] = "".join(self._text)
            self._text = None
        elif local == "t" and self._in_is and self._text is not None:
            self.inline_chars += sum(map(len, self._text))
            self._text = None
        elif local == "is":
            self._in_is = False
        elif local == "c":
            v, f = cell["v"], cell["f"]
            if v is not None:
                self.rows = max(self.rows, self._row)
                self.cols = max(self.cols, self._col)
                if cell["t"] == "s" and v.strip().isdigit():
                    k = int(v)
                    self.shared[k] = self.shared.get(k, 0) + 1
                elif cell["t"] in ("str", "inlineStr"):
                    self.inline_chars += len(v)
            if f is not None and (v is None or (v == "" and cell["t"] not in ("str", "inlineStr"))) \
                    and len(self.no_value) < MAX_NO_VALUE_NOTES:
                self.no_value[(self._row - 1, self._col - 1)] = "=" + f if f else "(a shared formula)"
            self._cell = None


# a row's (digits) or a cell's (letters and digits) reference, as spreadsheet programs write it
_REFS = re.compile(rb' r="([A-Z]{0,4})(\d{1,9})"')
_ANY_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s>/]")       # every cell, however written


def _quick_bound(zf, part: str, lengths) -> _SheetScan | None:
    """An upper bound of a sheet's extent and text, from a regex pass over its bytes (~0.5 s
    for 1,000,000 cells; the cell-by-cell pass takes ~4 s): the largest row and column any
    cell or row names, styled empty cells included, and every shared-string cell counted as
    the longest string. None when the bound is over a limit, a cell's reference is not
    written as usual (any other spelling, prefix or spacing), or the sheet holds formulas
    (whose saved values _SheetScan checks): then the cells are read one by one."""
    rows = cols = cells = refs = shared = 0
    tail = b""
    with zf.open(part) as f:
        while chunk := f.read(4 << 20):
            buf = tail + chunk
            cut = buf.rfind(b">") + 1          # whole tags only; the rest waits for the next chunk
            if cut == 0:
                if len(buf) > 64 << 20:        # no tag ends in 64 MB: no sheet looks like that
                    return None
                tail = buf
                continue
            head, tail = buf[:cut], buf[cut:]
            if b"<f" in head or b":f>" in head or b":f " in head:
                return None
            found = _REFS.findall(head)
            rows = max(rows, max((int(r) for _c, r in found), default=0))
            letters = {c for c, _r in found}
            letters.discard(b"")
            cols = max(cols, max((_col_index(c.decode()) for c in letters), default=0))
            refs += sum(1 for c, _r in found if c)
            cells += len(_ANY_CELL.findall(head))
            shared += head.count(b' t="s"')
    longest = max(lengths, default=0)
    if refs != cells or rows * cols > MAX_CELLS or (shared * longest + zf.getinfo(part).file_size) > MAX_TEXT_CHARS:
        return None
    scan = _SheetScan()
    scan.quick = True
    scan.rows, scan.cols = rows, cols
    scan.inline_chars = zf.getinfo(part).file_size          # inline text is at most the part's bytes
    if shared and lengths:
        scan.shared = {max(range(len(lengths)), key=lengths.__getitem__): shared}
    return scan


def _parse(zf, part: str, handler) -> None:
    p = _expat()
    p.StartElementHandler = handler.start
    p.EndElementHandler = handler.end
    if hasattr(handler, "data"):
        p.CharacterDataHandler = handler.data
        p.buffer_text = True
    with zf.open(part) as f:
        p.ParseFile(f)


def _shared_string_lengths(zf, name: str) -> list[int]:
    """The length of every shared string, in order (rich-text runs added up)."""
    from array import array

    info = next((i for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.xml"), None)
    if info is None:
        return []
    if info.file_size > MAX_SHARED_STRINGS_BYTES:
        raise InputError(f"{name}: the workbook's shared text (xl/sharedStrings.xml) unpacks to "
                         f"{info.file_size / (1 << 20):,.0f} MB, over the {MAX_SHARED_STRINGS_BYTES >> 20:,} MB this "
                         "importer reads from one workbook; split the workbook into smaller files (fewer rows or "
                         "sheets in each) and import them together, or export each sheet as csv")
    lengths = array("q")

    class H:
        depth_t = False
        in_rph = False
        cur = 0

        def start(self, tag, attrs):
            local = tag.rpartition("}")[2]
            if local == "si":
                self.cur = 0
            elif local == "rPh":
                self.in_rph = True
            elif local == "t" and not self.in_rph:
                self.depth_t = True

        def data(self, text):
            if self.depth_t:
                self.cur += len(text)

        def end(self, tag):
            local = tag.rpartition("}")[2]
            if local == "t":
                self.depth_t = False
            elif local == "rPh":
                self.in_rph = False
            elif local == "si":
                if self.cur > MAX_STRING_CHARS:
                    raise InputError(f"{name}: shared string {len(lengths) + 1:,} of the workbook is {self.cur:,} "
                                     f"characters long, over the {MAX_STRING_CHARS:,} characters this importer reads "
                                     f"as one value (a cell holds at most {MAX_CELL_CHARS:,}); shorten it, or split "
                                     "the workbook so that the long text stays out of the file you import")
                lengths.append(self.cur)

    _parse(zf, info.filename, H())
    return lengths


def _text_chars(scans: dict[str, _SheetScan], lengths) -> dict[str, int]:
    """The characters of text each sheet's cells hold once every cell shows its value."""
    return {k: v.inline_chars + sum(n * lengths[i] for i, n in v.shared.items() if i < len(lengths))
            for k, v in scans.items()}


def _worksheet_parts(path: Path) -> dict[str, str]:
    """Every worksheet part of an xlsx, named by itself."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {n: n for n in zf.namelist() if n.lower().startswith("xl/worksheets/") and n.lower().endswith(".xml")}


def _check_xlsx_extent(path: Path, name: str, sheets: dict[str, str | None]) -> dict[str, dict]:
    """Every sheet to be read (name -> its part), measured from its cells and refused when it
    is over a limit - MAX_CELLS for one sheet, MAX_BOOK_CELLS for them all, MAX_TEXT_CHARS of
    text - with the limit, the file's figure and how to split it. Returns each sheet's formula
    cells with no saved value ((row, column) 0-based -> '=formula')."""
    import zipfile
    from xml.parsers import expat

    scans: dict[str, _SheetScan] = {}
    with zipfile.ZipFile(path) as zf:
        actual = {n.lower(): n for n in zf.namelist()}
        try:
            lengths = _shared_string_lengths(zf, name)
            for sheet, part in sheets.items():
                if part is None or part.lower() not in actual:
                    continue
                scan = scans[sheet] = _quick_bound(zf, actual[part.lower()], lengths)
                if scan is None:        # the bound may be over a limit, or formulas to look at: cell by cell
                    scan = scans[sheet] = _SheetScan()
                    _parse(zf, actual[part.lower()], scan)
                n = scan.rows * scan.cols
                if n > MAX_CELLS:
                    last = f"{_col_letters(scan.cols)}{scan.rows}"
                    raise InputError(
                        f"{name}, sheet {sheet!r}: the sheet's filled cells reach {last} ({scan.rows:,} rows × "
                        f"{scan.cols:,} columns: {n:,} cells), over the {MAX_CELLS:,} cells this importer reads from "
                        "one sheet; delete what lies beyond the table (a stray value far below or to the right of it?)"
                        ", or " + _SPLIT.format(rows=max(1, MAX_CELLS // scan.cols - 1)))
            chars = _text_chars(scans, lengths)
            if (sum(s.rows * s.cols for s in scans.values()) > MAX_BOOK_CELLS or sum(chars.values()) > MAX_TEXT_CHARS) \
                    and any(s.quick for s in scans.values()):
                # over a workbook limit by the upper bounds: measured cell by cell before saying so
                for sheet, scan in list(scans.items()):
                    if scan.quick:
                        scans[sheet] = _SheetScan()
                        _parse(zf, actual[sheets[sheet].lower()], scans[sheet])
                chars = _text_chars(scans, lengths)
        except (expat.ExpatError, zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(f"{name}: the workbook is damaged ({exc}); save it again from the spreadsheet "
                             "program") from None
    total = sum(s.rows * s.cols for s in scans.values())
    if total > MAX_BOOK_CELLS:
        big = sorted(scans.items(), key=lambda kv: -kv[1].rows * kv[1].cols)
        shown = ", ".join(f"{k!r} {v.rows * v.cols:,}" for k, v in big[:5]) + (", …" if len(big) > 5 else "")
        raise InputError(f"{name}: its {len(scans)} sheets span {total:,} cells together ({shown}), over the "
                         f"{MAX_BOOK_CELLS:,} cells this importer reads from one workbook; split it: move sheets into "
                         "separate files and import them together, or export each sheet as csv (read column-wise, "
                         "any size)")
    if sum(chars.values()) > MAX_TEXT_CHARS:
        sheet = max(chars, key=chars.get)
        scan = scans[sheet]
        used = {i: n for i, n in scan.shared.items() if i < len(lengths)}
        top = max(used, key=lambda i: used[i] * lengths[i], default=None)
        what = (f" (shared string {top + 1:,}, of {lengths[top]:,} characters, shown in {used[top]:,} cells)"
                if top is not None else "")
        raise InputError(f"{name}, sheet {sheet!r}: its cells hold {chars[sheet]:,} characters of text once each "
                         f"shows its value{what}, over the {MAX_TEXT_CHARS:,} characters of text this importer reads "
                         f"from one workbook; a cell holds at most {MAX_CELL_CHARS:,} characters: shorten the long "
                         "values, or split the workbook into files of fewer rows and import them together")
    return {k: v.no_value for k, v in scans.items() if v.no_value}


_ODS_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
MAX_REPEAT_ATTR = 10 ** 9         # a repeat count is read as a number up to this (more: the limit says it)


_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
# a formula cell's saved value, by its value type (a string's is its text)
_ODS_SAVED = {"float": "value", "percentage": "value", "currency": "value", "date": "date-value",
              "time": "time-value", "boolean": "boolean-value"}


def _ods_no_value(attrs: dict) -> str | None:
    """'=SUM(A1;2)' for a cell whose formula has no saved value (no value type, or a number,
    date, time or truth value without it): calamine reads it as empty. None otherwise."""
    formula = attrs.get(f"{_ODS_NS}}}formula")
    if formula is None:
        return None
    typ = attrs.get(f"{_ODS_OFFICE}}}value-type")
    if typ is not None and (typ not in _ODS_SAVED or f"{_ODS_OFFICE}}}{_ODS_SAVED[typ]}" in attrs):
        return None
    shown = formula.split(":", 1)[1] if re.match(r"[a-z]+:=", formula) else formula
    return shown if shown.startswith("=") else "=" + shown


def _check_ods_extent(path: Path, name: str) -> dict[str, dict[tuple[int, int], str]]:
    """An OpenDocument spreadsheet's tables measured from content.xml's rows and cells with
    their repeat counts (table:number-rows-repeated, number-columns-repeated), as calamine
    expands them when it opens the file: the last row and column holding a value (trailing
    empty repeats, which LibreOffice writes to the sheet's end, do not count). Returns each
    table's formula cells with no saved value ((row, column) 0-based -> '=formula'), as
    _check_xlsx_extent does for an xlsx."""
    import zipfile
    from xml.parsers import expat

    no_value: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as zf:
        if "content.xml" not in zf.namelist():
            return no_value
        tables: list[list] = []          # [name, last row, last column, largest repeat of a row with values]
        st = {"row": 0, "col": 0, "row_last": 0, "cell": None, "table": None}

        def count(attrs, key):
            v = attrs.get(f"{_ODS_NS}}}{key}")
            return min(int(v), MAX_REPEAT_ATTR) if v and v.isdigit() else 1

        def start(tag, attrs):
            local = tag.rpartition("}")[2] if tag.startswith(_ODS_NS) else None
            if local == "table":
                st["table"] = [attrs.get(f"{_ODS_NS}}}name", ""), 0, 0, 1]
                tables.append(st["table"])
                st["row"] = 0
            elif local == "table-row":
                st["col"], st["row_last"] = 0, 0
            elif local in ("table-cell", "covered-table-cell"):
                valued = any(k.endswith("}value-type") for k in attrs)
                st["cell"] = [count(attrs, "number-columns-repeated"), valued]
                formula = _ods_no_value(attrs) if st["table"] is not None else None
                if formula is not None:
                    cells = no_value.setdefault(st["table"][0], {})
                    for c in range(st["col"], st["col"] + min(st["cell"][0], MAX_REPEAT)):
                        if len(cells) < MAX_NO_VALUE_NOTES:
                            cells[(st["row"], c)] = formula
                    st["cell"][1] = True     # calamine reads it as empty, but the table reaches it
            elif st["cell"] is not None:
                st["cell"][1] = True         # a cell with content (text:p...) holds a value
            if local == "table-row":
                st["rrep"] = count(attrs, "number-rows-repeated")

        def end(tag):
            local = tag.rpartition("}")[2] if tag.startswith(_ODS_NS) else None
            if local in ("table-cell", "covered-table-cell") and st["cell"] is not None:
                rep, valued = st["cell"]
                st["col"] += rep
                if valued:
                    st["row_last"] = st["col"]
                st["cell"] = None
            elif local == "table-row":
                t = st["table"]
                rep = st.get("rrep", 1)
                st["row"] += rep
                if t is not None and st["row_last"]:
                    t[1], t[2], t[3] = st["row"], max(t[2], st["row_last"]), max(t[3], rep)
                    if t[1] * t[2] > MAX_CELLS:
                        raise _OdsOver(t)

        p = _expat()
        p.StartElementHandler, p.EndElementHandler = start, end
        try:
            with zf.open("content.xml") as f:
                p.ParseFile(f)
        except _OdsOver as over:
            sheet, rows, cols, rep = over.args[0]
            said = f", a row repeated {rep:,} times" if rep > 1 else ""
            raise InputError(f"{name}, sheet {sheet!r}: the sheet's filled cells reach row {rows:,} and column "
                             f"{cols:,} ({rows * cols:,} cells{said}), over the {MAX_CELLS:,} cells this importer "
                             "reads from one sheet; delete what lies beyond the table, or "
                             + _SPLIT.format(rows=max(1, MAX_CELLS // cols - 1))) from None
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError):
            return {}                       # calamine says what is wrong with it
        total = sum(t[1] * t[2] for t in tables)
        if total > MAX_BOOK_CELLS:
            shown = ", ".join(f"{t[0]!r} {t[1] * t[2]:,}" for t in sorted(tables, key=lambda t: -t[1] * t[2])[:5])
            raise InputError(f"{name}: its {len(tables)} sheets span {total:,} cells together ({shown}), over the "
                             f"{MAX_BOOK_CELLS:,} cells this importer reads from one workbook; split it: move sheets "
                             "into separate files and import them together, or export each sheet as csv")
    return no_value


class _OdsOver(Exception):
    pass


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
    ods_no_value = _check_ods_extent(path, name) if head[:2] == b"PK" else {}   # calamine expands every ods
    # table when it opens the file
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's errors are plain exceptions with a reason
        raise InputError(f"{name}: cannot be read as a spreadsheet ({exc}); expected xlsx, xlsm, xls or ods") from None
    grids = []
    # hidden sheets (drop-down lists, lookups) and chart sheets are not the user's data
    visible = {m.name for m in wb.sheets_metadata
               if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")}
    big = max(cells.values(), default=0)
    zipped = head[:2] == b"PK"
    # each sheet's part by the workbook's relationships (xlsx, xlsm), its error cells from
    # content.xml (ods): python-calamine reads every error cell as an empty one
    parts = _sheet_parts(path) if zipped else {}
    ods_errors = _ods_error_cells(path) if zipped and not parts else {}
    read_sheets = [s for s in wb.sheet_names if s in visible]
    # the real extent of every sheet read, from its cells, before calamine expands any of them
    # (when the workbook does not say which part is which sheet, every worksheet part is measured)
    to_measure = {s: parts.get(s) for s in read_sheets} if parts else _worksheet_parts(path) if zipped else {}
    no_value = {**ods_no_value, **_check_xlsx_extent(path, name, to_measure)}
    for sheet in read_sheets:
        if big > MAX_CELLS:
            n = cells.get(parts.get(sheet), big)    # the largest when the sheet's part is not known
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
        errors = _error_cells(path, parts[sheet]) if sheet in parts else ods_errors.get(sheet, {})
        for (i, j), err in errors.items():
            if i < len(grid_rows) and j < len(grid_rows[i]):
                grid_rows[i][j] = err
                problems.append(Problem(i, j, err, error_reason(err), True))
        # a cell holding an error value's text (typed, or pasted as text)
        problems += _error_texts(grid_rows, skip=set(errors))
        for (i, j), formula in no_value.get(sheet, {}).items():
            if (i, j) not in errors:
                problems.append(Problem(i, j, formula, NO_SAVED_VALUE, True))
        grids.append(Grid(name, sheet, grid_rows, problems=problems))
    return grids


# A cell whose formula failed: Excel writes t="e" and the error text (#REF!, #DIV/0! ...) as its
# value; calamine reads it as an empty cell, so the sheet's xml is searched for them (in chunks:
# a sheet part is never held whole). Attributes in any order, with or without a namespace prefix.
_ERROR_HINT = re.compile(rb"""\st=["']e["']""")
_ERROR_CELL = re.compile(rb"""<(?:\w+:)?c\s([^>/]*?(?<![\w:.-])t=["']e["'][^>/]*)>(.*?)</(?:\w+:)?c>""", re.S)
_CELL_REF = re.compile(rb"""(?<![\w:.-])r=["']([A-Z]+)(\d+)["']""")
_CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _error_cells(path: Path, part: str) -> dict[tuple[int, int], str]:
    """The error cells of one worksheet part: (row, column), 0-based -> the error value."""
    import zipfile
    from html import unescape

    out: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as zf:
        if part not in zf.namelist():
            return out
        tail = b""
        with zf.open(part) as f:
            while chunk := f.read(4 << 20):
                buf = tail + chunk
                if _ERROR_HINT.search(buf):
                    for m in _ERROR_CELL.finditer(buf):
                        ref, value = _CELL_REF.search(m.group(1)), _CELL_VALUE.search(m.group(2))
                        if ref and value:
                            out[(int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1)] = \
                                unescape(value.group(1).decode(errors="replace")).strip() or "#VALUE!"
                tail = buf[-8192:]     # a cell cut at the chunk's edge is whole in the next buffer
    return out


_REL_ID = ("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
           "{http://purl.oclc.org/ooxml/officeDocument/relationships}id")
MAX_WORKBOOK_XML = 64 << 20


def _sheet_parts(path: Path) -> dict[str, str]:
    """Each sheet's part in an xlsx/xlsm (sheet name -> 'xl/worksheets/sheet2.xml'), as the
    workbook says it: _rels/.rels names the workbook part, the workbook lists its sheets with
    a relationship id each, and the workbook's .rels maps the id to the part. Never by
    position: a chart sheet, a dialog sheet or a moved sheet shifts the numbering. {} when
    the workbook does not say (not an xlsx, or damaged)."""
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile
    from urllib.parse import unquote

    def resolve(folder: str, target: str) -> str:
        target = unquote(target.replace("\\", "/"))
        full = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        return posixpath.normpath(full)

    def xml(zf, part: str):
        if zf.getinfo(part).file_size > MAX_WORKBOOK_XML:
            raise ValueError(part)
        return ET.fromstring(zf.read(part))

    try:
        with zipfile.ZipFile(path) as zf:
            actual = {n.lower(): n for n in zf.namelist()}    # part names ignore case
            book = "xl/workbook.xml"
            if "_rels/.rels" in actual:
                for rel in xml(zf, actual["_rels/.rels"]):
                    if rel.get("Type", "").endswith("/officeDocument") and rel.get("Target"):
                        book = resolve("", rel.get("Target"))
                        break
            folder, base = posixpath.split(book)
            rels = posixpath.join(folder, "_rels", base + ".rels")
            if book.lower() not in actual or rels.lower() not in actual:
                return {}
            targets = {rel.get("Id"): resolve(folder, rel.get("Target"))
                       for rel in xml(zf, actual[rels.lower()])
                       if rel.get("Target") and rel.get("TargetMode") != "External"}
            out = {}
            for el in xml(zf, actual[book.lower()]):
                if el.tag.rsplit("}", 1)[-1] != "sheets":
                    continue
                for sheet in el:
                    rid = next((sheet.get(k) for k in _REL_ID if sheet.get(k)), None)
                    if sheet.get("name") is not None and rid in targets:
                        out[sheet.get("name")] = actual.get(targets[rid].lower(), targets[rid])
            return out
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, ET.ParseError):
        return {}


_ODS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_VALUE_TYPE = ("{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type",
                   "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type")
MAX_REPEAT = 10_000      # repeated rows or cells of one error marked (more is a styling range, not data)


def _ods_error_cells(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """The error cells of an OpenDocument spreadsheet, per sheet: LibreOffice writes a failed
    formula with calcext:value-type="error" and the error (#DIV/0!, Err:502) as the cell's
    text. Rows and cells are counted with their repeats, as calamine counts them. Read in a
    stream, and only when content.xml names an error at all."""
    import xml.etree.ElementTree as ET
    import zipfile

    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            if "content.xml" not in zf.namelist():
                return out
            with zf.open("content.xml") as f:
                tail = b""
                while chunk := f.read(4 << 20):
                    if b'value-type="error"' in tail + chunk:
                        break
                    tail = chunk[-32:]
                else:
                    return out
            with zf.open("content.xml") as f:
                cells: dict[tuple[int, int], str] | None = None
                row = col = 0
                stack = []
                for event, el in ET.iterparse(f, events=("start", "end")):
                    tag = el.tag
                    if event == "start":
                        stack.append(el)
                        if tag == _ODS + "table":
                            cells = out.setdefault(el.get(_ODS + "name") or "", {})
                            row = 0
                        elif tag == _ODS + "table-row":
                            col = 0
                        continue
                    stack.pop()
                    if tag in (_ODS + "table-cell", _ODS + "covered-table-cell"):
                        repeat = int(el.get(_ODS + "number-columns-repeated") or 1)
                        if cells is not None and any(el.get(k) == "error" for k in _ODS_VALUE_TYPE):
                            text = "".join(el.itertext()).strip() or "#VALUE!"
                            for c in range(col, col + min(repeat, MAX_REPEAT)):
                                cells[(row, c)] = text
                        col += repeat
                    elif tag == _ODS + "table-row":
                        repeat = int(el.get(_ODS + "number-rows-repeated") or 1)
                        if cells is not None:
                            here = [(c, v) for (r, c), v in cells.items() if r == row] if repeat > 1 else []
                            for r in range(row + 1, row + min(repeat, MAX_REPEAT)):
                                cells.update({(r, c): v for c, v in here})
                        row += repeat
                        if stack:
                            stack[-1].remove(el)     # a row read is let go of
                    elif tag == _ODS + "table":
                        cells = None
    except (zipfile.BadZipFile, OSError, ValueError, ET.ParseError):
        return {}
    return {k: v for k, v in out.items() if v}


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


def _summary_label(cell: str | None) -> str | None:
    """'strong' for a summary word alone or with a count (Total, Grand Totals (1519 records),
    Count: 12), 'weak' for a total word with a group label (Subtotal Alpha Foods, Alpha Foods
    Total - or a deal named Total Gym renewal), else None."""
    if not cell:
        return None
    s = cell.strip()
    if not s or len(s) > 200 or not _SUMMARY_HINT.search(s):
        return None
    if _SUMMARY_STRONG.fullmatch(s):
        return "strong"
    if _SUMMARY_PREFIX.fullmatch(s) or _SUMMARY_SUFFIX.fullmatch(s):
        return "weak"
    return None


def _is_text(v: str | None) -> bool:
    """A filled cell that is not a number, an amount, a count or a date."""
    if v is None:
        return False
    s = v.strip()
    return bool(s) and _is_texty(s) and not _SUMMARY_VALUE.fullmatch(s)


def _text_columns(rows: list[list], skip: set[int]) -> set[int]:
    """The columns filled with text in most of the table's first data rows (summary
    candidates left aside)."""
    counts: dict[int, int] = {}
    seen = 0
    for i, r in enumerate(rows):
        if i in skip:
            continue
        for j, v in enumerate(r):
            if _is_text(v):
                counts[j] = counts.get(j, 0) + 1
        seen += 1
        if seen == TEXT_SAMPLE_ROWS:
            break
    return {j for j, c in counts.items() if 2 * c > seen}


def _summary_rows(rows: list[list], candidates: dict[int, tuple[int, str]]) -> dict[int, str]:
    """Which candidate rows (index -> (column of the label, 'strong' or 'weak')) are summary
    lines, with their label. The row's other cells must be mostly empty or numbers: with a
    strong label at most a quarter of them text (a group named beside 'Subtotal'); with a weak
    one none, and the table must have other columns that its data rows fill with text (an
    account, a stage...), left empty here - so a deal 'Total Gym renewal' with its account
    and stage filled stays a deal."""
    out: dict[int, str] = {}
    text_cols: set[int] | None = None
    for i, (j, kind) in candidates.items():
        r = rows[i]
        others = len(r) - 1
        texts = sum(1 for jj, v in enumerate(r) if jj != j and _is_text(v))
        if kind == "strong":
            ok = texts <= others // 4
        else:
            if texts:
                continue
            if text_cols is None:
                text_cols = _text_columns(rows, set(candidates))
            ok = bool(text_cols - {j})
        if ok:
            out[i] = r[j].strip()
    return out


def _summary_notes(lines: list[tuple[int, str]], last_data_row: int | None) -> list[str]:
    """'row 5: footer line 'Grand Totals (1519 records)' left out' for each summary line (a
    footer below the last data row, else a summary line between groups); past
    MAX_SUMMARY_NOTES, one note for the rest."""
    out = [f"row {n}: {'footer' if last_data_row is None or n > last_data_row else 'summary'} line {label!r} left out"
           for n, label in lines[:MAX_SUMMARY_NOTES]]
    rest = lines[MAX_SUMMARY_NOTES:]
    if rest:
        rows = ", ".join(str(n) for n, _ in rest[:10]) + (", …" if len(rest) > 10 else "")
        out.append(f"{len(rest):,} more summary line(s) left out (rows {rows})")
    return out


def _error_texts(rows: list[list], skip: set[tuple[int, int]] = frozenset()) -> list[Problem]:
    """Cells whose text is a spreadsheet error value (#N/A typed or exported into a csv, or a
    workbook cell holding the text): bad values named as such, never data."""
    out = []
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v and ("#" in v or "Err:" in v) and (i, j) not in skip and _ERROR_TEXT.fullmatch(v):
                out.append(Problem(i, j, v.strip(), error_reason(v), True))
    return out


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
    header, or to the end; summary lines (totals, subtotals, counts) are left out and said aloud."""
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
        candidates: dict[int, tuple[int, str]] = {}     # summary lines, maybe: decided once the table is whole
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
            first = next(j for j, v in enumerate(cells) if v and v.strip())
            kind = _summary_label(cells[first])
            if kind:
                candidates[len(data)] = (first, kind)
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
        left_out: list[int] = []
        if candidates and (summary := _summary_rows(data, candidates)):
            left_out = [numbers[n] for n in sorted(summary)]
            kept = [n for n in range(len(data)) if n not in summary]
            skipped = _summary_notes([(numbers[n], summary[n]) for n in sorted(summary)],
                                     numbers[kept[-1]] if kept else None)
            data, numbers = [data[n] for n in kept], [numbers[n] for n in kept]
            gone = set(left_out)
            found = [f for f in found if f[0] not in gone]
        tables.append(Table(grid.file, grid.sheet, i + 1, headers, data, numbers, dict(meta), skipped, grid.delimiter,
                            banner, problems=found, left_out=left_out))
        meta, banner = {}, []
        i = k
    if meta:   # a key-value block with no table below it (a plan's or account plan's header)
        tables.append(Table(grid.file, grid.sheet, None, [], [], [], dict(meta), [], grid.delimiter, banner))
    if grid.notes and tables:
        first = next((t for t in tables if t.n_rows), tables[0])
        first.skipped[:0] = grid.notes
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
    if ext in BOOK_EXT and path.is_file() and path.stat().st_size >= FAST_MIN_BYTES and is_text_named_book(path):
        fast = _fast_text_tables(path, name, ".csv", known_headers)
        if fast is not None:
            fast[0].skipped.insert(0, text_named_book_note(ext))
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
    if head[:2] in (b"PK", b"\xff\xfe", b"\xfe\xff") or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" \
            or utf16_without_bom(head):
        return None
    check_no_nul(_file_chunks(path), name)     # the row-wise reader's check, on the whole file
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
    if len(found) != 1 or not found[0].rows:
        return None
    t = found[0]
    width = len(t.headers)
    # every line of the sample below the header is a data row or a summary line
    if (len(rows[t.header_row - 1]) != width
            or sorted([*t.row_numbers, *t.left_out]) != list(range(t.header_row + 1, len(rows) + 1))
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
    at = [n - t.header_row - 1 for n in t.row_numbers[:5]]
    if at[-1] >= table.num_rows:
        return None
    first = [[table.column(j)[i].as_py() for j in range(width)] for i in at]
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
    table = table.slice(0, n)
    filled = [f[:n] for f in filled]
    # summary lines: candidates by their first filled cell (RE2, a superset), then decided as
    # the row-wise reader decides them (_summary_label, _summary_rows)
    cand = np.zeros(n, dtype=bool)
    before = np.ones(n, dtype=bool)                 # the cells left of column j are all empty
    for j in range(width):
        here = before & filled[j]
        if here.all():
            cand |= mask(pc.match_substring_regex(table.column(j), _SUMMARY_RE2, ignore_case=True))
        elif here.any():
            at_j = np.flatnonzero(here)
            hit = mask(pc.match_substring_regex(table.column(j).take(pa.array(at_j)), _SUMMARY_RE2, ignore_case=True))
            cand[at_j[hit]] = True
        before &= ~filled[j]
        if not before.any():
            break
    idx = np.flatnonzero(cand)
    if len(idx) > MAX_FAST_CANDIDATES:
        return None
    keep = np.ones(n, dtype=bool)
    skipped: list[str] = []
    if len(idx):
        picked = [list(rec.values()) for rec in table.take(pa.array(idx)).to_pylist()]
        labels = {}
        for i, rec in zip(idx, picked):
            j = next(j for j, v in enumerate(rec) if v and v.strip())
            if kind := _summary_label(rec[j]):
                labels[int(i)] = (j, kind)
        if labels:
            # the rows _summary_rows reads: the candidates and the first data rows (text columns)
            head = [list(rec.values()) for rec in table.slice(0, TEXT_SAMPLE_ROWS + len(labels)).to_pylist()]
            rows_at = {i: r for i, r in enumerate(head)}
            rows_at.update({int(i): r for i, r in zip(idx, picked)})
            order = sorted(rows_at)
            pos = {i: p for p, i in enumerate(order)}
            summary = _summary_rows([rows_at[i] for i in order], {pos[i]: lj for i, lj in labels.items()})
            if summary:
                gone = sorted(order[p] for p in summary)
                keep[gone] = False
                kept_last = int(np.flatnonzero(keep)[-1]) if keep.any() else None
                skipped = _summary_notes([(t.header_row + 1 + i, summary[pos[i]]) for i in gone],
                                         None if kept_last is None else t.header_row + 1 + kept_last)
    row_numbers = np.arange(t.header_row + 1, t.header_row + 1 + n)
    if not keep.all():
        table = table.filter(pa.array(keep))
        row_numbers = row_numbers[keep]
    problems = _fast_error_texts(path, table, row_numbers, t.headers)
    frame = table.to_pandas()
    del table
    release_arrow_memory()
    frame.columns = t.headers
    return [Table(name, None, t.header_row, t.headers, [], row_numbers, t.meta, skipped, delim, t.banner, frame,
                  problems)]


MAX_FAST_CANDIDATES = 100_000    # more rows that may be summary lines: the row-wise reader decides


def _fast_error_texts(path: Path, table, row_numbers, headers: list[str]) -> list[tuple]:
    """The cells of a column-read table whose text is a spreadsheet error value, as the
    row-wise reader finds them (_error_texts). The file's bytes are looked through first (fast):
    most hold no error value at all, and then no column is."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(16 << 20):
            buf = tail + chunk
            if any(p.search(buf) for p in _ERROR_BYTES):
                break
            tail = buf[-16:]
        else:
            return []
    out = []
    for j, h in enumerate(headers):
        col = table.column(j)
        hit = np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring_regex(col, _ERROR_RE2), False)
                                        .to_numpy(zero_copy_only=False), dtype=bool))
        if len(hit):
            values = col.take(pa.array(hit)).to_pylist()
            out += [(int(row_numbers[i]), j, h, v.strip(), error_reason(v), True) for i, v in zip(hit, values)]
    return [p[:1] + p[2:] for p in sorted(out, key=lambda p: p[:2])]
