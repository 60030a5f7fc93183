"""Risk flags and their back-test on hand-worked fixtures (tests/fixtures/risk and
tests/fixtures/risk_backtest).

The `risk` fixture, as of 2026-06-01 (stages A, B, C; no-plan stage B, unsigned-plan stage C;
comparable groups need 100 visits, so every figure is from all deals). The completed visits
come from three closed deals only:
  H1: A 10 days, B 10, C 10, won;  H2: A 20, B 20, C 10, won;  H3: A 10, lost.
  A: [10, 10, 20] -> p90 = 10 + 0.8 x (20 - 10) = 18 (position 0.9 x 2 = 1.8), median 10
  B: [10, 20]     -> p90 = 10 + 0.9 x 10 = 19, median 15
  C: [10, 10]     -> p90 10, median 10
  Both won deals passed B and C, so from A the remaining time is max(0, 10 - age) + 15 + 10.
Account maps: ACC1 champion + economic buyer + a blocker (2 buyer contacts), ACC2 a user and
a blocker (1 contact, no champion, no economic buyer), ACC3 champion + economic buyer (2).
"""

from datetime import datetime

import pytest

from kam_analytics import db
from kam_analytics.errors import UsageError
from kam_analytics.reports.risk import CURRENT_VALUES, FLAGS, facts, risk, risk_backtest


AS_OF = "2026-06-01"

# deal -> the flags it trips on 2026-06-01, each worked out by hand
EXPECTED = {
    "R1": {"stalled"},                        # A since 05-12: 20 days > p90 18
    "R2": set(),                              # A since 05-15: 17 days <= 18
    "R3": {"past_close_date", "behind_schedule"},  # close 05-31 < 06-01; 06-01 + 3 + 25 = 06-29 > 05-31
    "R4": {"behind_schedule"},                # close 06-01 is not before the as-of; 06-29 > 06-01
    "R5": {"behind_schedule"},                # age 7: 06-01 + 28 days = 06-29 > close 06-28
    "R6": set(),                              # 06-29 is not after close 06-29
    "R7": {"pushed_repeatedly"},              # 07-01 -> 07-05 -> 07-10: 2 pushes (9 days)
    "R8": set(),                              # 07-01 -> 07-30: 1 push, 29 days
    "R9": {"pushed_repeatedly"},              # 07-01 -> 07-31: 1 push, 30 days
    "R10": {"amount_dropped"},                # 8,000 <= 0.8 x 10,000
    "R11": set(),                             # 8,001 > 8,000
    "R12": {"overdue_buyer_steps"},           # buyer step due 05-28, in progress
    "R13": {"overdue_seller_steps"},          # seller step completed 06-01: not yet at 06-01 00:00;
                                              # buyer steps: due 06-01 (not past), rejected, done 05-31
    "R14": {"no_plan"},                       # in B, no plan
    "R15": set(),                             # in B, closing plan made 05-20
    "R16": {"no_plan"},                       # in B, its plan is made 06-05, after the as-of
    "R17": set(),                             # in C, mutual plan signed by both (05-26, 05-27)
    "R18": {"unsigned_plan"},                 # in C, seller signed only
    "R19": {"unsigned_plan"},                 # in C, buyer signs 06-02, after the as-of
    "R20": {"no_champion", "no_economic_buyer", "single_threaded"},  # ACC2's map
    "R21": {"single_threaded"},               # ACC2, but champion and economic buyer on the deal
    "R22": {"stalled", "stale"},              # B since 05-02: 30 days > 19; quiet 30 days >= 30
    "R23": {"stalled"},                       # a step completed 05-03: quiet 29 days
    "R24": set(),                             # ACC3: champion and economic buyer, 2 contacts
}


def _null(x) -> bool:
    return x is None or x != x


def _by_deal(df):
    return {r["deal_id"]: r for r in df.to_dict("records")}


def test_each_flag_trips_on_one_deal_and_just_misses_on_another(risk_db):
    with db.read(risk_db) as con:
        rows = _by_deal(risk(con, AS_OF))
    assert set(rows) == set(EXPECTED)                 # every open deal, the closed ones not
    for deal, flags in EXPECTED.items():
        assert set(rows[deal]["flags"]) == flags, deal
        assert len(rows[deal]["reasons"]) == len(flags)
    assert {f for fs in EXPECTED.values() for f in fs} == set(FLAGS)   # every flag is exercised


