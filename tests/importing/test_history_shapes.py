"""History shapes built on import: successive snapshots of the same deals export."""

import csv
from datetime import date, datetime

import pytest

from kam_analytics import db
from kam_analytics.cli import main
from kam_analytics.importing.run import import_files
from kam_analytics.reports.stage_durations import stage_durations

HEAD = ["Deal ID", "Stage", "Amount", "Close Date", "Created Date", "Closed Date"]


def export(folder, name, rows):
    path = folder / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEAD, *rows])
    return path


@pytest.fixture
def weekly(tmp_path):
    """Three weekly exports, dated by their file names:
    week 1 (2026-03-02): D1 Lead 100 close 03-31 (created 02-20); D2 Qualify 50 close 04-15 (created 02-25)
    week 2 (2026-03-09): D1 moves to Qualify; D2's close date is pushed to 04-30; D3 appears (Lead, created 03-05)
    week 3 (2026-03-16): D1 unchanged; D2 is won (closed 03-14); D3 is missing from the export
    """
    w1 = export(tmp_path, "pipeline_2026-03-02.csv", [
        ["D1", "Lead", "100", "2026-03-31", "2026-02-20", ""],
        ["D2", "Qualify", "50", "2026-04-15", "2026-02-25", ""]])
    w2 = export(tmp_path, "pipeline_2026-03-09.csv", [
        ["D1", "Qualify", "100", "2026-03-31", "2026-02-20", ""],
        ["D2", "Qualify", "50", "2026-04-30", "2026-02-25", ""],
        ["D3", "Lead", "10", "2026-04-30", "2026-03-05", ""]])
    w3 = export(tmp_path, "pipeline_2026-03-16.csv", [
        ["D1", "Qualify", "100", "2026-03-31", "2026-02-20", ""],
        ["D2", "Closed Won", "50", "2026-03-14", "2026-02-25", "2026-03-14"]])
    path = tmp_path / "s.duckdb"
    results = [import_files(path, [w]) for w in (w1, w2, w3)]
    return path, results


def test_three_weekly_exports_build_the_history(weekly):
    path, results = weekly
    with db.read(path) as con:
        rows = con.execute("select deal_id, changed_at, stage, close_date, shape from deal_history "
                           "order by deal_id, changed_at").fetchall()
    ts = lambda d: datetime.fromisoformat(d)  # noqa: E731
    assert rows == [
        # the first snapshot holding a deal gives a row at its created date
        ("D1", ts("2026-02-20"), "Lead", date(2026, 3, 31), "snapshot"),
        ("D1", ts("2026-03-09"), "Qualify", date(2026, 3, 31), "snapshot"),      # week 2: stage changed
        ("D2", ts("2026-02-25"), "Qualify", date(2026, 4, 15), "snapshot"),
        ("D2", ts("2026-03-09"), "Qualify", date(2026, 4, 30), "snapshot"),      # week 2: pushed
        ("D2", ts("2026-03-16"), "Closed Won", date(2026, 3, 14), "snapshot"),   # week 3: won
        ("D3", ts("2026-03-05"), "Lead", date(2026, 4, 30), "snapshot"),         # week 2: first seen
    ]
    assert any("from the file name" in n for n in results[0].files[0].notes)
    assert any("1 deal(s) seen in earlier snapshots are not in this export" in n for n in results[2].files[0].notes)


def test_stage_durations_from_snapshots(weekly):
    # As of 2026-03-17: D1 Lead 02-20 -> 03-09 = 17 d, Qualify open since 03-09 (8 d);
    # D2 Qualify 02-25 -> 03-16 = 19 d (the push is the same visit); D3 Lead open since 03-05 (12 d)
    path, _ = weekly
    with db.read(path) as con:
        r = {x["stage"]: x for x in stage_durations(con, as_of="2026-03-17").to_dict("records")}
    assert (r["Lead"]["deals"], r["Lead"]["median_days"], r["Lead"]["in_progress"], r["Lead"]["in_progress_median_age_days"]) == (1, 17, 1, 12)
    assert (r["Qualify"]["deals"], r["Qualify"]["median_days"], r["Qualify"]["in_progress"], r["Qualify"]["in_progress_median_age_days"]) == (1, 19, 1, 8)


