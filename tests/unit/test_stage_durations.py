"""stage-durations on the hand-worked `tiny` fixture (tests/fixtures/tiny).

The visits, worked out by hand from deal_history.csv (stages Lead → Qualify → Propose):
  D1  Lead 01-01 00:00 → 01-03 12:00 = 2.5 d; Qualify → 01-05 00:00 = 1.5 d;
      Propose → 01-08 00:00 = 3 d; Qualify again → 01-09 06:00 = 1.25 d;
      Propose again → 01-15 00:00 = 5.75 d; Closed Won.
      cumulative: Qualify 1.5 + 1.25 = 2.75, Propose 3 + 5.75 = 8.75
  D2  Lead 01-02 → 01-06 = 4 d. At 01-06 00:00 two rows (Qualify seq 8, Propose seq 9):
      only the last is the state, so Qualify is a correction, skipped (no value).
      Propose 01-06 → 01-12 18:00 = 6.75 d (the 01-10 amount change is the same visit).
  D3  Lead 01-10 → 01-11 = 1 d; Qualify open since 01-11.
  D4  no history: one open Qualify visit from created_date 01-16.
  D5  Lead 1 d, Qualify 01-02 → 01-04 = 2 d, Lead again 1 d (cumulative Lead 2 d),
      Qualify open since 01-05: completed 2 d AND in progress.
  D6  Lead from 01-18; Qualify at exactly 2026-01-21 00:00.
  D7  no history and no created date: left out, and the report says so.
"""

import pytest

from kam_analytics import db
from kam_analytics.errors import UsageError
from kam_analytics.reports.stage_durations import stage_duration_deals, stage_durations

AS_OF = "2026-01-21"  # 2026-01-21 00:00: D6's change at exactly that moment comes after


def _rows(df, key="stage"):
    return {r[key]: r for r in df.to_dict("records")}


def test_all_outcomes_cumulative(tiny_db):
    with db.read(tiny_db) as con:
        df = stage_durations(con, as_of=AS_OF)
    assert list(df["stage"]) == ["Lead", "Qualify", "Propose"]  # closed stages have no row
    r = _rows(df)
    # Lead: D1 2.5, D2 4, D3 1, D5 1+1 = 2 -> sorted [1, 2, 2.5, 4]; D6 still open (age 3)
    assert r["Lead"]["deals"] == 4
    assert r["Lead"]["mean_days"] == pytest.approx((2.5 + 4 + 1 + 2) / 4)      # 2.375
    assert r["Lead"]["median_days"] == pytest.approx((2 + 2.5) / 2)            # 2.25
    assert r["Lead"]["p75_days"] == pytest.approx(2.5 + 0.25 * (4 - 2.5))     # pos 2.25 -> 2.875
    assert r["Lead"]["p90_days"] == pytest.approx(2.5 + 0.70 * (4 - 2.5))     # pos 2.7 -> 3.55
    assert r["Lead"]["in_progress"] == 1                                      # D6
    assert r["Lead"]["in_progress_median_age_days"] == pytest.approx(3.0)     # 01-18 -> 01-21
    # Qualify: completed D1 2.75, D5 2; in progress D3 (10 d), D4 (5 d), D5 (16 d)
    assert r["Qualify"]["deals"] == 2
    assert r["Qualify"]["median_days"] == pytest.approx((2 + 2.75) / 2)        # 2.375
    assert r["Qualify"]["p75_days"] == pytest.approx(2 + 0.75 * 0.75)         # 2.5625
    assert r["Qualify"]["p90_days"] == pytest.approx(2 + 0.90 * 0.75)         # 2.675
    assert r["Qualify"]["in_progress"] == 3
    assert r["Qualify"]["in_progress_median_age_days"] == pytest.approx(10.0)  # [5, 10, 16]
    # Propose: D1 8.75, D2 6.75
    assert r["Propose"]["deals"] == 2
    assert r["Propose"]["mean_days"] == pytest.approx(7.75)
    assert r["Propose"]["p75_days"] == pytest.approx(6.75 + 0.75 * 2)          # 8.25
    assert r["Propose"]["p90_days"] == pytest.approx(6.75 + 0.90 * 2)          # 8.55
    assert r["Propose"]["in_progress"] == 0
    assert r["Propose"]["in_progress_median_age_days"] is None or r["Propose"]["in_progress_median_age_days"] != r["Propose"]["in_progress_median_age_days"]
    assert set(df["revisits"]) == {"cumulative"}
    assert any("1 deal(s) without any date" in n for n in df.attrs["notes"])   # D7