def test_scores_bands_and_order(risk_db):
    with db.read(risk_db) as con:
        df = risk(con, AS_OF)
    rows = _by_deal(df)
    # weights 2: stalled, past close date, behind schedule, overdue buyer steps; 1 the others
    assert rows["R3"]["score"] == 4 and rows["R3"]["band"] == "high"      # 2 + 2, high from 4
    assert rows["R20"]["score"] == 3 and rows["R20"]["band"] == "medium"  # 1 + 1 + 1
    assert rows["R22"]["score"] == 3 and rows["R22"]["band"] == "medium"  # 2 + 1
    assert rows["R12"]["score"] == 2 and rows["R12"]["band"] == "medium"  # medium from 2
    assert rows["R7"]["score"] == 1 and rows["R7"]["band"] == "low"
    assert rows["R2"]["score"] == 0 and rows["R2"]["flags"] == []
    assert list(df["deal_id"])[0] == "R3"                                  # the riskiest first
    assert list(df["score"]) == sorted(df["score"], reverse=True)


def test_reasons_carry_the_numbers(risk_db):
    with db.read(risk_db) as con:
        rows = _by_deal(risk(con, AS_OF))

    def reason(deal, start):
        return next(r for r in rows[deal]["reasons"] if r.startswith(start))

    assert reason("R1", "Stalled") == ("Stalled: 20 days in A; 90 % of the 3 deals' completed time in A was at most "
                                       "18 days (cumulative rule)")
    assert reason("R3", "Past close date") == "Past close date: the close date 2026-05-31 was 1 day before the as-of"
    # R5: A for 7 days: max(0, 10 - 7) + 15 + 10 = 28 days; 06-01 + 28 = 06-29
    assert reason("R5", "Behind") == ("Behind schedule: 28 days still to go by the medians of all deals gives "
                                      "2026-06-29, after the close date 2026-06-28")
    assert reason("R7", "Pushed") == ("Pushed repeatedly: 2 pushes, 9 days in total (flagged from 2 pushes or "
                                      "30 days)")
    assert reason("R10", "Amount") == ("Amount dropped: 8,000 is 80% of its peak 10,000 (flagged at 80% or less)")
    assert reason("R12", "Overdue") == ("Overdue buyer-side steps: 1 buyer-side step of the mutual plan past due "
                                        "and not completed (current due dates and statuses)")
    assert reason("R19", "Mutual") == ("Mutual plan unsigned: in C, at or after C, and its mutual plan is not "
                                       "signed by both sides")
    assert reason("R14", "No plan") == "No plan: in B, at or after B, with no closing or mutual plan"
    assert reason("R20", "Single") == ("Single-threaded: 1 buyer contact on the account map (stakeholders other "
                                       "than blockers; flagged below 2) (current values)")
    assert reason("R22", "Stale") == ("Stale: no history row or plan change for 30 days (since 2026-05-02; "
                                      "flagged from 30 days)")
    # flags resting on undated facts say so
    assert rows["R20"]["current_values"] == ["no_champion", "no_economic_buyer", "single_threaded"]
    assert rows["R1"]["current_values"] == []


def test_no_look_ahead(risk_db):
    """Dated facts are taken as they stood: a later plan, a later signature, a later step
    completion, a later push and a later stage do not count before they happen."""
    with db.read(risk_db) as con:
        early = _by_deal(risk(con, "2026-05-23"))      # R7 has had 1 push (05-22), not yet 2
        late = _by_deal(risk(con, "2026-06-10"))
    assert early["R7"]["flags"] == []                  # 07-01 -> 07-05: 1 push, 4 days
    assert "R3" not in early                           # created 05-25: not there yet
    assert early["R1"]["flags"] == []                  # A for 11 days, not stalled
    assert "no_plan" not in late["R16"]["flags"]       # its plan exists from 06-05
    assert "unsigned_plan" not in late["R19"]["flags"]  # both signed by 06-02
    assert "overdue_seller_steps" not in late["R13"]["flags"]  # completed 06-01
    # ...while today's account map is used at every date (current values)
    assert set(late["R20"]["flags"]) >= {"no_champion", "no_economic_buyer", "single_threaded"}


def test_facts_at_many_dates_equal_one_at_a_time(risk_db):
    """The back-test evaluates all quarter starts in one query: the same facts as one by one."""
    dates = [datetime(2026, 5, 23), datetime(2026, 6, 1), datetime(2026, 6, 10)]
    cols = ["as_of", "deal_id", "stage", "age_days", "pushes", "days_pushed", "remaining_days", *FLAGS]
    with db.read(risk_db) as con:
        together = facts(con, dates).sort_values(["as_of", "deal_id"]).reset_index(drop=True)[cols]
        apart = [facts(con, [d]) for d in dates]
    import pandas as pd

    apart = pd.concat(apart).sort_values(["as_of", "deal_id"]).reset_index(drop=True)[cols]
    pd.testing.assert_frame_equal(together, apart, check_dtype=False)


