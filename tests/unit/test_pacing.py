"""Pacing (docs/metrics.md "Pacing") on a hand-worked world, then against independent paths.

tests/fixtures/pacing, stages A, B, Closed Won, Closed Lost; every amount in EUR; a win or a loss is
recorded on its closed_date (changed_at 00:00), so it counts at a point t when closed_date < t.

  P = FY2026-M04 (April 2026), as of 2026-04-20: points Apr 1, 8, 15 (Apr 22 is not before the
  as-of) and the as-of Apr 20, week_index 0..3, i.e. days 0, 7, 14, 19 of the month.
  quota: Ann 6,000 + Bo 4,000 (their FY2026-M04 rows) = 10,000.

  April's deals           at Apr 1          Apr 8             Apr 15             Apr 20
  P1 A 2,000 commit       open, due 04-03   won 04-03         won                won
  P2 A 4,000 commit       open (A)          open (A)          open (B, 04-10)    open (B)
  P3 A 3,000 best case    open 3,000        open 3,000        open 5,000 (04-12) open 5,000
  P4 B 1,000 pipeline     created 04-09, first row B:         open (B)           won 04-16
                          not there yet at Apr 1 or Apr 8
  P5 A 2,000 pipeline     due 04-29         due 04-29         pushed to 05-05 on 04-14: out of April

  win rates from deals closed before each point (all deals reach A; J3 and M3 reached B):
    before Apr 1: won O1 N1 D1 J1 J2 M1 M4 M2 (8), lost N2 J3 F1 M3 (4): from A 8/12, from B 8/10
    Apr 8 and Apr 15: + P1 won: A 9/13, B 9/11;   Apr 20: + P4 won: A 10/14 = 5/7, B 10/12 = 5/6

  point    won so far   commit                best case              weighted
  Apr 1    0            2,000+4,000 = 6,000   6,000+3,000 = 9,000    (2+4+3+2)k × 2/3 = 7,333.33
  Apr 8    2,000        2,000+4,000 = 6,000   6,000+3,000 = 9,000    2,000 + 9,000 × 9/13 = 8,230.77
  Apr 15   2,000        6,000                 6,000+5,000 = 11,000   2,000 + (4,000+1,000) × 9/11 + 5,000 × 9/13
                                                                      = 2,000 + 4,090.91 + 3,461.54 = 9,552.45
  Apr 20   3,000        3,000+4,000 = 7,000   7,000+5,000 = 12,000   3,000 + 4,000 × 5/6 + 5,000 × 5/7 = 9,904.76

  Past months (the latest four before April that won anything; February won nothing, so October
  would be the fifth): won by their own day 0, 7, 14, 19, as a share of all they won
    March  (M1 1,000 on 03-05, M4 4,000 on 03-17, M2 3,000 on 03-25; 8,000): 0, 1/8, 1/8, 5/8
    January (J1 2,000 on 01-10, J2 2,000 on 01-25; 4,000):                   0, 0, 1/2, 1/2
    December (D1 5,000 on 12-02; 5,000):                                     0, 1, 1, 1
    November (N1 1,000 on 11-30; 1,000):                                     0, 0, 0, 0
  typical (median; lowest; highest): day 0: 0; 0; 0   day 7: median(0, 0, 1/8, 1) = 1/16; 0; 1
    day 14: median(0, 1/8, 1/2, 1) = 5/16; 0; 1       day 19: median(0, 1/2, 5/8, 1) = 9/16; 0; 1

  Pipeline: of the amount open and due at day 19 of each past month, the share it went on to win:
    March 20: M2 3,000 (won) + M3 1,000 (lost) → 3/4;  January 20: J2 2,000 (won) + J3 2,000
    (pushed to February, lost) → 1/2;  December 20: nothing open and due → no share;
    November 20: N1 1,000 (won) + N2 3,000 (lost) → 1/4.   median(1/4, 1/2, 3/4) = 1/2, 6 deals
  pipeline needed at Apr 20 = (10,000 − 3,000) / 1/2 = 14,000.
"""

from datetime import date

import pytest

from kam_analytics import batches, db
from kam_analytics.errors import UsageError
from kam_analytics.reports.forecast_quality import forecast_accuracy, forecast_range
from kam_analytics.reports.pacing import KEYS, pacing

from ..conftest import load_fixture


@pytest.fixture
def pacing_db(tmp_path):
    return load_fixture(tmp_path / "pacing.duckdb", "pacing")


def _run(path, period, as_of):
    with db.read(path) as con:
        return pacing(con, period, as_of)


