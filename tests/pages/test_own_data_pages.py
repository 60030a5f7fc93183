"""Issue 26 on the pages: the demo data is named in every page's header; the Import page's
first real import on the demo offers "start clean" by default; "Split by" offers dimensions only."""

import shutil

import pytest

from kam_analytics import db, demo

from ..conftest import FIXTURES
from .test_pages import _open

DEMO_SENTENCE = "Import your own files on the Import page to replace it."


def _demo_note(at) -> list[str]:
    return [i.value for i in at.info if i.value.startswith("Demo data:")]


@pytest.mark.parametrize("page", ["views/overview.py", "views/stage_durations.py", "views/import_files.py",
                                  "views/settings.py"])
def test_every_page_says_it_shows_the_demo(monkeypatch, demo_db_factory, page):
    at = _open(monkeypatch, demo_db_factory(300, 3), page)
    assert not at.exception
    notes = _demo_note(at)
    assert len(notes) == 1 and notes[0].endswith(DEMO_SENTENCE), notes


def test_no_demo_note_on_own_data(monkeypatch, tiny_db):
    at = _open(monkeypatch, tiny_db, "views/stage_durations.py")
    assert not at.exception and not _demo_note(at)


def test_the_import_page_starts_clean_by_default_and_undo_brings_the_demo_back(monkeypatch, tmp_path,
                                                                              demo_db_factory):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_factory(300, 3), path)
    at = _open(monkeypatch, path, "views/import_files.py")
    files = [(f.name, f.read_bytes(), "text/csv") for f in (FIXTURES / "tiny" / "deals.csv",
                                                           FIXTURES / "tiny" / "deal_history.csv")]
    at.file_uploader[0].set_value(files).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    choice = at.radio(key="demo-choice")
    assert choice.options == ["Start clean (remove the demo data; undo brings it back)",
                              "Keep the demo data beside mine"]
    assert choice.value == choice.options[0]
    at.button(key="load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with db.read(path) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 7
        assert demo.present(con) is None
    assert not _demo_note(at)
    at.selectbox(key="undo-batch").set_value(2)
    at.checkbox(key="undo-sure-1").check().run()
    at.button(key="undo").click().run()
    assert not at.exception
    with db.read(path) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 300


def test_the_import_page_can_keep_the_demo(monkeypatch, tmp_path, demo_db_factory):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_factory(300, 3), path)
    at = _open(monkeypatch, path, "views/import_files.py")
    at.file_uploader[0].set_value([("deals.csv", (FIXTURES / "tiny" / "deals.csv").read_bytes(), "text/csv")]).run()
    at.radio(key="demo-choice").set_value("Keep the demo data beside mine").run()
    at.button(key="load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with db.read(path) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 307


@pytest.mark.parametrize("page", ["views/stage_durations.py", "views/stage_velocity.py"])
def test_split_by_offers_only_dimensions(monkeypatch, demo_db_factory, page):
    at = _open(monkeypatch, demo_db_factory(300, 3), page)
    picker = at.selectbox[0]
    assert picker.label == "Split by" and picker.options[0] == "(none)" and picker.value == "(none)"
    assert {"segment", "owner", "region", "size_band", "industry"} <= set(picker.options)
    assert not {"deal_id", "deal_name", "account_id", "amount", "created_date", "close_date", "stage"} & set(
        picker.options)
    picker.set_value("segment").run()
    assert not at.exception and not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", ["views/stage_durations.py", "views/stage_velocity.py"])
def test_a_split_the_page_cannot_serve_is_said_in_a_sentence(monkeypatch, demo_db_factory, page):
    at = _open(monkeypatch, demo_db_factory(300, 3), page, query={"by": "deal_id"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox[0].value == "(none)"
    said = [c.value for c in at.caption if "not a dimension" in c.value]    # the name shown as text (deal\_id)
    assert said and said[0].replace("\\", "").startswith("“deal_id” is not a dimension"), [c.value for c in at.caption]
