"""Own data, not mixed with the demo (issue 26): an import into a database holding the demo
data must choose; "replace" removes the demo's rows in the import's own batch, so undoing
that batch gives the demo back exactly."""

import shutil

import pytest

from kam_analytics import db, demo
from kam_analytics.batches import undo
from kam_analytics.errors import InputError
from kam_analytics.importing.run import import_files

from ..conftest import FIXTURES


def _tables(path) -> dict:
    """Every data table's rows, sorted, for an exact comparison."""
    with db.read(path) as con:
        return {t: sorted(map(repr, con.execute(f'select * from "{t}"').fetchall())) for t in db.DATA_TABLES}


@pytest.fixture
def small_demo(tmp_path, demo_db_factory):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_factory(300, 3), path)
    return path


FILES = [FIXTURES / "tiny" / "deals.csv", FIXTURES / "tiny" / "deal_history.csv"]


def test_the_demo_is_present_until_its_rows_are_gone(small_demo, tmp_path):
    with db.read(small_demo) as con:
        found = demo.present(con)
    assert found == {"batch_ids": [1], "deals": 300}
    with db.read(tmp_path / "empty.duckdb") as con:
        assert demo.present(con) is None


def test_an_import_into_the_demo_must_choose(small_demo):
    before = _tables(small_demo)
    with pytest.raises(InputError) as exc:
        import_files(small_demo, FILES)
    assert "--replace-demo" in str(exc.value) and "--keep-demo" in str(exc.value)
    assert _tables(small_demo) == before                       # never deletes, never mixes by default


def test_keep_mixes_and_replace_starts_clean(small_demo, tmp_path):
    kept = tmp_path / "kept.duckdb"
    shutil.copy(small_demo, kept)
    assert import_files(kept, FILES, demo_data="keep").status == "loaded"
    with db.read(kept) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 300 + 7

    result = import_files(small_demo, FILES, demo_data="replace")
    assert result.status == "loaded" and "demo" in result.message
    with db.read(small_demo) as con:
        assert sorted(r[0] for r in con.execute("select deal_id from deals").fetchall()) == ["D1", "D2", "D3", "D4", "D5", "D6", "D7"]
        assert con.execute("select count(*) from accounts").fetchone()[0] == 2      # the file's own accounts only
        assert demo.present(con) is None
        # the stage list is the file's alone: no demo stage left beside it
        stages = {r[0] for r in con.execute("select stage from deal_history union select stage from deals").fetchall()}
    assert not stages & {"Prospecting", "Discovery", "Negotiation"}


def test_undo_of_the_replacing_import_gives_the_demo_back_exactly(small_demo):
    before = _tables(small_demo)
    result = import_files(small_demo, FILES, demo_data="replace")
    assert _tables(small_demo) != before
    assert undo(small_demo, result.batch_id) == [result.batch_id]
    assert _tables(small_demo) == before
    with db.read(small_demo) as con:
        assert demo.present(con) == {"batch_ids": [1], "deals": 300}


def test_starting_clean_is_checked_without_the_demos_words(small_demo, tmp_path):
    """Won / Lost beside the demo's Closed Won / Closed Lost are asked about when the demo stays,
    never when it goes: the check sees the database as the import will leave it."""
    from kam_analytics.importing.run import preview

    own = tmp_path / "own_deals.csv"
    own.write_text("deal_id,account_name,amount,created_date,close_date,stage\n"
                   "X1,Acme,100,2026-01-01,2026-02-01,Won\n"
                   "X2,Acme,200,2026-01-02,2026-02-02,Lost\n"
                   "X3,Bolt,300,2026-01-03,2026-03-03,Prospecting\n")
    kept = preview(small_demo, [own], demo_data="keep")
    assert kept.status == "rejected" and "'Won' may be the same stage as 'Closed Won'" in kept.message
    clean = preview(small_demo, [own], demo_data="replace")
    assert clean.status == "ready", clean.message
    assert not [q for r in clean.files for q in r.questions]
    result = import_files(small_demo, [own], demo_data="replace")
    assert result.status == "loaded", result.message
    with db.read(small_demo) as con:
        assert sorted(r[0] for r in con.execute("select distinct stage from deals").fetchall()) == [
            "Lost", "Prospecting", "Won"]
