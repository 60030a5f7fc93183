"""The database: schema version, data version, undo, settings and stage inference."""

import pytest

from kam_analytics import batches, db, settings, settings_store, stage_list
from kam_analytics.batches import list_batches, undo
from kam_analytics.errors import InputError
from kam_analytics.reports.stage_durations import stage_durations


def test_new_database_gets_the_schema(tmp_path):
    with db.read(tmp_path / "new.duckdb") as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(db.SCHEMA_VERSION)
        assert db.data_version(con) == 0
        assert set(db.table_counts(con)) == set(db.DATA_TABLES)


def test_database_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    with db.write(path) as con:
        con.execute("update meta set value = '999' where key = 'schema_version'")
    with pytest.raises(InputError, match="newer release"):
        with db.read(path):
            pass


def test_an_upgraded_database_gets_its_derived_tables_rebuilt_once(tiny_db):
    """A database made by an older release (schema 9: its last migration, 010, not yet
    applied) is migrated on the first open, and the derived tables are built again from the data
    in the same step: here they were emptied, and the first read finds them whole again."""
    assert db.SCHEMA_VERSION == 10, "a new migration: drop below what it makes instead of deal_field_changes"
    with db.read(tiny_db) as con:
        visits = con.execute("select count(*) from stage_visits").fetchone()[0]
        states = con.execute("select count(*) from deal_states").fetchone()[0]
        v0 = db.data_version(con)
    assert visits > 0 and states > 0
    with db.write(tiny_db) as con:
        con.execute("delete from stage_visits")
        con.execute("delete from deal_states")
        con.execute("drop table deal_field_changes")     # what the last migration (010) makes
        con.execute("update meta set value = ? where key = 'schema_version'", [str(db.SCHEMA_VERSION - 1)])
    with db.read(tiny_db) as con:
        assert db.get_meta(con, "schema_version") == str(db.SCHEMA_VERSION)
        assert db.get_meta(con, "derived_stale") == ""
        assert con.execute("select count(*) from stage_visits").fetchone()[0] == visits
        assert con.execute("select count(*) from deal_states").fetchone()[0] == states
        assert db.data_version(con) == v0 + 1          # cached reads of the old tables go stale


def test_every_write_bumps_the_data_version_and_a_failed_one_leaves_nothing(tiny_db):
    with db.read(tiny_db) as con:
        v0 = db.data_version(con)
        n0 = con.execute("select count(*) from import_batches").fetchone()[0]
    settings_store.save(tiny_db, {"min_sample": 3})
    with db.read(tiny_db) as con:
        assert db.data_version(con) == v0 + 1
    with pytest.raises(RuntimeError):
        with batches.batch(tiny_db, "test", "fails half way") as b:
            b.con.execute("delete from deals")
            raise RuntimeError("boom")
    with db.read(tiny_db) as con:
        assert db.data_version(con) == v0 + 1
        assert con.execute("select count(*) from deals").fetchone()[0] == 7
        assert con.execute("select count(*) from import_batches").fetchone()[0] == n0 + 1


def test_stage_list_is_inferred_until_saved(tiny_db):
    # first-visit positions: Lead 1 in every deal; Qualify 2 (D1, D3, D5); Propose 3 (D1)
    # and 2 (D2) -> median 2.5; closed stages last, won before lost
    with db.read(tiny_db) as con:
        cfg = stage_list.stage_config(con)
    assert cfg.inferred
    assert cfg.stages == ("Lead", "Qualify", "Propose", "Closed Won", "Closed Lost")
    assert (cfg.won, cfg.lost, cfg.open) == (("Closed Won",), ("Closed Lost",), ("Lead", "Qualify", "Propose"))
    settings_store.save(tiny_db, {"stages": ["Lead", "Propose", "Qualify", "Closed Won", "Closed Lost"]})
    with db.read(tiny_db) as con:
        cfg = stage_list.stage_config(con)
        df = stage_durations(con, as_of="2026-01-21")
    assert not cfg.inferred and cfg.open == ("Lead", "Propose", "Qualify")
    assert list(df["stage"]) == ["Lead", "Propose", "Qualify"]


