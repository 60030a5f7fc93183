"""Hostile and broken workbooks (issue 10): the zip's directory is read before anything is
inflated, so a truncated file, a zip bomb or a sheet declaring millions of cells is refused
with one message naming the file (and sheet) - and the data stays as it was."""

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from kam_analytics import db
from kam_analytics.cli import main
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