def test_backtest_on_hand_worked_outcomes(backtest_db):
    """Quarter starts 2026-01-01 and 2026-04-01 (stages A, won, lost; no account maps).
    Evaluations: 01-01: K1, K2, K3, K4 (all created 2025-12-01); 04-01: K5, K6. K7 is still
    open (not evaluated); K1-K4 closed before 04-01.
    past_close_date: K1@01-01 (close 12-20, won), K2@01-01 (12-15, lost), K5@04-01 (03-15, won)
      flagged 3, won 2 -> 2/3; unflagged K3 lost, K4 won, K6 lost -> 1/3; lift = (1/3)/(2/3) = 0.5
      days from first flagged to closed: K1 01-01 -> 03-10 = 68, K2 -> 02-01 = 31, K5 04-01 ->
      05-01 = 30; median 31.
    stalled: no completed visit before 01-01; at 04-01 A's p90 of [62, 76, 90, 99] = 96.3 days,
      K5 is 59 days in A and K6 31: never flagged -> rates null and lift null.
    no_champion (no account map): every evaluation -> 3/6 won; unflagged none -> null; days
      68, 31, 45, 59, 30, 19 -> median (31 + 45) / 2 = 38."""
    with db.read(backtest_db) as con:
        df = risk_backtest(con, "2026-01-01", "2026-06-30")
    rows = {r["flag"]: r for r in df.to_dict("records")}
    assert list(rows) == list(FLAGS)
    assert df.attrs["quarter_starts"] == [datetime(2026, 1, 1), datetime(2026, 4, 1)]
    past = rows["past_close_date"]
    assert (past["evaluations"], past["flagged_deals"], past["flagged_evaluations"]) == (6, 3, 3)
    assert past["win_rate_flagged"] == pytest.approx(2 / 3)
    assert past["win_rate_unflagged"] == pytest.approx(1 / 3)
    assert past["lift"] == pytest.approx(0.5)
    assert past["median_days_before_close"] == 31
    # with no completed visit at 01-01 the remaining time is 0 days (as the closing plan counts
    # it), so behind schedule = past close date there; at 04-01 A's median is (76 + 90) / 2 =
    # 83: K5 (59 days in) needs 24 more -> 04-25 > 03-15; K6 (31 in) 52 more -> 05-23 <= 05-31
    assert rows["behind_schedule"]["flagged_evaluations"] == 3
    stalled = rows["stalled"]
    assert stalled["flagged_deals"] == 0 and _null(stalled["win_rate_flagged"]) and _null(stalled["lift"])
    assert stalled["win_rate_unflagged"] == pytest.approx(0.5)
    champ = rows["no_champion"]
    assert champ["flagged_evaluations"] == 6 and champ["win_rate_flagged"] == pytest.approx(0.5)
    assert _null(champ["win_rate_unflagged"]) and _null(champ["lift"])
    assert champ["median_days_before_close"] == 38
    assert champ["current_values"] and not past["current_values"]
    assert {f for f, r in rows.items() if r["current_values"]} == set(CURRENT_VALUES)


def test_backtest_default_range_and_errors(backtest_db):
    with db.read(backtest_db) as con:
        df = risk_backtest(con)                   # the 8 quarter starts before the data's date
        assert len(df.attrs["quarter_starts"]) == 8
        assert df.attrs["quarter_starts"][-1] == datetime(2026, 4, 1)   # data's date: 2026-05-01
        with pytest.raises(UsageError, match="--to must be on or after --from"):
            risk_backtest(con, "2026-05-01", "2026-04-01")


@pytest.mark.parametrize("as_of", [None, "2026-03-01"])
def test_behind_schedule_uses_the_closing_plans_realistic_date(demo_db_factory, as_of):
    """Behind schedule is the closing-plan generator's realistic close date set against the
    deal's close date (DESIGN.md): the set-wise SQL gives the generator's date for every deal."""
    from kam_analytics import closing_plan

    with db.read(demo_db_factory(2000, 7)) as con:
        df = risk(con, as_of)
        sample = df.iloc[::4]                                   # a quarter of the open deals
        for deal, realistic in zip(sample["deal_id"], sample["realistic_close_date"]):
            plan = closing_plan.generate(con, deal, as_of=as_of)
            assert plan.attrs["realistic_close_date"] == realistic.date(), deal
        assert len(sample) > 20