def test_points_and_forecasts_worked_by_hand(pacing_db):
    df = _run(pacing_db, "FY2026-M04", "2026-04-20")
    assert tuple(df.columns) == KEYS
    assert list(df["week_start"]) == [date(2026, 4, 1), date(2026, 4, 8), date(2026, 4, 15), date(2026, 4, 20)]
    assert list(df["week_index"]) == [0, 1, 2, 3]
    assert list(df["won_so_far"]) == [0, 2_000, 2_000, 3_000]
    assert list(df["commit_forecast"]) == [6_000, 6_000, 6_000, 7_000]
    assert list(df["best_case_forecast"]) == [9_000, 9_000, 11_000, 12_000]
    assert list(df["weighted_forecast"]) == pytest.approx([
        11_000 * 2 / 3,
        2_000 + 9_000 * 9 / 13,
        2_000 + 5_000 * 9 / 11 + 5_000 * 9 / 13,
        3_000 + 4_000 * 5 / 6 + 5_000 * 5 / 7,
    ])
    assert list(df["quota"]) == [10_000] * 4


def test_typical_shares_and_band(pacing_db):
    df = _run(pacing_db, "FY2026-M04", "2026-04-20")
    assert list(df["typical_won_share"]) == [0, 1 / 16, 5 / 16, 9 / 16]
    assert list(df["typical_won_share_low"]) == [0, 0, 0, 0]
    assert list(df["typical_won_share_high"]) == [0, 1, 1, 1]
    assert df.attrs["past_periods"] == ["FY2026-M03", "FY2026-M01", "FY2025-M12", "FY2025-M11"]   # not February


def test_pipeline_needed_on_the_as_of_row_only(pacing_db):
    df = _run(pacing_db, "FY2026-M04", "2026-04-20")
    assert list(df["pipeline_needed"].iloc[:-1].isna()) == [True, True, True]
    assert df["pipeline_needed"].iloc[-1] == pytest.approx(14_000)
    assert (df.attrs["pipeline_share"], df.attrs["pipeline_deals"]) == (0.5, 6)


def test_pipeline_needed_is_zero_once_won_reaches_the_quota(pacing_db):
    """Quota cut to 1,000 + 2,000 = 3,000: won so far at Apr 20 is 3,000, so nothing more is needed."""
    with batches.batch(pacing_db, "test", "smaller quotas") as b:
        b.con.execute("update quotas set amount = case when owner = 'Ann Lee' then 1000 else 2000 end "
                      "where period = 'FY2026-M04'")
    df = _run(pacing_db, "FY2026-M04", "2026-04-20")
    assert df["quota"].iloc[-1] == 3_000 and df["pipeline_needed"].iloc[-1] == 0


def test_pipeline_needed_is_empty_without_a_quota(pacing_db):
    """FY2026-M03 as of 03-20 has no quota: quota and pipeline needed are null; its typical pace
    comes from January, December, November and October (February won nothing)."""
    df = _run(pacing_db, "FY2026-M03", "2026-03-20")
    assert df["quota"].isna().all() and df["pipeline_needed"].isna().all()
    assert df.attrs["past_periods"] == ["FY2026-M01", "FY2025-M12", "FY2025-M11", "FY2025-M10"]
    assert any("No quota is loaded for FY2026-M03" in n for n in df.attrs["notes"])


def test_pipeline_needed_and_typical_pace_are_empty_without_past_periods(pacing_db):
    """October 2025 has a quota (Ann 5,000) but the data begins 2025-09-15 and September won nothing."""
    df = _run(pacing_db, "FY2025-M10", "2025-10-20")
    assert list(df["quota"]) == [5_000] * 4
    assert list(df["won_so_far"]) == [0, 9_000, 9_000, 9_000]              # O1 won on 10-03
    assert df["typical_won_share"].isna().all() and df["pipeline_needed"].isna().all()
    assert any("won anything" in n for n in df.attrs["notes"])


def test_a_quarter_with_two_past_quarters_says_so(pacing_db):
    """FY2026-Q2 as of 04-20: the same points as April; P5 (due 04-29, then 05-05) stays due in Q2 and
    adds to the weighted forecast after 04-14 too. quota: Ann's Q2 row 18,000 + Bo's months
    4,000 × 3 = 30,000. Past quarters: Q1 (12,000 won; J1 2,000 by day 14) and FY2025-Q4 (15,000 won;
    O1 9,000 by day 7); FY2025-Q3 won nothing. Day 19: Q1 had J2 and J3 open and due (1/2 won), Q4
    nothing. Pipeline needed = (30,000 − 3,000) / 1/2, on 2 deals: said to be too few."""
    df = _run(pacing_db, "FY2026-Q2", "2026-04-20")
    assert list(df["quota"]) == [30_000] * 4
    assert list(df["weighted_forecast"])[2:] == pytest.approx([
        2_000 + 5_000 * 9 / 11 + (5_000 + 2_000) * 9 / 13, 3_000 + 4_000 * 5 / 6 + (5_000 + 2_000) * 5 / 7])
    assert list(df["typical_won_share"]) == pytest.approx([0, 0.3, (1 / 6 + 0.6) / 2, (1 / 6 + 0.6) / 2], abs=1e-6)
    assert list(df["typical_won_share_low"]) == pytest.approx([0, 0, 1 / 6, 1 / 6], abs=1e-6)
    assert list(df["typical_won_share_high"]) == pytest.approx([0, 0.6, 0.6, 0.6])
    assert df["pipeline_needed"].iloc[-1] == pytest.approx(54_000)
    notes = " ".join(df.attrs["notes"])
    assert "Only 2 past quarters" in notes and "too few to say" in notes


