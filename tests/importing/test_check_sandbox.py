"""The Import page's check runs in a child process with a memory cap (issue 27): a file that
needs more memory than the cap stops that process with a message, never the server."""

from pathlib import Path

import pytest

from kam_analytics import db
from kam_analytics.importing import sandbox

from ..conftest import load_fixture

CORPUS = Path(__file__).resolve().parents[1] / "bad_files"


@pytest.fixture
def data_db(tmp_path):
    return load_fixture(tmp_path / "data.duckdb", "winloss")


def _dump(path):
    with db.read(path) as con:
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in db.DATA_TABLES}


def test_the_check_in_a_child_gives_what_it_gives_in_process(data_db):
    from kam_analytics.importing.run import preview

    f = CORPUS / "negative_amount.csv"
    here, there = preview(data_db, [f], [f.name]), sandbox.preview(data_db, [f], [f.name])
    assert (there.status, there.message) == (here.status, here.message)
    assert there.rejects.equals(here.rejects) and len(there.rejects) == 1


def test_a_hostile_file_is_refused_by_the_limits_in_the_child(data_db):
    f = CORPUS / "one_cell_at_zz400000.xlsx"
    res = sandbox.preview(data_db, [f], [f.name])
    assert res.status == "rejected" and "over the 4,000,000 cells" in res.message


def test_over_the_memory_cap_the_child_stops_with_a_message(tmp_path, data_db):
    """A plain csv of ~40 MB passes every limit but needs several hundred MB to check: with
    room for 150 MB more than its libraries map, the child runs out and the caller gets a
    rejected result that says so - no exception, no crash, the data unchanged."""
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("Deal ID,Account,Stage,Amount,Created,Close date,Notes\n")
        fh.writelines(f"D{i},Account {i % 97},A,{1000 + i},2026-01-05,2026-06-30,{'n' * 200}\n" for i in range(200_000))
    before = _dump(data_db)
    cap = 150 << 20
    res = sandbox.preview(data_db, [big], [big.name], cap_bytes=cap)
    assert res.status == "rejected", res.message
    assert "needed more than the 150 MB of memory" in res.message and "Split the file" in res.message
    assert len(res.rejects) == 0
    assert _dump(data_db) == before
    # the same file with room to spare is checked
    assert sandbox.preview(data_db, [big], [big.name]).status == "ready"