def test_each_visit_carries_its_deals_first_closing_and_follows_the_settings(tiny_db):
    def closings(path):
        with db.read(path) as con:
            return dict(con.execute("select deal_id, any_value(closed_at)::varchar from stage_visits "
                                    "group by deal_id").fetchall())

    # tiny fixture, inferred stages (closed: Closed Won, Closed Lost): D1's first Closed Won
    # row is 2026-01-15, D2's Closed Lost 2026-01-12 18:00; D3, D5, D6 and D4 (no history,
    # in Qualify) are open: no closing; D7 has no created_date, so no visit at all
    assert closings(tiny_db) == {"D1": "2026-01-15 00:00:00", "D2": "2026-01-12 18:00:00", "D3": None,
                                 "D4": None, "D5": None, "D6": None}
    # Qualify saved as a won stage: a deal's first closing is now its first Qualify visit.
    # D1 2026-01-03 12:00; D3 01-11; D5 01-02; D6 01-21; D2's Qualify row (01-06) shares its
    # time with a later Propose row, so it was never a state: still its Closed Lost, 01-12 18:00;
    # D4 is in Qualify without history and no closed_date given: now closed, its closed date is
    # derived from its close_date (docs/metrics.md "Dates of a deal"), 2026-03-31, and it closes then
    settings_store.save(tiny_db, {"stages": ["Lead", "Propose", "Qualify", "Closed Won", "Closed Lost"],
                            "won_stages": ["Qualify", "Closed Won"], "lost_stages": ["Closed Lost"]})
    assert closings(tiny_db) == {"D1": "2026-01-03 12:00:00", "D2": "2026-01-12 18:00:00",
                                 "D3": "2026-01-11 00:00:00", "D4": "2026-03-31 00:00:00", "D5": "2026-01-02 00:00:00",
                                 "D6": "2026-01-21 00:00:00"}
    with db.read(tiny_db) as con:
        assert con.execute("select status from deals where deal_id = 'D3'").fetchone()[0] == "won"
    # a save of another setting keeps them; undoing the stage list brings the first ones back
    settings_store.save(tiny_db, {"min_sample": 3})
    assert closings(tiny_db)["D3"] == "2026-01-11 00:00:00"
    with db.read(tiny_db) as con:
        stage_batch = [b for b in list_batches(con).to_dict("records") if "stages" in b["description"]][-1]
    undo(tiny_db, stage_batch["batch_id"])   # D4 is open again: its derived closed date goes
    assert closings(tiny_db) == {"D1": "2026-01-15 00:00:00", "D2": "2026-01-12 18:00:00", "D3": None,
                                 "D4": None, "D5": None, "D6": None}


@pytest.mark.parametrize("changes, message", [
    ({"stages": []}, "non-empty list"),
    ({"stages": ["A", "a"]}, "listed twice"),
    ({"stages": ["A", "B"]}, "needs a won stage"),
    ({"fiscal_year_start_month": 13}, "1-12"),
    ({"size_bands": [50, 10]}, "increasing"),
    ({"colour": "blue"}, "unknown setting"),
    ({"stages": ["Lead", "Closed Won", "Qualify", "Propose", "Closed Lost"]},
     "impossible order: the closed stage 'Closed Won' comes before the open stage 'Propose'"),
    ({"stages": ["Lead", "Qualify", "Propose", "Won", "Closed Lost"], "won_stages": ["Won"], "lost_stages": ["Won"]},
     "'Won' is marked both won and lost"),
    ({"stages": ["Closed Won", "Closed Lost"]}, "at least one open stage"),
    ({"risk": {"bands": {"medium": 4, "high": 2}}}, r"medium \(4\) must be below high \(2\)"),
    ({"risk": {"weights": {"stalled": -1}}}, "risk.weights.stalled: expected a number of at least 0"),
    ({"risk": {"stale_days": 0}}, "risk.stale_days: expected a whole number"),
    ({"risk": {"no_plan_stage": "Proposal"}}, "'Proposal' is not in the stage list"),
    ({"mutual_plan_template": [{"step": "Demo", "side": "vendor", "stage": "Lead"}]}, "side must be buyer, seller or joint"),
    ({"mutual_plan_template": [{"step": "Demo", "side": "seller", "stage": "Pitch"}]}, "stage 'Pitch' is not in the stage list"),
    ({"comparable_by": "colour"}, "comparable_by: unknown dimension 'colour'"),
    ({"comparable_min_visits": 0}, "comparable_min_visits: expected a whole number of at least 1"),
])
def test_settings_are_validated(tiny_db, changes, message):
    with db.read(tiny_db) as con:
        before = db.table_counts(con)
    with pytest.raises(InputError, match=message):
        settings_store.save(tiny_db, changes)
    with db.read(tiny_db) as con:
        assert db.table_counts(con) == before


