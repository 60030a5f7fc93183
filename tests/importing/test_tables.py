"""Finding the table in a file (docs/data.md "Bad input", "Reading values"): summary lines
(totals, subtotals, counts) are told by their shape, at the foot of a table or between its
groups, left out and said with their row numbers - by the row-wise reader and by the
column-wise one for large text files alike - while data rows that merely start with such a
word stay; spreadsheet error values are bad values named as such, whatever the sheet order
of the workbook and whatever the format (an error cell, or its text typed into a csv)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from kam_analytics.cli import main
from kam_analytics.importing import read
from kam_analytics.importing.mapping import known_headers
from kam_analytics.importing.run import import_files

from .test_fast_csv import _assert_same, _row_wise

FIELD_LOG = ("Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
             "006A1,2026-01-20 10:00,Stage,Qualification,Proposal\n"
             "006A1,2026-02-01 09:00,Amount,10000,12000\n"
             "006A2,2026-02-03 11:00,Stage,Proposal,Negotiation\n")
DEALS_HEADER = ["Deal ID", "Deal Name", "Account", "Stage", "Amount", "Close Date"]


def _tables(path: Path) -> list[read.Table]:
    return read.read_tables(path, known_headers())


def _csv(path: Path, rows: list[list]) -> Path:
    pd.DataFrame(rows).to_csv(path, header=False, index=False)
    return path


def _deal(i: int, name: str | None = None, account: str | None = None) -> list:
    return [f"D{i}", name or f"Deal {i}", account or f"Account {i % 3}", "Proposal", 1000 + i, "2026-03-31"]


# --- summary lines ---------------------------------------------------------------------------

def test_grand_totals_with_a_record_count_at_the_foot_of_a_field_change_log(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text(FIELD_LOG + "Grand Totals (1519 records),,,,\n", encoding="utf-8")
    (t,) = _tables(p)
    assert t.row_numbers == [2, 3, 4]
    assert t.skipped == ["row 5: footer line 'Grand Totals (1519 records)' left out"]
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "loaded", result.message
    rep = result.files[0]
    assert (rep.kind, rep.rows) == ("deal_field_history", 3)
    assert "row 5: footer line 'Grand Totals (1519 records)' left out" in rep.notes


LABELS = ["Total", "TOTALS", "Grand Total", "grand totals", "Grand Totals (1519 records)", "Totale",
          "Totale complessivo", "Totale generale", "Subtotal", "Sub-total", "Subtotale", "Count", "Record count",
          "Sum", "Somma", "Totali", "Totale (12 righe)", "Total: 12", "Count: 3", "Record Count (3)",
          "Subtotal Alpha Foods", "Total Proposal", "Totale Negoziazione"]


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("where", ["foot", "between groups"])
def test_summary_lines_are_told_by_their_shape(tmp_path, label, where):
    rows = [DEALS_HEADER, _deal(1), _deal(2)]
    summary = [label, None, None, None, 2003, None]
    rows += [summary, _deal(3)] if where == "between groups" else [summary]
    (t,) = _tables(_csv(tmp_path / "deals.csv", rows))
    assert [r[0] for r in t.rows] == (["D1", "D2", "D3"] if where == "between groups" else ["D1", "D2"])
    assert t.row_numbers == ([2, 3, 5] if where == "between groups" else [2, 3])
    (note,) = t.skipped
    assert note.startswith("row 4: ") and repr(label) in note and note.endswith("left out")


def test_a_grouped_report_with_subtotals_between_groups(tmp_path):
    rows = [["Stage", "Deal ID", "Deal Name", "Account", "Amount"],
            ["Proposal", "D1", "Alpha renewal", "Alpha Foods", "1.000,00"],
            [None, "D2", "Beta pilot", "Beta Motors", "2.500,00"],
            ["Subtotal", None, None, None, "3.500,00"],
            ["Negotiation", "D3", "Gamma expansion", "Gamma Srl", "4.000,00"],
            ["Subtotal", "(1 record)", None, None, "4.000,00"],
            ["Grand Total", "(3 records)", None, None, "7.500,00"]]
    (t,) = _tables(_csv(tmp_path / "grouped.csv", rows))
    assert [r[1] for r in t.rows] == ["D1", "D2", "D3"]
    assert t.row_numbers == [2, 3, 5]
    assert [n.split(":")[0] for n in t.skipped] == ["row 4", "row 6", "row 7"]
    assert "'Subtotal'" in t.skipped[0] and "'Grand Total'" in t.skipped[2]


def test_a_subtotal_with_its_group_label_in_the_next_cell(tmp_path):
    rows = [["Deal ID", "Account", "Deal Name", "Stage", "Owner", "Amount"],
            ["D1", "Alpha Foods", "Alpha renewal", "Proposal", "Anna", 1000],
            ["D2", "Alpha Foods", "Alpha pilot", "Proposal", "Anna", 2000],
            ["Subtotal", "Alpha Foods", None, None, None, 3000],
            ["D3", "Beta Motors", "Beta pilot", "Lead", "Ben", 500]]
    (t,) = _tables(_csv(tmp_path / "grouped.csv", rows))
    assert t.row_numbers == [2, 3, 5] and len(t.skipped) == 1


def test_data_rows_that_start_with_a_summary_word_stay(tmp_path):
    rows = [DEALS_HEADER,
            _deal(1),
            ["D2", "Total Gym renewal", "Total Gym", "Proposal", 5000, "2026-04-30"],   # not the first cell
            ["D3", "Totale rinnovo", "Totale Srl", "Negotiation", 700, "2026-05-31"]]
    (t,) = _tables(_csv(tmp_path / "deals.csv", rows))
    assert t.row_numbers == [2, 3, 4] and t.skipped == []
    # the name or account in the first column, other text cells filled
    rows = [["Account", "Industry", "Tier", "Owner"],
            ["Alpha Foods", "Retail", "key", "Anna"],
            ["Totale Srl", "Manufacturing", "strategic", "Marco"],
            ["Total Gym", "Fitness", "key", "Ben"],
            ["Sum Holdings", "Finance", "growth", "Eva"],
            ["Count Industries", "Retail", "growth", "Dan"]]
    (t,) = _tables(_csv(tmp_path / "accounts.csv", rows))
    assert t.row_numbers == [2, 3, 4, 5, 6] and t.skipped == []
    rows = [["Deal Name", "Deal ID", "Stage", "Owner", "Amount"],
            ["Alpha renewal", "D1", "Proposal", "Anna", 1000],
            ["Total Gym renewal", "D2", "Negotiation", "Ben", 5000]]
    (t,) = _tables(_csv(tmp_path / "named.csv", rows))
    assert t.row_numbers == [2, 3] and t.skipped == []


def test_a_deal_named_total_gym_renewal_is_imported(tmp_path):
    p = _csv(tmp_path / "deals.csv", [DEALS_HEADER, _deal(1), ["D2", "Total Gym renewal", "Total Gym", "Proposal",
                                                             5000, "2026-04-30"], ["Total", None, None, None, 6001, None]])
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "loaded", result.message
    assert result.files[0].rows == 2
    assert result.files[0].notes[0] == "row 4: footer line 'Total' left out"


def _big(path: Path, rows: int = 30_000, middle: dict[int, str] | None = None, tail: str = "") -> Path:
    lines = [",".join(DEALS_HEADER)]
    for i in range(rows):
        lines.append(f"D{i},Deal {i},Account {i % 50},Proposal,{1000 + i},2026-01-{1 + i % 28:02d}")
        if middle and i in middle:
            lines.append(middle[i])
    path.write_bytes(("\n".join(lines) + "\n" + tail).encode())
    assert path.stat().st_size > read.FAST_MIN_BYTES
    return path


def test_large_csv_with_a_subtotal_in_the_middle_and_a_footer_reads_column_wise(tmp_path):
    p = _big(tmp_path / "big.csv", middle={15_000: "Subtotal Account group 1 (15001 records),,,,15000,"},
             tail="Grand Totals (30000 records),,,,31000000,\n")
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    _assert_same(fast, _row_wise(p))
    assert fast[0].n_rows == 30_000
    assert fast[0].skipped == ["row 15003: summary line 'Subtotal Account group 1 (15001 records)' left out",
                               "row 30003: footer line 'Grand Totals (30000 records)' left out"]
    assert 15_003 not in list(fast[0].row_numbers)


def test_large_csv_with_subtotals_near_the_top_still_reads_column_wise(tmp_path):
    p = _big(tmp_path / "big.csv", middle={2: "Subtotal,,,,3003,", 25_000: "Total Proposal,,,,1,"})
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    _assert_same(fast, _row_wise(p))
    assert [n.split(":")[0] for n in fast[0].skipped] == ["row 5", "row 25004"]


def test_large_csv_where_the_first_column_is_often_empty(tmp_path):
    """A summary line whose label is in a later column (the first is empty), with most rows
    having an empty first column: the column-wise reader still finds it."""
    lines = ["Owner,Deal ID,Stage,Amount"] + [f",D{i},Proposal,{i}" for i in range(40_000)]
    lines.insert(20_000, ",Total,,123")
    p = tmp_path / "sparse.csv"
    p.write_text("\n".join(lines) + "\n")
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    _assert_same(fast, _row_wise(p))
    assert fast[0].skipped == ["row 20001: summary line 'Total' left out"]


def test_large_csv_keeps_total_gym_renewal(tmp_path):
    p = _big(tmp_path / "big.csv", middle={100: "D-TG,Total Gym renewal,Total Gym,Proposal,5000,2026-04-30",
                                           20_000: "Total Gym renewal,D-TG2,Total Gym,Proposal,5000,2026-04-30"})
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    _assert_same(fast, _row_wise(p))
    assert fast[0].n_rows == 30_002 and fast[0].skipped == []


# --- spreadsheet error values ----------------------------------------------------------------

def _chart_first_book(path: Path, error: str = "#DIV/0!") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Deals"
    ws.append(["Deal ID", "Stage", "Amount", "Close Date"])
    ws.append(["D1", "Proposal", 1200, "2026-03-31"])
    ws.append(["D2", "Proposal", error, "2026-04-30"])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=3))
    wb.create_chartsheet("Chart", 0).add_chart(chart)
    wb.save(path)
    return path


def test_a_chart_sheet_before_the_data_sheet_does_not_hide_an_error_cell(tmp_path):
    p = _chart_first_book(tmp_path / "chart_first.xlsx")
    (g,) = read.read_grids(p)
    assert g.sheet == "Deals" and g.rows[2][2] == "#DIV/0!"
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "rejected"
    (r,) = result.rejects.itertuples()
    assert (r.sheet, r.row_number, r.column_name, r.value) == ("Deals", 3, "Amount", "#DIV/0!")
    assert r.reason.startswith("a spreadsheet error value #DIV/0!; expected")


@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_every_error_value_of_a_workbook_is_named(tmp_path, error):
    p = _chart_first_book(tmp_path / "book.xlsm", error)
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "rejected"
    (r,) = result.rejects.itertuples()
    assert r.value == error and r.reason.startswith(f"a spreadsheet error value {error};")


def _swap_parts(src: Path, dst: Path, relative: bool) -> Path:
    """The workbook with its two worksheet parts swapped (the first sheet's cells in
    sheet2.xml), the relationships saying so - as Excel leaves it after sheets are moved."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            name = {"xl/worksheets/sheet1.xml": "xl/worksheets/sheet2.xml",
                    "xl/worksheets/sheet2.xml": "xl/worksheets/sheet1.xml"}.get(info.filename, info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                text = data.decode().replace("sheet1.xml", "@").replace("sheet2.xml", "sheet1.xml").replace("@", "sheet2.xml")
                if relative:
                    text = text.replace('Target="/xl/', 'Target="')
                data = text.encode()
            zout.writestr(name, data)
    return dst


@pytest.mark.parametrize("relative", [False, True], ids=["absolute targets", "relative targets"])
def test_the_sheet_to_part_mapping_follows_the_relationships(tmp_path, relative):
    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["Topic", "Text"])
    ws.append(["a", "b"])
    deals = wb.create_sheet("Deals")
    deals.append(["Deal ID", "Stage", "Amount"])
    deals.append(["D1", "Proposal", "#REF!"])
    wb.save(tmp_path / "plain.xlsx")
    p = _swap_parts(tmp_path / "plain.xlsx", tmp_path / "moved.xlsx", relative)
    grids = {g.sheet: g for g in read.read_grids(p)}
    assert grids["Deals"].rows[1][2] == "#REF!"
    assert [(pr.row, pr.col, pr.value) for pr in grids["Deals"].problems] == [(1, 2, "#REF!")]
    assert grids["Notes"].problems == [] and grids["Notes"].rows[1] == ["a", "b"]