@pytest.mark.parametrize("rule, qualify, propose", [
    ("first", (1.5 + 2) / 2, (3 + 6.75) / 2),       # D1 first visits 1.5 / 3; D5 2; D2 6.75
    ("latest", (1.25 + 2) / 2, (5.75 + 6.75) / 2),  # D1 last visits 1.25 / 5.75
    ("cumulative", (2.75 + 2) / 2, (8.75 + 6.75) / 2),
])
def test_revisit_rules(tiny_db, rule, qualify, propose):
    with db.read(tiny_db) as con:
        r = _rows(stage_durations(con, as_of=AS_OF, revisits=rule))
    assert r["Qualify"]["median_days"] == pytest.approx(qualify)
    assert r["Propose"]["median_days"] == pytest.approx(propose)


def test_outcomes(tiny_db):
    with db.read(tiny_db) as con:
        won = _rows(stage_durations(con, as_of=AS_OF, outcome="won"))
        lost = _rows(stage_durations(con, as_of=AS_OF, outcome="lost"))
    # won: D1 only; no deals in progress
    assert (won["Lead"]["deals"], won["Lead"]["median_days"]) == (1, 2.5)
    assert won["Qualify"]["median_days"] == pytest.approx(2.75)
    assert won["Propose"]["median_days"] == pytest.approx(8.75)
    assert sum(r["in_progress"] for r in won.values()) == 0
    # lost: D2 only; Qualify was skipped, so no value (not zero)
    assert lost["Lead"]["median_days"] == 4
    assert lost["Qualify"]["deals"] == 0
    assert lost["Qualify"]["median_days"] != lost["Qualify"]["median_days"] or lost["Qualify"]["median_days"] is None
    assert lost["Propose"]["median_days"] == pytest.approx(6.75)


def test_as_of_in_the_past_sees_only_earlier_changes(tiny_db):
    # At 2026-01-06 00:00: D1 Lead 2.5 and Qualify 1.5 completed, Propose open 1 d;
    # D2 Lead open 4 d (its 01-06 rows are not before the as-of); D5 Lead 1+1 = 2,
    # Qualify 2 completed and open again since 01-05 (1 d). D3, D4, D6 do not exist yet.
    with db.read(tiny_db) as con:
        r = _rows(stage_durations(con, as_of="2026-01-06"))
        won = _rows(stage_durations(con, as_of="2026-01-06", outcome="won"))
    assert (r["Lead"]["deals"], r["Lead"]["median_days"]) == (2, pytest.approx(2.25))
    assert (r["Lead"]["in_progress"], r["Lead"]["in_progress_median_age_days"]) == (1, 4.0)
    assert (r["Qualify"]["deals"], r["Qualify"]["median_days"]) == (2, pytest.approx(1.75))
    assert (r["Qualify"]["in_progress"], r["Qualify"]["in_progress_median_age_days"]) == (1, 1.0)
    assert (r["Propose"]["deals"], r["Propose"]["in_progress"]) == (0, 1)
    assert sum(x["deals"] for x in won.values()) == 0  # D1 was still open then


def test_default_as_of_is_the_whole_data_date(tiny_db):
    # The data's date is 2026-01-21 (D6's last change); by default the whole day is in, so
    # D6's Lead visit is complete (3 d) and its Qualify visit open (1 d).
    with db.read(tiny_db) as con:
        df = stage_durations(con)
    r = _rows(df)
    assert df.attrs["as_of"].isoformat() == "2026-01-22T00:00:00"
    assert r["Lead"]["deals"] == 5
    assert r["Qualify"]["in_progress"] == 4