def test_partial_risk_settings_keep_the_other_defaults(tiny_db):
    settings_store.save(tiny_db, {"risk": {"stale_days": 45, "weights": {"stalled": 3}, "no_plan_stage": "Qualify",
                                     "unsigned_plan_stage": "Propose"}})
    with db.read(tiny_db) as con:
        risk = settings.load(con)["risk"]
    assert risk["stale_days"] == 45 and risk["weights"]["stalled"] == 3
    # a weight not set is the calibrated default (None: learnt from the back-test, reports/risk.py)
    assert risk["weights"]["no_plan"] is None and risk["pushed_repeatedly_pushes"] == 2


def test_undo_restores_overwritten_settings_and_refuses_without_cascade(tiny_db):
    first = settings_store.save(tiny_db, {"min_sample": 3})
    second = settings_store.save(tiny_db, {"min_sample": 9})
    with pytest.raises(InputError, match="--cascade"):
        undo(tiny_db, first)
    assert undo(tiny_db, second) == [second]
    with db.read(tiny_db) as con:
        assert settings.load(con)["min_sample"] == 3
    assert undo(tiny_db, first) == [first]
    with db.read(tiny_db) as con:
        assert settings.load(con)["min_sample"] == settings.DEFAULTS["min_sample"]
        statuses = dict(list_batches(con)[["batch_id", "status"]].itertuples(index=False))
    assert statuses[first] == statuses[second] == "undone"


def test_cascade_undoes_the_later_batches_too(tiny_db):
    first = settings_store.save(tiny_db, {"min_sample": 3})
    second = settings_store.save(tiny_db, {"min_sample": 9})
    assert undo(tiny_db, first, cascade=True) == [second, first]
    with db.read(tiny_db) as con:
        assert settings.load(con)["min_sample"] == settings.DEFAULTS["min_sample"]


def test_undo_of_a_data_batch_removes_its_rows(tiny_db):
    with db.read(tiny_db) as con:
        fixture_batch = con.execute("select min(batch_id) from import_batches").fetchone()[0]
    undo(tiny_db, fixture_batch)
    with db.read(tiny_db) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 0
        assert con.execute("select count(*) from stage_visits").fetchone()[0] == 0


def test_a_database_made_by_the_first_release_still_opens(tmp_path):
    """tests/fixtures/db/v1_tiny.duckdb.gz: the tiny fixture and one saved setting, written by
    schema version 1. Opening it migrates it; data, settings and reports are intact."""
    import gzip
    import shutil
    from pathlib import Path

    src = Path(__file__).parent.parent / "fixtures" / "db" / "v1_tiny.duckdb.gz"
    path = tmp_path / "v1.duckdb"
    with gzip.open(src, "rb") as f, open(path, "wb") as out:
        shutil.copyfileobj(f, out)
    with db.read(path) as con:
        assert con.execute("select value from meta where key = 'schema_version'").fetchone()[0] == str(db.SCHEMA_VERSION)
        assert con.execute("select count(*), count(*) filter (where shape = 'full') from deal_history").fetchone() == (19, 19)
        assert settings.load(con)["min_sample"] == 3
        lead = stage_durations(con, as_of="2026-01-21").iloc[0]
    assert (lead["stage"], lead["deals"], lead["median_days"]) == ("Lead", 4, 2.25)   # as worked out by hand


def test_stage_editor_rows_with_an_impossible_order_are_refused(demo_db_factory, tmp_path):
    import shutil

    path = tmp_path / "order.duckdb"
    shutil.copy(demo_db_factory(2000, 7), path)
    with db.read(path) as con:
        before = db.table_counts(con)
        rows = stage_list.stage_rows(stage_list.stage_config(con))
    rows[-2]["order"] = 2                                # Closed Won moved before the open stages
    with pytest.raises(InputError, match="impossible order: the closed stage 'Closed Won'"):
        settings_store.save(path, stage_list.stage_changes(rows))
    with db.read(path) as con:
        assert db.table_counts(con) == before
