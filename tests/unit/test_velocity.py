"""conversion and cycle on the hand-worked `conversion` fixture (tests/fixtures/conversion).

Stages inferred A → B → C (B and C tie at a median first-visit position of 2: by name),
then Closed Won, Closed Lost. The deals, worked out by hand from deal_history.csv:
  W1  A → B → C → Won                     won: reached A, B, C
  W2  A → C → Won (skips B)               won: reached A, B, C (a won deal reached every stage)
  L1  A → Lost                            furthest A: reached A
  L2  A → B → A → Lost (back to A)        furthest B: reached A, B
  L3  B → C → B → Lost (never in A)       furthest C: reached A (a later stage), B, C
  O1  A → B, open                         left out (open deals have not finished their path)
reached  A = W1 W2 L1 L2 L3 = 5;  B = W1 W2 L2 L3 = 4;  C = W1 W2 L3 = 3;  Won = 2
conversion  A→B = 4/5 = 0.8;  B→C = 3/4 = 0.75;  C→Won = 2/3
win rate from  A = 2/5 = 0.4;  B = 2/4 = 0.5;  C = 2/3
Cycle (closed_date − created_date): W1 01-01→01-11 = 10, W2 01-01→01-21 = 20,
L1 01-01→01-04 = 3, L2 01-02→01-09 = 7, L3 01-03→01-08 = 5.
"""

import pytest
from hypothesis import given
from hypothesis import settings as settings_hyp
from hypothesis import strategies as st

from kam_analytics import db, settings_store, stage_list
from kam_analytics.reports.velocity import conversion, cycle

from ..conftest import load_fixture


@pytest.fixture
def conv_db(tmp_path):
    return load_fixture(tmp_path / "conv.duckdb", "conversion")


def _rows(df, *key):
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in df.to_dict("records")}


def test_conversion_with_skipped_stages_and_revisits(conv_db):
    with db.read(conv_db) as con:
        df = conversion(con)
    assert list(df["stage"]) == ["A", "B", "C"]
    r = _rows(df, "stage")
    assert [r[s]["reached"] for s in "ABC"] == [5, 4, 3]
    assert r["A"]["conversion_to_next"] == pytest.approx(4 / 5)
    assert r["B"]["conversion_to_next"] == pytest.approx(3 / 4)
    assert r["C"]["conversion_to_next"] == pytest.approx(2 / 3)      # to the won stage
    assert r["A"]["win_rate_from_stage"] == pytest.approx(2 / 5)
    assert r["B"]["win_rate_from_stage"] == pytest.approx(2 / 4)
    assert r["C"]["win_rate_from_stage"] == pytest.approx(2 / 3)
    assert "inferred" in " ".join(df.attrs["notes"])


def test_conversion_by_segment(conv_db):
    # Enterprise: W1 (won), L1 (furthest A): A 2, B 1, C 1 -> A→B 1/2, B→C 1/1, C→Won 1/1
    # SMB: W2 (won), L2 (furthest B), L3 (furthest C): A 3, B 3, C 2 -> 3/3, 2/3, 1/2; win 1/3, 1/3, 1/2
    with db.read(conv_db) as con:
        df = conversion(con, by="segment")
    r = _rows(df, "segment", "stage")
    assert [r[("Enterprise", s)]["reached"] for s in "ABC"] == [2, 1, 1]
    assert [r[("SMB", s)]["reached"] for s in "ABC"] == [3, 3, 2]
    assert r[("Enterprise", "A")]["conversion_to_next"] == pytest.approx(1 / 2)
    assert r[("SMB", "B")]["conversion_to_next"] == pytest.approx(2 / 3)
    assert r[("SMB", "C")]["conversion_to_next"] == pytest.approx(1 / 2)
    assert r[("SMB", "A")]["win_rate_from_stage"] == pytest.approx(1 / 3)


def test_conversion_as_of_a_past_date_counts_deals_closed_by_then(conv_db):
    # as of 2026-01-09 00:00: closed are L1 (01-04) and L3 (01-08); L2 closes at exactly
    # 01-09 00:00 (not before the as-of), W1 on 01-11, W2 on 01-21: no win yet.
    # L1 furthest A, L3 furthest C: A 2, B 1, C 1; conversions 1/2, 1/1, 0/1; win rates 0
    with db.read(conv_db) as con:
        df = conversion(con, as_of="2026-01-09")
    r = _rows(df, "stage")
    assert [r[s]["reached"] for s in "ABC"] == [2, 1, 1]
    assert r["C"]["conversion_to_next"] == 0
    assert r["A"]["win_rate_from_stage"] == 0


def test_conversion_with_nothing_closed_is_null_not_nan(conv_db):
    with db.read(conv_db) as con:
        df = conversion(con, as_of="2026-01-02")
    assert list(df["reached"]) == [0, 0, 0]
    assert df["conversion_to_next"].isna().all() and df["win_rate_from_stage"].isna().all()


def test_conversion_follows_a_saved_stage_list(conv_db):
    # Saved order A, C, B: L2 (A, B) now reaches A, C, B; L3 (B, C) too; L1 A only.
    # reached A 5, C 4 (W1 W2 L2 L3), B 4 (W1 W2 L2 L3); C→B 4/4; B→Won 2/4
    settings_store.save(conv_db, {"stages": ["A", "C", "B", "Closed Won", "Closed Lost"],
                            "won_stages": ["Closed Won"], "lost_stages": ["Closed Lost"]})
    with db.read(conv_db) as con:
        df = conversion(con)
    assert list(df["stage"]) == ["A", "C", "B"]
    assert list(df["reached"]) == [5, 4, 4]
    assert list(df["conversion_to_next"]) == pytest.approx([4 / 5, 1.0, 2 / 4])


