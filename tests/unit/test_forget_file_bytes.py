"""Issue 27, item 4: forget that forgets. After `forget NAME --yes` the name is in no table, and
also not in the database file's bytes (the freed blocks of the old rows and their undo images
went with the old file, rebuilt and swapped in), the kept uploads and remembered answers that
hold it are deleted, and its other spellings are listed for the user to confirm.

The world: tests/fixtures/accounts, plus one batch (2) that adds Nora Taylor as a stakeholder of
K1 with her other spellings written in action notes, and remembers an account alias spelt from
her name; then a batch (3) that changes her title (its undo image holds her row) and remembers
another alias (its undo image holds the alias setting with her name)."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kam_analytics import backup, batches, db, people
from kam_analytics.batches import undo

from ..conftest import load_fixture

NAME = "Nora Taylor"
ROOT = Path(__file__).resolve().parents[2]


def _bytes_hits(path: Path) -> int:
    """How often the name is in the file's (and its WAL's) raw bytes: any case, any spacing,
    as UTF-8/ASCII and as UTF-16 in either byte order."""
    data = path.read_bytes()
    wal = Path(f"{path}.wal")
    if wal.exists():
        data += wal.read_bytes()
    hits = len(re.findall(rb"(?i)nora\s+taylor(?!son)", data))     # not the other person, Nora Taylorson
    for enc in ("utf-16-le", "utf-16-be"):
        for variant in (NAME, NAME.lower(), NAME.upper()):
            hits += data.count(variant.encode(enc))
    return hits


def _dump(path) -> dict:
    """Every table of the file (data, log, derived, meta), each sorted."""
    with db.read(path) as con:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main' "
                                            "and database_name = current_database()").fetchall()]
        return {t: sorted(con.execute(f'select * from "{t}"').fetchall(), key=repr) for t in tables}


@pytest.fixture(autouse=True)
def own_temp(tmp_path, monkeypatch):
    """The temp folder where forget looks for kept uploads: the test's own, never the machine's."""
    temp = tmp_path / "sys-temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    return temp


@pytest.fixture
def world(tmp_path) -> Path:
    path = load_fixture(tmp_path / "w.duckdb", "accounts")
    with batches.batch(path, "fixture", "Nora Taylor and her spellings") as b:
        b.con.execute("insert into stakeholders (account_id, name, title, role, reports_to, batch_id) "
                      "values ('K1', 'Nora Taylor', 'CTO', 'champion', 'Dana Cole', ?)", [b.batch_id])
        b.con.execute("update account_actions set notes = ?, batch_id = ? where action_step = 'QBR'",
                      ["mail nora.taylor@example.com; minutes by Taylor, Nora; not Nora Taylorson", b.batch_id])
        b.con.execute("update account_actions set notes = ?, batch_id = ? where action_step = 'Exec briefing'",
                      ["slides from NoraTaylor, agenda by N. Taylor (not Ann Taylor)", b.batch_id])
        b.con.execute("insert into settings values ('account_aliases', ?, ?)",
                      [json.dumps({"norataylorconsulting": "K1", "acmeltd": "K2"}), b.batch_id])
        b.touched |= {"stakeholders", "account_actions", "settings"}
    with batches.batch(path, "fixture", "a later change") as b:
        b.save_prior_rows("stakeholders", "name = ?", [NAME])
        b.con.execute("update stakeholders set title = 'CIO', batch_id = ? where name = ?", [b.batch_id, NAME])
        b.save_prior_rows("settings", "key = ?", ["account_aliases"])
        b.con.execute("update settings set value = ?, batch_id = ? where key = 'account_aliases'",
                      [json.dumps({"norataylorconsulting": "K1", "acmeltd": "K2", "betaspa": "K3"}), b.batch_id])
        b.touched |= {"stakeholders", "settings"}
    with db.write(path) as con:
        con.execute("checkpoint")
    return path


def test_without_the_rebuild_the_bytes_keep_the_name(world, monkeypatch):
    # the defect as the issue found it: no table holds the name, the file's bytes still do
    assert _bytes_hits(world) > 0
    monkeypatch.setattr(backup, "rebuild", lambda path: 0.0)
    people.forget(world, NAME)
    with db.write(world) as con:
        con.execute("checkpoint")
        assert people.places(con, NAME) == []
    assert _bytes_hits(world) > 0


def test_after_forget_the_file_bytes_do_not_hold_the_name(world, tmp_path):
    done = people.forget(world, "nora  TAYLOR", temp_root=tmp_path / "no-temp")
    assert done.rebuild_seconds > 0
    assert _bytes_hits(world) == 0
    assert not Path(f"{world}.wal").exists()
    leftovers = [p.name for p in world.parent.iterdir() if p.name.startswith(f".{world.name}.")]
    assert leftovers == []
    # the other names are all there (the rebuild lost nothing): Dana Cole's row, Ann Lee's deals
    with db.read(world) as con:
        assert con.execute("select count(*) from stakeholders where name = 'Dana Cole'").fetchone()[0] == 1
        assert con.execute("select count(*) from deals where owner = 'Ann Lee'").fetchone()[0] == 7


def test_the_rebuild_keeps_every_table_meta_and_catalog(world):
    before = _dump(world)
    with db.read(world) as con:
        catalog = backup._catalog(con, con.execute("select current_database()").fetchone()[0])
    backup.rebuild(world)
    assert _dump(world) == before            # data version, schema version, every row of every table
    with db.read(world) as con:
        assert backup._catalog(con, con.execute("select current_database()").fetchone()[0]) == catalog
        assert db.data_version(con) == int(dict(before["meta"])["data_version"])


def test_forget_changes_only_the_rows_that_held_the_name(world):
    before = _dump(world)
    done = people.forget(world, NAME)
    after = _dump(world)
    held = re.compile(r"(?i)nora\s*taylor|taylor, nora|norataylor")
    pseudonym = done.pseudonym
    for table in before:
        kept_before = [r for r in before[table] if not held.search(repr(r))]
        kept_after = [r for r in after[table] if pseudonym not in repr(r) and not held.search(repr(r))]
        if table == "meta":     # the forget's batch bumps the data version by one
            b, a = dict(kept_before), dict(kept_after)
            assert int(a.pop("data_version")) == int(b.pop("data_version")) + 1
            assert a == b
            continue
        if table == "import_batches":       # plus the forget's own entry (its description keeps no name)
            assert [r[0] for r in kept_after if r not in kept_before] == [done.batch_id]
            kept_after = [r for r in kept_after if r[0] != done.batch_id]
        if table == "settings":             # the remembered alias spelt from her name is deleted, the others kept
            b, a = dict((r[0], r[1]) for r in kept_before), dict((r[0], r[1]) for r in after[table])
            assert json.loads(a.pop("account_aliases")) == {"acmeltd": "K2", "betaspa": "K3"}
            assert a == b
            continue
        if table == "undo_log":             # batch 3's image of the aliases, without hers
            extra = [r for r in kept_after if r not in kept_before]
            assert [(r[0], r[1], json.loads(r[2])["value"]) for r in extra] == [(3, "settings", {"acmeltd": "K2"})]
            kept_after = [r for r in kept_after if r not in extra]
        assert kept_after == kept_before, table


def test_remembered_aliases_go_in_the_settings_and_their_undo_images(world):
    with db.read(world) as con:
        assert {"table": "settings", "column": "account_aliases", "rows": 1,
                "change": "remembered entry deleted"} in people.places(con, NAME)
    people.forget(world, NAME)
    with db.read(world) as con:
        image = json.loads(con.execute("select row_json from undo_log where table_name = 'settings'").fetchone()[0])
        assert image["value"] == {"acmeltd": "K2"}   # the undo image of batch 3 keeps the other alias only


def test_undo_and_batches_still_work_for_the_rest(world):
    done = people.forget(world, NAME)
    assert done.batch_id == 4
    undo(world, 3)     # batch 3's images were scrubbed: the undo brings back the title and the aliases without her
    with db.read(world) as con:
        assert con.execute("select title from stakeholders where name = ?", [NAME]).fetchone() is None
        assert json.loads(con.execute("select value from settings where key = 'account_aliases'").fetchone()[0]) \
            == {"acmeltd": "K2"}
        statuses = dict(con.execute("select batch_id, status from import_batches").fetchall())
    assert statuses[3] == "undone" and statuses[4] == "loaded"
    assert _bytes_hits(world) == 0


def test_other_spellings_are_listed_not_changed(world):
    done = people.forget(world, NAME)
    spellings = {o["spelling"]: o for o in done.other_spellings}
    # written in the actions' notes: the e-mail, "Surname, Name", joined, initial and surname; "Nora Taylorson"
    # and "Ann Taylor" are other people
    assert set(spellings) == {"nora.taylor@example.com", "Taylor, Nora", "NoraTaylor", "N. Taylor"}
    assert spellings["Taylor, Nora"]["where"] == "account_actions.notes"
    with db.read(world) as con:
        notes = con.execute("select notes from account_actions where action_step = 'QBR'").fetchone()[0]
    assert "nora.taylor@example.com" in notes and "Taylor, Nora" in notes and "Nora Taylorson" in notes


def test_kept_uploads_that_hold_the_name_are_deleted(world, tmp_path):
    temp = tmp_path / "temp"
    up = temp / "kam-upload-abc"
    up.mkdir(parents=True)
    (up / "map.csv").write_text("name,title\nNora Taylor,CTO\n", encoding="utf-8")
    (up / "map16.csv").write_bytes("name\nNORA TAYLOR\n".encode("utf-16"))
    with zipfile.ZipFile(up / "map.xlsx", "w", zipfile.ZIP_DEFLATED) as z:    # compressed: not in the raw bytes
        z.writestr("xl/sharedStrings.xml", "<sst><si><t>Nora   Taylor</t></si></sst>")
    (up / "deals.csv").write_text("deal_id,owner\nA1,Ann Lee\n", encoding="utf-8")
    other = temp / "someone-else"
    other.mkdir()
    (other / "map.csv").write_text("Nora Taylor\n", encoding="utf-8")          # not a folder of ours
    done = people.forget(world, NAME, temp_root=temp)
    assert sorted(done.files_deleted) == ["map.csv", "map.xlsx", "map16.csv"]
    assert sorted(p.name for p in up.iterdir()) == ["deals.csv"]
    assert (other / "map.csv").exists()


def test_forget_on_the_command_line_says_what_it_did(world):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(world), "forget", NAME],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "stakeholders.name: 1 row(s), row deleted" in run.stdout and "nothing changed" in run.stdout
    assert "'Taylor, Nora': 1 row(s) in account_actions.notes" in run.stdout
    run = subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(world), "forget", NAME, "--yes"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "removed everywhere as batch 4" in run.stdout
    assert re.search(r"the database file was rebuilt in \d+\.\d s", run.stdout)
    assert "other spellings that may be the same person" in run.stdout
    assert "forget nora.taylor@example.com --yes" in run.stdout and "forget 'Taylor, Nora' --yes" in run.stdout
    assert "Traceback" not in run.stderr
    assert _bytes_hits(world) == 0
