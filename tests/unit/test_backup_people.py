"""The whole database out and back in, and a person removed everywhere (issue 10, "Data
that belongs to people"), on tests/fixtures/accounts plus a batch of awkward text."""

import json
import zipfile

import pytest

from kam_analytics import backup, batches, db, people
from kam_analytics.batches import undo
from kam_analytics.cli import main
from kam_analytics.errors import InputError

from ..conftest import load_fixture

# Text a spreadsheet would run, text already quoted, empty text beside a missing value,
# a line break, a quote, emoji and right-to-left letters: all must come back as they were.
AWKWARD = ['=HYPERLINK("http://x","y")', "'=already quoted", "-minus", "+plus", "@at", "\tTab first",
           "", None, "line\nbreak", 'say "hi"', "comma, inside", "rocket 🚀", "شركة النور"]


def _dump(path) -> dict:
    with db.read(path) as con:
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in backup.TABLES}


@pytest.fixture
def source(tmp_path):
    path = load_fixture(tmp_path / "src.duckdb", "accounts")
    with batches.batch(path, "fixture", "awkward text") as b:
        for i, text in enumerate(AWKWARD):
            b.con.execute("insert into accounts (account_id, account_name, industry, batch_id) values (?, ?, ?, ?)",
                          [f"X{i}", f"Awkward {i}", text, b.batch_id])
        b.touched.add("accounts")
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_backup_and_restore_give_back_every_row(tmp_path, source, fmt):
    out = tmp_path / f"backup.{fmt}.zip"
    manifest = backup.export(source, out, fmt)
    assert manifest["schema_version"] == db.SCHEMA_VERSION and manifest["tables"]["accounts"] == 4 + len(AWKWARD)
    target = tmp_path / "restored.duckdb"
    backup.restore(target, out)
    before, after = _dump(source), _dump(target)
    restore_row = after["import_batches"].pop()                # the restore is logged as one more batch
    assert restore_row[1] == "restore" and f"backup.{fmt}.zip" in restore_row[2]
    assert before == after
    with db.read(target) as con:
        got = dict(con.execute("select account_id, industry from accounts where account_id like 'X%'").fetchall())
    assert [got[f"X{i}"] for i in range(len(AWKWARD))] == AWKWARD


def test_the_csv_inside_is_safe_to_open(tmp_path, source):
    out = tmp_path / "b.zip"
    backup.export(source, out, "csv")
    with zipfile.ZipFile(out) as z:
        text = z.read("accounts.csv").decode("utf-8")
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["format"] == "csv" and manifest["product"] == "KAM Analytics"
    # the formula and the risky starts get one leading quote; the already-quoted one a second
    for escaped in ["'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")", "'-minus", "'+plus", "'@at", "'\tTab first",
                    "''=already quoted"]:
        assert escaped in text, escaped
    assert "K1,Alpha Foods,,Enterprise,,,500000.0,4,Ann Lee,Key" in text     # numbers untouched


def test_undo_still_works_after_a_restore(tmp_path, source):
    out = tmp_path / "b.zip"
    backup.export(source, out, "parquet")
    target = tmp_path / "r.duckdb"
    backup.restore(target, out)
    undo(target, 2)                                  # the awkward-text batch, undone in the restored copy
    with db.read(target) as con:
        assert con.execute("select count(*) from accounts where account_id like 'X%'").fetchone()[0] == 0
    with pytest.raises(InputError, match="cannot be undone"):
        undo(target, 3)                              # the restore itself


def test_restore_refuses_to_overwrite_data_unless_told(tmp_path, source, capsys):
    out = tmp_path / "b.zip"
    backup.export(source, out)
    other = load_fixture(tmp_path / "other.duckdb", "winloss")
    before = _dump(other)
    assert main(["--db", str(other), "restore", str(out)]) == 1
    assert "Pass --replace" in capsys.readouterr().err and _dump(other) == before
    assert main(["--db", str(other), "restore", str(out), "--replace"]) == 0
    assert _dump(other)["accounts"] == _dump(source)["accounts"]


def test_a_damaged_backup_changes_nothing(tmp_path, source, capsys):
    out = tmp_path / "b.zip"
    backup.export(source, out)
    target = load_fixture(tmp_path / "t.duckdb", "winloss")
    before = _dump(target)
    # the manifest promises one more deal than deals.csv holds
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                m = json.loads(data)
                m["tables"]["deals"] += 1
                data = json.dumps(m).encode()
            zout.writestr(info.filename, data)
    assert main(["--db", str(target), "restore", str(broken), "--replace"]) == 1
    err = capsys.readouterr().err
    assert "deals holds 10 rows, the manifest says 11" in err and "nothing was restored" in err
    assert _dump(target) == before
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr("manifest.json", json.dumps({"product": "KAM Analytics", "format": "csv", "schema_version": 99,
                                                "tables": {}}))
    assert main(["--db", str(target), "restore", str(newer), "--replace"]) == 1
    assert "newer release (schema 99" in capsys.readouterr().err
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert main(["--db", str(target), "restore", str(junk)]) == 1
    assert "expected a KAM Analytics backup" in capsys.readouterr().err
    assert _dump(target) == before