def test_cycle_by_outcome(conv_db):
    with db.read(conv_db) as con:
        df = cycle(con)
    r = _rows(df, "outcome")
    assert list(df["outcome"]) == ["won", "lost", "all"]
    assert (r["won"]["deals"], r["won"]["mean_days"], r["won"]["median_days"]) == (2, 15.0, 15.0)  # 10, 20
    assert (r["lost"]["deals"], r["lost"]["mean_days"], r["lost"]["median_days"]) == (3, 5.0, 5.0)  # 3, 5, 7
    assert (r["all"]["deals"], r["all"]["mean_days"], r["all"]["median_days"]) == (5, 9.0, 7.0)    # 45/5; 3 5 [7] 10 20


def test_cycle_by_owner(conv_db):
    # Ann Lee: W1 10, L1 3; Bo Chan: W2 20, L2 7, L3 5 -> all mean 32/3, median 7
    with db.read(conv_db) as con:
        df = cycle(con, by="owner")
    r = _rows(df, "owner", "outcome")
    assert r[("Ann Lee", "all")]["mean_days"] == pytest.approx(6.5)
    assert r[("Bo Chan", "lost")]["median_days"] == pytest.approx(6.0)
    assert r[("Bo Chan", "all")]["mean_days"] == pytest.approx(32 / 3, abs=1e-6)
    assert r[("Bo Chan", "all")]["median_days"] == pytest.approx(7.0)


def test_drill_down_lists_the_deals_behind_each_reached_figure(conv_db):
    from kam_analytics.reports.velocity import conversion_deals

    with db.read(conv_db) as con:
        df = conversion(con)
        behind = {s: conversion_deals(con, s) for s in "ABC"}
    for s, (rows, total) in behind.items():
        assert total == int(df.loc[df["stage"] == s, "reached"].iloc[0])
    rows, _ = behind["B"]
    assert sorted(rows["deal_id"]) == ["L2", "L3", "W1", "W2"]
    assert dict(zip(rows["deal_id"], rows["furthest_open_stage"]))["L2"] == "B"


def test_stage_time_spread_quantiles(conv_db):
    # completed days in A: W1 2, W2 4, L1 3, L2 2 + 3 = 5 (cumulative), O1 2 -> [2, 2, 3, 4, 5]
    # p10 at position 0.4 -> 2; p25 at 1 -> 2; median 3; p75 at 3 -> 4; p90 at 3.6 -> 4 + 0.6 = 4.6
    from kam_analytics.reports.velocity import stage_time_spread

    with db.read(conv_db) as con:
        df = stage_time_spread(con)
    a = df[df["stage"] == "A"].iloc[0]
    assert a["deals"] == 5
    assert [a["p10_days"], a["p25_days"], a["median_days"], a["p75_days"], a["p90_days"]] == pytest.approx([2, 2, 3, 4, 4.6])


@settings_hyp(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Ann", "Bo", None]), st.sampled_from(["won", "lost", "open"]),
                          st.integers(-3, 40)), max_size=40))
def test_cycle_histogram_and_median_give_the_same_numbers(deals):
    # The two ways cycle.sql computes its figures (velocity.cycle_query) on any deals, split
    # and not: even counts (interpolated medians), negative days, empty outcomes, null owners.
    import duckdb

    from kam_analytics.dims import Dim
    from kam_analytics.reports.velocity import cycle_query

    con = duckdb.connect()
    con.execute("create table deals (owner varchar, status varchar, created_date date, closed_date date)")
    for d in deals:
        con.execute("insert into deals values (?, ?, date '2026-01-10', date '2026-01-10' + ?::integer)", list(d))
    for dim in (Dim("", "null::varchar", "", {}), Dim("owner", 'd."owner"', "", {})):
        params = {"as_of": "2026-12-31", "by_dim": bool(dim.name)}
        got = [con.execute(cycle_query(dim, histogram=h), params).fetchall() for h in (True, False)]
        assert got[0] == got[1]
    # and one case by hand: won 1, 4 -> median (1 + 4) / 2 = 2.5; lost 7 -> 7; all 1 4 7 -> 4
    con.execute("delete from deals")
    con.execute("insert into deals values ('A', 'won', '2026-01-01', '2026-01-02'), "
                "('A', 'won', '2026-01-01', '2026-01-05'), ('A', 'lost', '2026-01-01', '2026-01-08')")
    rows = con.execute(cycle_query(Dim("", "null::varchar", "", {}), histogram=True),
                       {"as_of": "2026-12-31", "by_dim": False}).fetchall()
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [("won", 2, 2.5, 2.5), ("lost", 1, 7.0, 7.0), ("all", 3, 4.0, 4.0)]


def test_an_empty_database_says_nothing_about_an_inferred_stage_list(tmp_path):
    # no deals: the inferred list is empty, and "Stage list inferred from the data: ." helps nobody
    p = tmp_path / "empty.duckdb"
    with db.read(p) as con:
        cfg = stage_list.stage_config(con)
        df = cycle(con)
    assert cfg.inferred and cfg.stages == () and cfg.note is None
    assert df.attrs["notes"] == [] and list(df["deals"]) == [0, 0, 0]