def test_by_dimension_and_size_band(tiny_db):
    with db.read(tiny_db) as con:
        seg = stage_durations(con, as_of=AS_OF, by="segment")
        ind = stage_durations(con, as_of=AS_OF, by="industry")      # an account column
        band = stage_durations(con, as_of=AS_OF, by="size_band")
    lead = {r["segment"]: r for r in seg.to_dict("records") if r["stage"] == "Lead"}
    assert list(seg.columns[:2]) == ["segment", "stage"]
    # Enterprise: D1 2.5, D3 1, D5 2 -> median 2; SMB: D2 4, D6 open
    assert lead["Enterprise"]["median_days"] == 2
    assert (lead["SMB"]["deals"], lead["SMB"]["median_days"], lead["SMB"]["in_progress"]) == (1, 4, 1)
    retail = {r["stage"]: r for r in ind.to_dict("records") if r["industry"] == "Retail"}
    assert retail["Lead"]["median_days"] == 2                      # ACC1 = D1, D3, D5
    bands = {r["size_band"]: r for r in band.to_dict("records") if r["stage"] == "Lead"}
    # amounts: D1 120,000 and D5 300,000 ... D5 >=250k (Lead 2), D1 50k-250k (2.5),
    # D3 60,000 50k-250k (1), D2 8,000 <10k (4)
    assert bands[">=250k"]["median_days"] == 2
    assert bands["50k-250k"]["median_days"] == pytest.approx(1.75)
    assert bands["<10k"]["median_days"] == 4


def test_created_range_filters_deals(tiny_db):
    # created 2026-01-01 .. 2026-01-01: D1 and D5 only (the --to day is included)
    with db.read(tiny_db) as con:
        r = _rows(stage_durations(con, as_of=AS_OF, created_from="2026-01-01", created_to="2026-01-01"))
    assert r["Lead"]["deals"] == 2 and r["Lead"]["median_days"] == pytest.approx(2.25)


def test_drill_down_lists_the_deals_behind_a_row(tiny_db):
    with db.read(tiny_db) as con:
        deals, total = stage_duration_deals(con, "Qualify", as_of=AS_OF)
    assert total == 4
    by_id = {r["deal_id"]: r for r in deals.to_dict("records")}
    assert by_id["D1"]["days"] == pytest.approx(2.75) and by_id["D1"]["completed_visits"] == 2
    assert by_id["D5"]["days"] == 2 and by_id["D5"]["open_age_days"] == 16
    assert by_id["D4"]["open_age_days"] == 5


def test_drill_down_split_by_a_column_it_already_lists_has_each_column_once(tiny_db):
    """Split by owner: the deals behind a row already list the owner; the split value must not
    come as a second 'owner' column (the Stage durations page crashed drawing it)."""
    with db.read(tiny_db) as con:
        owners = con.execute("select distinct owner from deals where owner is not null order by 1").fetchall()
        deals, _total = stage_duration_deals(con, "Qualify", by="owner", dim_value=owners[0][0], as_of=AS_OF)
    assert deals.columns.is_unique, list(deals.columns)
    assert set(deals["owner"]) == {owners[0][0]}


@pytest.mark.parametrize("kwargs, message", [
    ({"by": "colour"}, "unknown dimension 'colour'"),
    ({"outcome": "maybe"}, "--outcome"),
    ({"revisits": "sometimes"}, "--revisits"),
    ({"as_of": "31/01/2026"}, "expected an ISO date"),
    ({"created_from": "2026-02-01", "created_to": "2026-01-01"}, "is after"),
])
def test_bad_options_are_usage_errors(tiny_db, kwargs, message):
    with db.read(tiny_db) as con, pytest.raises(UsageError, match=message):
        stage_durations(con, **kwargs)