def test_forget_a_stakeholder_everywhere(tmp_path, capsys):
    path = load_fixture(tmp_path / "p.duckdb", "accounts")
    with db.read(path) as con:
        stakeholders = con.execute("select count(*) from stakeholders").fetchone()[0]
    # Eli Park (tests/fixtures/accounts) is written in three places: his stakeholder row on K1,
    # Fay Moss's reports_to ('eli park', lower case) and the QBR action's external stakeholders.
    assert main(["--db", str(path), "forget", "ELI  PARK"]) == 0          # case and spacing ignored
    listed = capsys.readouterr().out
    assert "stakeholders.name: 1 row(s), row deleted" in listed
    assert "stakeholders.reports_to: 1 row(s), name replaced" in listed
    assert "account_actions.external_stakeholders: 1 row(s), name replaced" in listed
    assert "nothing changed" in listed
    assert main(["--db", str(path), "forget", "Eli Park", "--yes"]) == 0
    said = capsys.readouterr().out
    assert "3 row(s) in 2 table(s)" in said and "removed person 2" in said
    with db.read(path) as con:
        assert con.execute("select count(*) from stakeholders where name ilike '%eli park%'").fetchone()[0] == 0
        assert con.execute("select reports_to from stakeholders where name = 'Fay Moss'").fetchone()[0] == "removed person 2"
        assert con.execute("select external_stakeholders from account_actions where action_step = 'QBR'").fetchone()[0] \
            == "removed person 2"
        assert con.execute("select count(*) from stakeholders").fetchone()[0] == stakeholders - 1
        assert people.places(con, "Eli Park") == []
        batch = con.execute("select action, description from import_batches where batch_id = 2").fetchone()
    assert batch[0] == "forget" and "eli" not in batch[1].lower()          # the log keeps no copy of the name
    assert main(["--db", str(path), "undo", "2"]) == 1
    assert "keeps no copy of the name" in capsys.readouterr().err


def test_forget_an_owner_keeps_the_deals_and_scrubs_the_undo_images(tmp_path):
    path = load_fixture(tmp_path / "p.duckdb", "accounts")
    # a later import overwrites A5's amount: the undo image of A5 (owner Ann Lee) is in undo_log
    with batches.batch(path, "import", "raise A5") as b:
        b.save_prior_rows("deals", "deal_id = ?", ["A5"])
        b.con.execute("update deals set amount = 45000, batch_id = ? where deal_id = 'A5'", [b.batch_id])
        b.touched.add("deals")
    with db.read(path) as con:
        deals_before = con.execute("select count(*) from deals").fetchone()[0]
        ann = con.execute("select count(*) from deals where owner = 'Ann Lee'").fetchone()[0]
    done = people.forget(path, "ann lee")
    batch_id, found = done.batch_id, done.places
    where = {(f["table"], f["column"]): f["rows"] for f in found}
    # Ann Lee owns 7 of the fixture's 10 deals (deals.csv rows 2-7 and 11), 2 accounts, 4 account plans (created_by), 5 actions,
    # and the one undo image
    assert where[("deals", "owner")] == ann == 7
    assert where[("accounts", "account_owner")] == 2 and where[("account_plans", "created_by")] == 4
    assert where[("account_actions", "owner")] == 5 and where[("undo_log", "row_json")] == 1
    with db.read(path) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == deals_before
        assert con.execute("select count(*) from deals where owner = ?", [f"removed person {batch_id}"]).fetchone()[0] == 7
        assert people.places(con, "Ann Lee") == []
    undo(path, 2)                                   # the earlier import still undoes, from the scrubbed image
    with db.read(path) as con:
        assert con.execute("select amount, owner from deals where deal_id = 'A5'").fetchone() == (40000, f"removed person {batch_id}")


def test_forget_refuses_short_or_unknown_names(tmp_path):
    path = load_fixture(tmp_path / "p.duckdb", "accounts")
    with pytest.raises(InputError, match="too short"):
        people.forget(path, "Al")
    with pytest.raises(InputError, match="not in the database"):
        people.forget(path, "Nobody Here")
    with db.read(path) as con:                   # "Ann Lee" is not found inside a longer word
        assert people.places(con, "Ann Le") == []