def test_as_of_on_the_first_day_and_before_it(pacing_db):
    df = _run(pacing_db, "FY2026-M04", "2026-04-01")
    assert list(df["week_index"]) == [0] and df["week_start"].iloc[0] == date(2026, 4, 1)
    # day 0 of the past months: M1, J1 and D1 were open and due on the 1st and won (share 1 each); on
    # November 1st nothing was (N1 and N2 were created on the 5th): (10,000 − 0) / median(1, 1, 1)
    assert df["pipeline_needed"].iloc[0] == pytest.approx(10_000)
    assert df.attrs["pipeline_deals"] == 3 and "too few to say" in " ".join(df.attrs["notes"])
    with pytest.raises(UsageError, match="before FY2026-M04 starts"):
        _run(pacing_db, "FY2026-M04", "2026-03-31")


def test_weeks_stop_at_the_period_end(pacing_db):
    """As of 2026-05-10, after April ended: the weeks of April (Apr 1 .. Apr 29, five) then the as-of,
    whose won so far is April's actual (P1 2,000 + P4 1,000) and whose share is 1 for every past month."""
    df = _run(pacing_db, "FY2026-M04", "2026-05-10")
    assert [d.isoformat() for d in df["week_start"]] == ["2026-04-01", "2026-04-08", "2026-04-15", "2026-04-22",
                                                        "2026-04-29", "2026-05-10"]
    assert df["won_so_far"].iloc[-1] == 3_000
    assert df["typical_won_share_low"].iloc[-1] == 1


# ---- independent paths: forecast-accuracy at each point, the range at the as-of


def _same_as_accuracy(path, period, df):
    with db.read(path) as con:
        for r in df.to_dict("records"):
            acc = forecast_accuracy(con, period, as_of=r["week_start"]).iloc[0]
            assert r["won_so_far"] == pytest.approx(acc["won_by_as_of"]), r["week_start"]
            for k in ("commit_forecast", "best_case_forecast", "weighted_forecast"):
                assert r[k] == pytest.approx(acc[k]), (r["week_start"], k)


@pytest.mark.parametrize("period, as_of", [("FY2026-M04", "2026-04-20"), ("FY2026-Q2", "2026-05-10"),
                                           ("FY2026-Q1", "2026-03-31")])
def test_each_point_is_forecast_accuracy_at_that_day(pacing_db, period, as_of):
    _same_as_accuracy(pacing_db, period, _run(pacing_db, period, as_of))


def test_the_as_of_row_is_the_forecast_range_at_the_as_of(pacing_db):
    df = _run(pacing_db, "FY2026-Q2", "2026-04-20")
    with db.read(pacing_db) as con:
        rng = forecast_range(con, "FY2026-Q2", as_of="2026-04-20", runs=200).iloc[0]
    last = df.iloc[-1]
    assert (last["won_so_far"], last["commit_forecast"]) == (rng["won_by_as_of"], rng["commit_forecast"])
    assert last["weighted_forecast"] == pytest.approx(rng["weighted_forecast"])


def test_on_demo_data_every_point_and_every_past_share(demo_db_factory):
    """2,000 demo deals, FY2026-Q3 as of 2026-09-30 (13 weeks and the as-of): each point equals
    forecast-accuracy as of that day, and each typical share is, recomputed from forecast-accuracy's
    won so far in the past quarters at the same day of their own and at the as-of."""
    from statistics import median

    from kam_analytics import periods

    path = demo_db_factory(2000, 7)
    df = _run(path, "FY2026-Q3", "2026-09-30")
    assert len(df) == 14 and df["week_index"].iloc[-1] == 13
    _same_as_accuracy(path, "FY2026-Q3", df)
    past = df.attrs["past_periods"]
    assert past == ["FY2026-Q2", "FY2026-Q1", "FY2025-Q4", "FY2025-Q3"]
    with db.read(path) as con:
        final = {q: forecast_accuracy(con, q, as_of="2026-09-30").iloc[0]["won_by_as_of"] for q in past}
        for r in df.to_dict("records"):
            day = (r["week_start"] - date(2026, 7, 1)).days
            shares = []
            for q in past:
                q0 = periods.bounds(q)[0]
                won = forecast_accuracy(con, q, as_of=date.fromordinal(q0.toordinal() + day)).iloc[0]["won_by_as_of"]
                shares.append(won / final[q])
            assert r["typical_won_share"] == pytest.approx(median(shares), abs=1e-6)
            assert (r["typical_won_share_low"], r["typical_won_share_high"]) == pytest.approx(
                (min(shares), max(shares)), abs=1e-6)
