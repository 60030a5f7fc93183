"""The column-wise reader for large text files must give exactly the tables the row-wise
reader gives, and step aside (None) whenever the layout is not plain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kam_analytics.importing import read
from kam_analytics.importing.mapping import known_headers
from kam_analytics.importing.run import import_files

ROOT = Path(__file__).resolve().parents[2]
MAVEN = ROOT / "tests" / "data" / "maven"     # the public dataset, its origin in SOURCE.md


def _cells(t: read.Table) -> list[list]:
    df = t.raw_frame()
    return df.astype(object).where(df.notna(), None).values.tolist()


def _row_wise(path: Path) -> list[read.Table]:
    return [t for g in read.read_grids(path) for t in read.find_tables(g, known_headers())]


def _assert_same(fast: list[read.Table], slow: list[read.Table]) -> None:
    assert len(fast) == len(slow) == 1
    f, s = fast[0], slow[0]
    assert (f.header_row, f.headers, f.meta, f.skipped, f.banner, f.delimiter) == \
        (s.header_row, s.headers, s.meta, s.skipped, s.banner, s.delimiter)
    assert list(f.row_numbers) == list(s.row_numbers)
    assert _cells(f) == _cells(s)


def test_every_text_sample_reads_the_same_column_wise():
    files = sorted(p for d in (ROOT / "data" / "samples", ROOT / "tests" / "fixtures", MAVEN) if d.exists()
                   for p in d.rglob("*") if p.suffix.lower() in read.TEXT_EXT)
    taken = 0
    for p in files:
        fast = read._fast_text_tables(p, p.name, p.suffix.lower(), known_headers())
        if fast is not None:
            _assert_same(fast, _row_wise(p))
            taken += 1
    # the plain ones (Maven's four files, the tiny fixture, CRM-like exports) go column-wise
    assert taken >= 8, f"only {taken} of {len(files)} text files were plain enough"


def _big_csv(path: Path, rows: int = 30_000, middle: str | None = None, tail: str = "",
             encoding: str = "utf-8") -> None:
    lines = ["Deal ID,Deal Name,Account,Stage,Amount,Created Date"]
    for i in range(rows):
        name = f'"Deal {i}, phase 2"' if i % 7 == 0 else f"Deal {i} "   # a quoted comma; a trailing space
        lines.append(f"D{i},{name},Account {i % 50},Proposal,{1000 + i},2025-01-{1 + i % 28:02d}")
        if middle is not None and i == rows // 2:
            lines.append(middle)
    path.write_bytes(("\n".join(lines) + "\n" + tail).encode(encoding))


def test_footer_line_is_left_out_and_said(tmp_path):
    p = tmp_path / "deals.csv"
    _big_csv(p, tail="Total,,,,31000000,\n,,,,,\n")
    assert p.stat().st_size > read.FAST_MIN_BYTES
    fast = read._fast_text_tables(p, p.name, ".csv", known_headers())
    assert fast is not None
    _assert_same(fast, _row_wise(p))
    # header on row 1, 30,000 data rows on rows 2..30,001, the Total line on row 30,002
    assert fast[0].skipped == ["row 30002: footer line 'Total' left out"]
    assert fast[0].n_rows == 30_000
    db = tmp_path / "kam.duckdb"
    r = import_files(db, [p])
    assert r.status == "loaded", r.message
    assert r.files[0].rows == 30_000


@pytest.mark.parametrize("middle", [",,,,,", ""], ids=["empty-cells row", "empty line"])
def test_blank_row_inside_falls_back_to_the_row_reader(tmp_path, middle):
    p = tmp_path / "deals.csv"
    _big_csv(p, middle=middle)
    assert read._fast_text_tables(p, p.name, ".csv", known_headers()) is None
    tables = read.read_tables(p, known_headers())
    # the row reader reads through a blank row that is not followed by another header
    assert sum(t.n_rows for t in tables) == 30_000


def test_another_encoding_after_the_sample_falls_back(tmp_path):
    p = tmp_path / "deals.csv"
    _big_csv(p, tail="D-last,Café €,Account 1,Proposal,5,2025-02-01\n", encoding="cp1252")
    assert read._fast_text_tables(p, p.name, ".csv", known_headers()) is None
    tables = read.read_tables(p, known_headers())
    assert tables[0].rows[-1][1] == "Café €"      # decoded as cp1252 by the row reader


def test_large_plain_file_is_read_column_wise(tmp_path):
    p = tmp_path / "deals.csv"
    _big_csv(p)
    t = read.read_tables(p, known_headers())[0]
    assert t.frame is not None and t.rows == []
    # row 2 holds D0: 'Deal 0, phase 2' (quoted), amount 1000; row 3 'Deal 1 ' keeps its space until conversion
    assert t.frame.iloc[0].tolist() == ["D0", "Deal 0, phase 2", "Account 0", "Proposal", "1000", "2025-01-01"]
    assert t.frame.iloc[1, 1] == "Deal 1 "
    assert isinstance(t.frame, pd.DataFrame) and list(t.row_numbers[:2]) == [2, 3]


def _dump(db_path: Path) -> dict:
    """Every data table, the derived visits and the import log's rejects (both databases are
    fresh, so batch ids agree)."""
    from kam_analytics import db

    with db.read(db_path) as con:
        return {t: con.execute(f'select * from "{t}" order by all').fetchall()
                for t in (*db.DATA_TABLES, "stage_visits", "import_rejects")}


TEXT_SAMPLES = sorted([*(ROOT / "data" / "samples" / "messy").glob("*.csv"),
                       *(ROOT / "data" / "samples" / "messy").glob("*.t[sx][vt]")])


@pytest.mark.parametrize("sample", TEXT_SAMPLES, ids=lambda p: p.name)
def test_column_wise_import_stores_what_the_row_wise_import_stores(sample, tmp_path, monkeypatch):
    """Each messy text sample imported both ways: every stored row and every rejected value
    the same (the converters take Arrow-backed text columns as well as Python cells)."""
    dumps, results = [], []
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(read, "FAST_MIN_BYTES", threshold)
        db_path = tmp_path / f"kam{threshold}.duckdb"
        r = import_files(db_path, [sample], keep_good_rows=True)
        results.append((r.status, [(f.kind, f.rows, f.rejected, f.notes) for f in r.files]))
        dumps.append(_dump(db_path) if r.status == "loaded" else None)
    assert results[0] == results[1]
    assert dumps[0] == dumps[1]


def test_maven_export_imports_the_same_column_wise(tmp_path, monkeypatch):
    files = [MAVEN / f for f in ("accounts.csv", "sales_pipeline.csv", "sales_teams.csv", "products.csv")]
    dumps = []
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(read, "FAST_MIN_BYTES", threshold)
        r = import_files(tmp_path / f"kam{threshold}.duckdb", files)
        assert r.status == "loaded", r.message
        dumps.append(_dump(tmp_path / f"kam{threshold}.duckdb"))
    assert dumps[0] == dumps[1]