def test_an_error_cell_is_found_whatever_its_attribute_order(tmp_path):
    """Excel writes <c r="C3" s="1" t="e">; other writers put the type first, or quote with '."""
    p = _chart_first_book(tmp_path / "book.xlsx")
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(tmp_path / "other.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b'<c r="C3" t="e">', b"<c t='e' s=\"0\" r='C3'>")
                assert b"<c t='e'" in data
            zout.writestr(info.filename, data)
    (g,) = read.read_grids(tmp_path / "other.xlsx")
    assert [(pr.row, pr.col, pr.value) for pr in g.problems] == [(2, 2, "#DIV/0!")]


def _ods(path: Path, rows: list[list]) -> Path:
    """A minimal OpenDocument spreadsheet; a cell given as ('#DIV/0!', 'error') is a formula
    error as LibreOffice writes it (string-value empty, calcext:value-type="error")."""
    def cell(v):
        if isinstance(v, tuple):
            return (f'<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" '
                    f'calcext:value-type="error"><text:p>{v[0]}</text:p></table:table-cell>')
        if v is None:
            return "<table:table-cell/>"
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
    lead = '<table:table-cell table:number-columns-repeated="2"/>'     # the table starts in column C
    body = "".join("<table:table-row>" + lead + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    empty = '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
               'office:version="1.2"><office:body><office:spreadsheet>'
               '<table:table table:name="Notes"><table:table-row><table:table-cell office:value-type="string">'
               '<text:p>nothing here</text:p></table:table-cell></table:table-row></table:table>'
               f'<table:table table:name="Deals">{empty}{body}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def test_open_document_error_cells_are_named(tmp_path):
    """python-calamine reads every error cell as empty (xlsx, xls, ods alike): an ods file's
    errors are found in its content.xml."""
    p = _ods(tmp_path / "deals.ods", [["Deal ID", "Stage", "Amount", "Close Date"],
                                      ["D1", "Proposal", 1200, "2026-03-31"],
                                      ["D2", "Proposal", ("#N/A", "error"), None],
                                      ["D3", "Proposal", ("Err:502", "error"), "2026-04-30"]])
    grids = {g.sheet: g for g in read.read_grids(p)}
    assert grids["Deals"].rows[4][4] == "#N/A" and grids["Deals"].rows[5][4] == "Err:502"
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "rejected"
    got = sorted((r.row_number, r.column_name, r.value) for r in result.rejects.itertuples())
    assert got == [(5, "Amount", "#N/A"), (6, "Amount", "Err:502")]
    assert all(r.startswith("a spreadsheet error value ") for r in result.rejects["reason"])


@pytest.mark.parametrize("error", ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_an_error_value_typed_into_a_csv_is_named_as_such(tmp_path, error):
    p = tmp_path / "deals.csv"
    p.write_text(f"Deal ID,Stage,Amount\nD1,Proposal,100\nD2,Proposal,{error}\n", encoding="utf-8")
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "rejected"
    (r,) = result.rejects.itertuples()
    assert (r.row_number, r.column_name, r.value) == (3, "Amount", error)
    assert r.reason.startswith(f"a spreadsheet error value {error}; expected")


def test_an_error_value_in_a_large_csv_is_named_as_such(tmp_path):
    p = _big(tmp_path / "big.csv", middle={20_000: "D-X,Deal X,Account X,Proposal,#N/A,2026-01-01"})
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    assert [(row, h, v) for row, h, v, *_ in fast[0].problems] == [(20_003, "Amount", "#N/A")]
    slow = _row_wise(p)
    assert [pr[:3] for pr in slow[0].problems] == [pr[:3] for pr in fast[0].problems]
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "rejected"
    (r,) = result.rejects.itertuples()
    assert (r.row_number, r.value) == (20_003, "#N/A") and "spreadsheet error value #N/A" in r.reason


def test_an_error_value_in_a_column_that_is_not_imported_is_no_problem(tmp_path):
    p = tmp_path / "deals.csv"
    p.write_text("Deal ID,Stage,Amount,Favourite colour\nD1,Proposal,100,#N/A\n", encoding="utf-8")
    result = import_files(tmp_path / "k.duckdb", [p])
    assert result.status == "loaded", result.message


# --- where a csv has no sheet ----------------------------------------------------------------

def test_a_csv_beside_a_workbook_has_no_sheet_nan(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("Deal ID,Stage,Amount\nD1,Proposal,abc\n", encoding="utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = "Deals"
    ws.append(["Deal ID", "Stage", "Amount"])
    ws.append(["D9", "Proposal", "xyz"])
    wb.save(tmp_path / "bad.xlsx")
    result = import_files(tmp_path / "k.duckdb", [csv, tmp_path / "bad.xlsx"])
    sheets = dict(zip(result.rejects["file_name"], result.rejects["sheet"]))
    assert sheets["bad.xlsx"] == "Deals"
    assert sheets["bad.csv"] is None
    code = main(["--db", str(tmp_path / "k.duckdb"), "import", str(csv), str(tmp_path / "bad.xlsx")])
    out, err = capsys.readouterr()
    assert code == 1 and "nan" not in err and "bad.csv, row 2, column 'Amount'" in err


def test_no_reader_gives_a_csv_a_sheet(tmp_path):
    p = _csv(tmp_path / "deals.csv", [DEALS_HEADER, _deal(1)])
    assert [t.sheet for t in _tables(p)] == [None]
    big = _big(tmp_path / "big.csv")
    assert [t.sheet for t in _tables(big)] == [None]
    assert not any(isinstance(t.sheet, float) and math.isnan(t.sheet) for t in _tables(big))