def test_the_same_export_again_adds_nothing_and_a_given_date_wins(weekly, tmp_path):
    path, _ = weekly
    again = import_files(path, [tmp_path / "pipeline_2026-03-16.csv"])
    assert again.status == "unchanged"
    w4 = export(tmp_path, "latest.csv", [["D1", "Proposal", "100", "2026-03-31", "2026-02-20", ""]])
    assert main(["--db", str(path), "import", str(w4), "--snapshot-date", "2026-03-23"]) == 0
    with db.read(path) as con:
        assert con.execute("select changed_at from deal_history where stage = 'Proposal'").fetchone()[0] == datetime(2026, 3, 23)


def test_deals_with_history_of_another_shape_get_no_snapshot_rows(tmp_path):
    hist = tmp_path / "history.csv"
    hist.write_text("Deal ID,Changed At,Stage\nH1,2026-01-01,Lead\nH1,2026-01-05,Qualify\n", encoding="utf-8")
    deals = export(tmp_path, "deals_2026-02-01.csv", [["H1", "Qualify", "5", "2026-03-01", "2026-01-01", ""]])
    result = import_files(tmp_path / "h.duckdb", [deals, hist])
    assert result.status == "loaded", result.message
    with db.read(tmp_path / "h.duckdb") as con:
        assert con.execute("select shape, count(*) from deal_history group by shape").fetchall() == [("full", 2)]


