"""Hostile and broken workbooks (issue 10): the zip's directory is read before anything is
inflated, so a truncated file, a zip bomb or a sheet declaring millions of cells is refused
with one message naming the file (and sheet) - and the data stays as it was."""

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kam_analytics import db
from kam_analytics.cli import main
from kam_analytics.errors import InputError
from kam_analytics.importing import read

from ..conftest import load_fixture


def _xlsx(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Deals"
    ws.append(["Deal ID", "Stage", "Amount"])
    for i in range(5):
        ws.append([f"D{i}", "A", 100 * i])
    wb.save(path)
    return path


def _rewrite(src, dst, change):
    """A copy of the zip `src` with each part passed through change(name, bytes) -> bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return dst


def _refused(capsys, db_file, path, *words):
    before = _dump(db_file)
    code = main(["--db", str(db_file), "import", str(path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in err and path.name in err
    for w in words:
        assert w in err, err
    assert _dump(db_file) == before                  # every data table as it was
    return err


def _dump(path):
    with db.read(path) as con:
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in db.DATA_TABLES}


@pytest.fixture
def data_db(tmp_path):
    return load_fixture(tmp_path / "data.duckdb", "winloss")


def test_truncated_workbook(tmp_path, capsys, data_db):
    good = _xlsx(tmp_path / "good.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good[: len(good) // 2])
    _refused(capsys, data_db, cut, "damaged or truncated", "save it again")


def test_zip_bomb_is_not_inflated(tmp_path, capsys, data_db):
    # a sheet part of 100 MB of one repeated byte packs to about 100 KB: 1,000 times
    bomb = tmp_path / "bomb.xlsx"
    src = _xlsx(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with zout.open(info.filename, "w") as f:
                    chunk = b" " * (1 << 20)
                    for _ in range(100):
                        f.write(chunk)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
    err = _refused(capsys, data_db, bomb, "zip bomb", "xl/worksheets/sheet1.xml")
    assert "times its packed size" in err


def test_sheet_declaring_too_many_cells(tmp_path, capsys, data_db):
    # the dimension claims A1:ALL1000000 (1,000 columns × 1,000,000 rows = 10^9 cells)
    src = _xlsx(tmp_path / "src.xlsx")
    huge = _rewrite(src, tmp_path / "huge.xlsx", lambda n, b: re.sub(rb'<dimension ref="A1:C6"\s*/>',
                                                                   b'<dimension ref="A1:ALL1000000"/>', b)
                    if n == "xl/worksheets/sheet1.xml" else b)
    assert b"ALL1000000" in zipfile.ZipFile(huge).read("xl/worksheets/sheet1.xml")
    _refused(capsys, data_db, huge, "sheet 'Deals'", "1,000,000,000 cells", "export it as csv")


def test_caps_leave_real_workbooks_alone(tmp_path):
    cells = read._inspect_zip(_xlsx(tmp_path / "ok.xlsx"), "ok.xlsx")
    assert cells == {"xl/worksheets/sheet1.xml": 3 * 6}          # A1:C6
    assert read._column_number(b"ALL") == 1000 and read._column_number(b"A") == 1


def test_not_a_zip_at_all(tmp_path, capsys, data_db):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    _refused(capsys, data_db, fake, "damaged or truncated")
    text = tmp_path / "text.xlsx"
    text.write_bytes(io.BytesIO(b"hello,world\n1,2\n").getvalue())
    code = main(["--db", str(data_db), "import", str(text)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err and "text.xlsx" in err


# Issue 27 item 1: tiny files that expand to gigabytes. Each is refused from what its zip
# says - the real extent of the filled cells, the repeat counts, the shared strings' sizes -
# before calamine expands anything, in a process that stays small.
CORPUS = Path(__file__).resolve().parents[1] / "bad_files"
EXPANDING = {
    "one_cell_at_zz400000.xlsx": ("sheet 'Deals'", "ZZ400000", "400,000 rows × 702 columns",
                                  "over the 4,000,000 cells this importer reads from one sheet", "split"),
    "ods_repeated_rows.ods": ("sheet 'Deals'", "1,000,000 times", "over the 4,000,000 cells", "split"),
    "shared_string_1mb_in_1500_cells.xlsx": ("sheet 'Deals'", "1,500 cells", "1,048,578 characters",
                                             "characters of text this importer reads from one workbook", "split"),
    "fifteen_sheets.xlsx": ("15 sheets", "45,000,000 cells", "over the 4,000,000 cells this importer reads from "
                                                               "one workbook", "split"),
}


@pytest.mark.parametrize("name", EXPANDING)
def test_tiny_files_that_expand_are_refused_with_the_limit(capsys, data_db, name):
    err = _refused(capsys, data_db, CORPUS / name, *EXPANDING[name])
    assert err.count(name) == 1


@pytest.mark.parametrize("name", EXPANDING)
def test_refusing_them_stays_small(tmp_path, data_db, name):
    """The whole CLI import, in its own process: peak RSS well under the 2 GB bound (an
    expansion of any of these files would take gigabytes)."""
    # the child's own high-water mark (VmHWM, this process image only): ru_maxrss would start
    # from the parent's size at the fork (Linux keeps it across exec), the whole test run's
    script = ("import re, sys\nfrom kam_analytics.cli import main\n"
              f"code = main(['--db', {str(data_db)!r}, 'import', {str(CORPUS / name)!r}])\n"
              "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
              "print(code, int(hwm) // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    code, peak_mb = proc.stdout.split()[-2:]
    assert code == "1", proc.stderr[-2000:]
    assert int(peak_mb) < 400, peak_mb


def test_real_extent_is_read_from_the_cells_not_the_declared_dimension(tmp_path):
    """The dimension says A1:C6, the cells say otherwise: the cells win."""
    src = _xlsx(tmp_path / "src.xlsx")
    far = _rewrite(src, tmp_path / "far.xlsx", lambda n, b: b.replace(b"</sheetData>", b'<row r="400000"><c r='
                                                                      b'"ZZ400000"><v>1</v></c></row></sheetData>')
                   if n == "xl/worksheets/sheet1.xml" else b)
    assert b'<dimension ref="A1:C6"' in zipfile.ZipFile(far).read("xl/worksheets/sheet1.xml")
    with pytest.raises(InputError, match="ZZ400000"):
        read.read_grids(far)


def test_styled_empty_cells_far_away_do_not_count(tmp_path):
    """A format reaching far (an empty cell with a style) is not data: calamine skips it, so
    does the limit."""
    src = _xlsx(tmp_path / "src.xlsx")
    styled = _rewrite(src, tmp_path / "styled.xlsx", lambda n, b: b.replace(
        b"</sheetData>", b'<row r="400000"><c r="ZZ400000" s="0"/></row></sheetData>')
        if n == "xl/worksheets/sheet1.xml" else b)
    grids = read.read_grids(styled)
    assert [len(g.rows) for g in grids] == [6]


def test_formula_with_no_saved_value_is_a_bad_value(tmp_path):
    """calamine reads a formula cell with no saved value as empty: it is named a bad value."""
    grids = read.read_grids(CORPUS / "formula_no_saved_value.xlsx")
    assert grids[0].rows[2][5] is None
    found = [(p.row, p.col, p.value, p.reason) for p in grids[0].problems]
    assert found == [(2, 5, "=SUM(1000,2)", "a formula with no saved value: open and save the file in a spreadsheet "
                                            "program")]


def test_formula_with_saved_empty_text_is_not_a_bad_value(tmp_path):
    """A formula whose saved result is empty text (t="str", <v></v>) has a value: ''."""
    src = _xlsx(tmp_path / "src.xlsx")
    ok = _rewrite(src, tmp_path / "ok.xlsx", lambda n, b: re.sub(
        rb'<c r="C3"[^>]*?(/>|>.*?</c>)', b'<c r="C3" t="str"><f>IF(1,"","x")</f><v></v></c>', b)
        if n == "xl/worksheets/sheet1.xml" else b)
    assert b"IF(1" in zipfile.ZipFile(ok).read("xl/worksheets/sheet1.xml")
    assert read.read_grids(ok)[0].problems == []


@pytest.mark.parametrize("cell", [b'<c\tr="ZZ400000"><v>1</v></c>', b"<c r='ZZ400000'><v>1</v></c>",
                                  b'<c  r="ZZ400000" t="n"><v>1</v></c>'])
def test_a_far_cell_written_unusually_is_still_measured(tmp_path, cell):
    """The fast pass reads references as programs write them (` r="A1"`); any other spelling
    sends the sheet through the cell-by-cell pass, which finds the far cell all the same."""
    src = _xlsx(tmp_path / "src.xlsx")
    far = _rewrite(src, tmp_path / "far.xlsx", lambda n, b: b.replace(b"</sheetData>", b'<row r="400000">' + cell +
                                                                      b"</row></sheetData>")
                   if n == "xl/worksheets/sheet1.xml" else b)
    with pytest.raises(InputError, match="ZZ400000"):
        read.read_grids(far)


def test_sheets_over_a_workbook_limit_only_by_the_fast_bound_are_read(tmp_path, monkeypatch):
    """The fast pass bounds inline text by the part's bytes; two sheets whose bytes add up
    past the text limit but whose text does not are measured cell by cell, and read."""
    from openpyxl import Workbook

    wb = Workbook()
    for title in ("One", "Two"):
        ws = wb.create_sheet(title)
        ws.append(["Deal ID", "Stage", "Amount"])
        for i in range(300):
            ws.append([f"D{i}", "A", i])
    wb.remove(wb["Sheet"])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    size = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setattr(read, "MAX_TEXT_CHARS", size + size // 2)     # one part's bytes fit, two do not
    assert [len(g.rows) for g in read.read_grids(path)] == [301, 301]
