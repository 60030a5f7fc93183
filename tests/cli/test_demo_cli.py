"""`import` into a database holding the demo data (issue 26): exit 1 naming the two choices,
never a silent mix or delete; --replace-demo starts clean in the import's batch, --keep-demo mixes."""

import shutil

import pytest

from kam_analytics import db
from kam_analytics.cli import main

from ..conftest import FIXTURES

FILES = [str(FIXTURES / "tiny" / "deals.csv"), str(FIXTURES / "tiny" / "deal_history.csv")]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_file(tmp_path, demo_db_factory):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_factory(300, 3), path)
    return str(path)


def _deals(path) -> int:
    with db.read(path) as con:
        return con.execute("select count(*) from deals").fetchone()[0]


def test_import_into_the_demo_stops_and_names_both_choices(capsys, demo_file):
    code, out, err = run(capsys, "--db", demo_file, "import", *FILES)
    assert code == 1
    assert "demo data" in err and "--replace-demo" in err and "--keep-demo" in err
    assert "Traceback" not in err
    assert _deals(demo_file) == 300


def test_replace_demo_starts_clean_and_undo_brings_the_demo_back(capsys, demo_file):
    code, out, err = run(capsys, "--db", demo_file, "import", *FILES, "--replace-demo")
    assert code == 0, err
    assert "undo" in out and "demo" in out
    assert _deals(demo_file) == 7
    code, out, err = run(capsys, "--db", demo_file, "undo", "2")
    assert code == 0, err
    assert _deals(demo_file) == 300


def test_keep_demo_mixes(capsys, demo_file):
    code, _out, err = run(capsys, "--db", demo_file, "import", *FILES, "--keep-demo")
    assert code == 0, err
    assert _deals(demo_file) == 307


def test_the_two_choices_exclude_each_other(capsys, demo_file):
    code, _out, err = run(capsys, "--db", demo_file, "import", *FILES, "--keep-demo", "--replace-demo")
    assert code == 2 and "not allowed with" in err


def test_a_database_without_demo_needs_no_choice(capsys, tmp_path):
    code, _out, err = run(capsys, "--db", str(tmp_path / "own.duckdb"), "import", *FILES)
    assert code == 0, err