def test_field_change_log_becomes_full_state_rows(tmp_path):
    """Deal F1 (created 2026-01-01; now Proposal, 500, close 2026-03-31) and its field history:
      01-05 10:00 Stage Lead -> Qualify, and Amount 300 -> 400 at the same time (merged)
      01-10 09:00 Close Date 2026-02-28 -> 2026-03-31 (a push)
      01-11       Description changed (not a history field: left out, and said)
      01-12 00:00 Stage Qualify -> Proposal, Amount 400 -> 500
    The initial state is each field's first old value: Lead, 300, 2026-02-28, at the created date."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal ID,Stage,Amount,Close Date,Created Date\nF1,Proposal,500,2026-03-31,2026-01-01\n", encoding="utf-8")
    log = tmp_path / "field_history.csv"
    log.write_text(
        "Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
        "F1,2026-01-05 10:00,Stage,Lead,Qualify\n"
        "F1,2026-01-05 10:00,Amount,300,400\n"
        "F1,2026-01-10 09:00,Close Date,2026-02-28,2026-03-31\n"
        "F1,2026-01-11,Description,x,y\n"
        "F1,2026-01-12,Stage,Qualify,Proposal\n"
        "F1,2026-01-12,Amount,400,500\n", encoding="utf-8")
    path = tmp_path / "f.duckdb"
    result = import_files(path, [deals, log])
    assert result.status == "loaded", result.message
    assert result.files[1].kind == "deal_field_history"
    assert any("1 change(s) of other fields left out (Description)" in n for n in result.files[1].notes)
    with db.read(path) as con:
        rows = con.execute("select changed_at, stage, amount, close_date, shape from deal_history order by changed_at").fetchall()
        r = {x["stage"]: x for x in stage_durations(con, as_of="2026-01-20").to_dict("records")}
    assert rows == [
        (datetime(2026, 1, 1), "Lead", 300, date(2026, 2, 28), "field_log"),
        (datetime(2026, 1, 5, 10), "Qualify", 400, date(2026, 2, 28), "field_log"),
        (datetime(2026, 1, 10, 9), "Qualify", 400, date(2026, 3, 31), "field_log"),
        (datetime(2026, 1, 12), "Proposal", 500, date(2026, 3, 31), "field_log"),
    ]
    assert r["Lead"]["median_days"] == pytest.approx(4 + 10 / 24)        # 01-01 00:00 -> 01-05 10:00
    assert r["Qualify"]["median_days"] == pytest.approx(6 + 14 / 24)     # 01-05 10:00 -> 01-12 00:00
    assert (r["Proposal"]["in_progress"], r["Proposal"]["in_progress_median_age_days"]) == (1, 8)
    with db.read(path) as con:   # and no snapshot rows: the deal has history of another shape
        assert con.execute("select count(*) from deal_history where shape = 'snapshot'").fetchone()[0] == 0


def test_field_change_log_states_exist_only_at_each_deals_own_change_times(tmp_path):
    """Issue 23, defect 8. Two deals, three changes at three different times:
      G1 (created 2026-01-01, now Proposal, close 2026-03-31): 01-05 Stage Lead -> Proposal;
                                                               01-09 Close Date 2026-03-31 -> (empty)
      G2 (no created date, no deals row):                      01-07 Stage Lead -> Qualify
    Rows = the initial state of each deal that has a known start (G1 at its created date) + one
    row per own change time: G1 01-01, 01-05, 01-09; G2 01-07 only (its initial state has no
    time). No G1 row at G2's 01-07 and no G2 row at G1's times (the old pivot made every deal x
    every timestamp: 3 deals' worth of rows here, 190,512 from 1,519 changes in a real log).
    G1's close date cleared on 01-09 stays cleared (a change to an empty value is kept)."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal ID,Stage,Close Date,Created Date\nG1,Proposal,2026-03-31,2026-01-01\n", encoding="utf-8")
    log = tmp_path / "field_history.csv"
    log.write_text(
        "Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
        "G1,2026-01-05,Stage,Lead,Proposal\n"
        "G2,2026-01-07,Stage,Lead,Qualify\n"
        "G1,2026-01-09,Close Date,2026-03-31,\n", encoding="utf-8")
    path = tmp_path / "g.duckdb"
    result = import_files(path, [deals, log])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        rows = con.execute("select deal_id, changed_at, stage, close_date from deal_history "
                           "order by deal_id, changed_at").fetchall()
    assert rows == [
        ("G1", datetime(2026, 1, 1), "Lead", date(2026, 3, 31)),
        ("G1", datetime(2026, 1, 5), "Proposal", date(2026, 3, 31)),
        ("G1", datetime(2026, 1, 9), "Proposal", None),
        ("G2", datetime(2026, 1, 7), "Qualify", None),
    ]


def test_a_date_entered_column_counts_even_when_no_deal_is_in_that_stage_now(tmp_path):
    """Issue 23, defect 10. No deal is currently in Qualify, yet its 'Date entered' column is a
    stage of the history: W1 Qualify 01-02 -> Proposal 01-10 (8 days in Qualify)."""
    wide = tmp_path / "deals_wide.csv"
    wide.write_text("Deal ID,Stage,Created Date,Date entered Qualify,Date entered Proposal\n"
                    "W1,Proposal,2026-01-02,2026-01-02,2026-01-10\n", encoding="utf-8")
    path = tmp_path / "w.duckdb"
    result = import_files(path, [wide])
    assert result.status == "loaded", result.message
    assert result.files[0].detected.stage_columns == {"Date entered Qualify": "Qualify",
                                                      "Date entered Proposal": "Proposal"}
    with db.read(path) as con:
        rows = con.execute("select changed_at, stage from deal_history order by changed_at").fetchall()
    assert rows == [(datetime(2026, 1, 2), "Qualify"), (datetime(2026, 1, 10), "Proposal")]


def _rows(path, sql, params=()):
    with db.read(path) as con:
        return con.execute(sql, list(params)).fetchall()


def test_history_in_a_later_batch_replaces_snapshot_rows_and_derives_the_dates_again(tmp_path):
    """Issue 23, defects 6 and 7. Deals first (no created or closed date), history a week later:
      K1 Closed Won, close date 2026-02-20; its history: Lead 01-05 09:00, Proposal 01-20, Closed Won 02-10.
    After the deals file alone (first seen closed: an unknown path, docs/data.md "Deal history"): one
    snapshot row in Closed Won at its closing, the close date 02-20 (no closed date given), and
    no unknown-stage row before it (no created date): created = closed = 02-20.
    After the history: the snapshot row is gone, created = 01-05 (first row), closed = 02-10
    (first closed row). Undo of the history batch brings the snapshot row and its dates back."""
    deals = tmp_path / "deals_2026-03-01.csv"
    deals.write_text("Deal ID,Stage,Amount,Close Date\nK1,Closed Won,100,2026-02-20\n", encoding="utf-8")
    hist = tmp_path / "history.csv"
    hist.write_text("Deal ID,Changed At,Stage\nK1,2026-01-05 09:00,Lead\nK1,2026-01-20,Proposal\n"
                    "K1,2026-02-10,Closed Won\n", encoding="utf-8")
    path = tmp_path / "k.duckdb"
    assert import_files(path, [deals]).status == "loaded"
    dates = "select created_date, closed_date, created_derived, closed_derived from deals"
    assert _rows(path, "select shape, count(*) from deal_history group by 1") == [("snapshot", 1)]
    before = _rows(path, dates)
    assert before == [(date(2026, 2, 20), date(2026, 2, 20), True, True)]
    second = import_files(path, [hist])
    assert second.status == "loaded", second.message
    assert _rows(path, "select shape, count(*) from deal_history group by 1") == [("full", 3)]
    assert _rows(path, dates) == [(date(2026, 1, 5), date(2026, 2, 10), True, True)]
    assert any("replaced by this file's history" in n for n in second.files[0].notes)
    # the same as both files at once
    both = tmp_path / "both.duckdb"
    assert import_files(both, [deals, hist]).status == "loaded"
    assert _rows(both, dates) == _rows(path, dates)
    assert _rows(both, "select changed_at, stage from deal_history order by 1") == \
        _rows(path, "select changed_at, stage from deal_history order by 1")
    from kam_analytics.batches import undo
    undo(path, second.batch_id)
    assert _rows(path, "select shape, count(*) from deal_history group by 1") == [("snapshot", 1)]
    assert _rows(path, dates) == before


def test_dates_given_in_a_file_are_never_overwritten_by_derived_ones(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal ID,Stage,Created Date,Closed Date\nK2,Closed Lost,2026-01-01,2026-02-01\n", encoding="utf-8")
    hist = tmp_path / "history.csv"
    hist.write_text("Deal ID,Changed At,Stage\nK2,2026-01-03,Lead\nK2,2026-01-25,Closed Lost\n", encoding="utf-8")
    path = tmp_path / "g.duckdb"
    for files in ([deals], [hist]):
        assert import_files(path, files).status == "loaded"
    assert _rows(path, "select created_date, closed_date from deals") == [(date(2026, 1, 1), date(2026, 2, 1))]


def test_a_wide_deals_file_beside_other_deals_gets_its_closed_dates(tmp_path):
    """The Maven case: a wide file (engage date, close date, stage Won/Lost) imported into a
    database that already holds deals of another stage vocabulary. W1 Won: closed date = the
    date of its first closed history row, its close date 2017-02-01 (the wide shape's closing row)."""
    other = tmp_path / "other.csv"
    other.write_text("Deal ID,Stage,Created Date\nX1,Closed Won,2016-12-01\n", encoding="utf-8")
    assert import_files(tmp_path / "w.duckdb", [other]).status == "loaded"
    wide = tmp_path / "pipeline.csv"
    wide.write_text("opportunity_id,deal_stage,engage_date,close_date,close_value\nW1,Won,2017-01-05,2017-02-01,500\n"
                    "W2,Lost,2017-01-09,2017-03-03,0\nW3,Engaging,2017-01-10,,\n", encoding="utf-8")
    # 'Won' beside the known 'Closed Won' is asked about (a possible synonym): kept apart here
    assert import_files(tmp_path / "w.duckdb", [wide]).status == "rejected"
    assert import_files(tmp_path / "w.duckdb", [wide], overrides={"values": {"stage": {"Won": "Won"}}}).status == "loaded"
    assert _rows(tmp_path / "w.duckdb", "select deal_id, created_date, closed_date from deals where deal_id like 'W%' "
                 "order by 1") == [("W1", date(2017, 1, 5), date(2017, 2, 1)), ("W2", date(2017, 1, 9), date(2017, 3, 3)),
                                         ("W3", date(2017, 1, 10), None)]


def test_a_deals_file_beside_a_wide_file_in_one_command_adds_no_snapshot_row(tmp_path):
    """Issue 23, defect 7: a plain deals export given before a wide 'date entered' file of the
    same deals added a row at the created date in the current (closed) stage: 0-day cycles."""
    plain = tmp_path / "deals.csv"
    plain.write_text("Deal ID,Stage,Amount,Created Date\nV1,Closed Won,900,2026-01-02\n", encoding="utf-8")
    wide = tmp_path / "wide.csv"
    wide.write_text("Deal ID,Stage,Date entered Qualify,Date entered Closed Won\nV1,Closed Won,2026-01-02,2026-01-30\n",
                    encoding="utf-8")
    for order in ([plain, wide], [wide, plain]):
        path = tmp_path / f"v{len(list(tmp_path.glob('*.duckdb')))}.duckdb"
        assert import_files(path, order).status == "loaded"
        assert _rows(path, "select changed_at, stage, shape from deal_history order by 1") == [
            (datetime(2026, 1, 2), "Qualify", "wide"), (datetime(2026, 1, 30), "Closed Won", "wide")]


def test_a_snapshot_without_an_amount_column_changes_no_amount(tmp_path):
    """Review finding: a later export without the Amount column recorded an empty amount, a fake
    change. Week 1 (03-02): S1 Lead 100; week 2 (03-09) without amounts: S1 Qualify. History:
    Lead 100 at the created date, Qualify 100 at 03-09."""
    w1 = export(tmp_path, "p_2026-03-02.csv", [["S1", "Lead", "100", "2026-04-30", "2026-02-20", ""]])
    w2 = tmp_path / "p_2026-03-09.csv"
    w2.write_text("Deal ID,Stage\nS1,Qualify\n", encoding="utf-8")
    path = tmp_path / "a.duckdb"
    for w in (w1, w2):
        assert import_files(path, [w]).status == "loaded"
    with db.read(path) as con:
        assert con.execute("select changed_at, stage, amount from deal_history order by 1").fetchall() == [
            (datetime(2026, 2, 20), "Lead", 100), (datetime(2026, 3, 9), "Qualify", 100)]


def test_an_older_export_that_changes_nothing_is_still_kept(tmp_path):
    """Review finding: March (B) then February (B, changes nothing then) then January (A) put the
    change at March; all three at once put it at February. The February export is kept whatever
    it changes, so the history is the same: A at the created date, B at 02-01."""
    def snap(day, stage):
        return export(tmp_path, f"p_{day}.csv", [["S1", stage, "10", "2026-06-30", "2025-12-15", ""]])
    jan, feb, mar = snap("2026-01-01", "A"), snap("2026-02-01", "B"), snap("2026-03-01", "B")
    one, split = tmp_path / "one.duckdb", tmp_path / "split.duckdb"
    assert import_files(one, [jan, feb, mar]).status == "loaded"
    for f in (mar, feb, jan):
        assert import_files(split, [f]).status == "loaded"
    rows = "select changed_at, stage from deal_history order by 1"
    assert _rows(one, rows) == _rows(split, rows) == [(datetime(2025, 12, 15), "A"), (datetime(2026, 2, 1), "B")]


def test_a_deal_first_seen_closed_has_an_unknown_path_left_out_of_stage_figures(tmp_path):
    """docs/data.md "Deal history", a deal first seen closed. Two weekly exports:
      week 1 (2026-03-02): K Lead (created 02-20); U Closed Won (created 01-10, closed 02-15);
                           M Closed Lost (no created date, close date 02-25).
      week 2 (2026-03-09): K Closed Won (closed 03-05); U and M unchanged.
    U's history: open with an unknown stage from 01-10, Closed Won at 02-15. M: Closed Lost at
    02-25 only. Neither passed through Lead as far as anyone knows, so conversion counts K only:
    reached Lead = 1 (K), win rate from Lead = 1 won / (1 won + 0 lost) = 1.0 (with U and M it
    would be reached 3, 2 won / 3). The report says 2 deals were left out. As of 2026-02-01, U
    is open with no known stage (not won before it was won)."""
    from kam_analytics.reports.forecasting import snapshot
    from kam_analytics.reports.velocity import conversion

    w1 = export(tmp_path, "pipeline_2026-03-02.csv", [
        ["K", "Lead", "100", "2026-03-31", "2026-02-20", ""],
        ["U", "Closed Won", "70", "2026-02-15", "2026-01-10", "2026-02-15"],
        ["M", "Closed Lost", "30", "2026-02-25", "", ""]])
    w2 = export(tmp_path, "pipeline_2026-03-09.csv", [
        ["K", "Closed Won", "100", "2026-03-05", "2026-02-20", "2026-03-05"],
        ["U", "Closed Won", "70", "2026-02-15", "2026-01-10", "2026-02-15"],
        ["M", "Closed Lost", "30", "2026-02-25", "", ""]])
    path = tmp_path / "u.duckdb"
    assert import_files(path, [w1, w2]).status == "loaded"
    with db.read(path) as con:
        conv = conversion(con).set_index("stage")
        snap = snapshot(con, "2026-02-01").set_index("deal_id")
    assert conv.loc["Lead", "reached"] == 1
    assert conv.loc["Lead", "win_rate_from_stage"] == 1.0
    assert any("2 deals first seen closed" in n for n in conv.attrs["notes"]), conv.attrs["notes"]
    assert snap.loc["U", "status"] == "open"
    assert snap.loc["U", "stage"] is None


def test_undo_of_a_middle_snapshot_gives_the_history_of_the_other_two(tmp_path):
    """Three weekly exports in three batches; D1 moves Lead -> Qualify in week 2 and stays there.
    Undo of week 2 leaves weeks 1 and 3: D1 Lead from its created date 02-20, Qualify from
    03-16 (the first snapshot that shows it) - the same history as importing weeks 1 and 3 only."""
    w1 = export(tmp_path, "pipeline_2026-03-02.csv", [["D1", "Lead", "100", "2026-03-31", "2026-02-20", ""]])
    w2 = export(tmp_path, "pipeline_2026-03-09.csv", [["D1", "Qualify", "100", "2026-03-31", "2026-02-20", ""]])
    w3 = export(tmp_path, "pipeline_2026-03-16.csv", [["D1", "Qualify", "100", "2026-03-31", "2026-02-20", ""]])
    path = tmp_path / "m.duckdb"
    ids = [import_files(path, [w]).batch_id for w in (w1, w2, w3)]
    from kam_analytics.batches import undo
    undo(path, ids[1])
    history = "select changed_at, stage from deal_history order by changed_at"
    assert _rows(path, history) == [(datetime(2026, 2, 20), "Lead"), (datetime(2026, 3, 16), "Qualify")]
    other = tmp_path / "o.duckdb"
    for w in (w1, w3):
        import_files(other, [w])
    assert _rows(path, history) == _rows(other, history)


def _field_log_files(tmp_path):
    """Deal L1 (created 2026-01-01; now Proposal, 500, forecast category Commit) and a log that
    changes only its stage (Lead -> Proposal on 01-05) and its amount (300 -> 500 on 01-08):
    the forecast category, never changed, is the deal's current one throughout."""
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal ID,Stage,Amount,Forecast Category,Created Date\nL1,Proposal,500,Commit,2026-01-01\n",
                     encoding="utf-8")
    log = tmp_path / "field_history.csv"
    log.write_text("Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                   "L1,2026-01-05,Stage,Lead,Proposal\n"
                   "L1,2026-01-08,Amount,300,500\n", encoding="utf-8")
    return deals, log


def test_a_field_log_before_its_deals_gives_the_same_history_in_any_order_and_split(tmp_path):
    """docs/data.md "Deal history": any order of files and any split into batches gives the same
    history. Expected (worked by hand): 01-01 Lead 300 commit (the initial state: first old
    values, the forecast category the deal's current one); 01-05 Proposal 300; 01-08 Proposal 500."""
    deals, log = _field_log_files(tmp_path)
    expected = [(datetime(2026, 1, 1), "Lead", 300.0, "commit"), (datetime(2026, 1, 5), "Proposal", 300.0, "commit"),
                (datetime(2026, 1, 8), "Proposal", 500.0, "commit")]
    history = "select changed_at, stage, amount, forecast_category from deal_history order by changed_at"
    for n, batches in enumerate(([deals, log], [log, deals], [[deals], [log]], [[log], [deals]])):
        path = tmp_path / f"o{n}.duckdb"
        for files in (batches if isinstance(batches[0], list) else [batches]):
            result = import_files(path, files)
            assert result.status == "loaded", result.message
        assert _rows(path, history) == expected, batches
    # undo of the later deals batch: the log alone again (the deal unknown: no initial row)
    from kam_analytics.batches import undo
    path = tmp_path / "o3.duckdb"
    with db.read(path) as con:
        last = con.execute("select max(batch_id) from import_batches").fetchone()[0]
    undo(path, last)
    alone = tmp_path / "alone.duckdb"
    import_files(alone, [log])
    assert _rows(path, history) == _rows(alone, history)


def test_two_snapshots_of_one_date_that_disagree_are_said_by_the_check(tmp_path):
    """docs/data.md "Deal history": two snapshots of the same date that disagree about a deal are an
    error naming both files - said by the check the preview runs, within a batch and against a
    stored snapshot, before anyone presses Load."""
    a = export(tmp_path, "pipeline_2026-03-02.csv", [["D1", "Lead", "100", "2026-03-31", "2026-02-20", ""]])
    other = tmp_path / "other"
    other.mkdir()
    b = export(other, "pipeline_2026-03-02.csv", [["D1", "Qualify", "100", "2026-03-31", "2026-02-20", ""]])
    path = tmp_path / "c.duckdb"
    from kam_analytics.importing.run import preview
    both = preview(path, [a, b], names=["a_2026-03-02.csv", "b_2026-03-02.csv"])
    assert both.status == "rejected"
    assert "are both snapshots dated 2026-03-02 and disagree about the deal 'D1'" in both.message
    assert import_files(path, [a]).status == "loaded"
    later = preview(path, [b])
    assert later.status == "rejected" and "disagree about the deal 'D1'" in later.message
    assert import_files(path, [a]).status == "unchanged"     # the same export again agrees
