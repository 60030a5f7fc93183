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
a blocker (1 contact, no champion, no economic buyer), ACC3 champion + economic buyer (2), ACC4
none at all.

The `risk_calibration` fixture (the calibrated score, docs/metrics.md "Risk score and bands"): stages A,
B; stale after 1,000 days and the plan flags off, so that only the
flags named below trip. ACC1 has a champion and an economic buyer; ACC0 has no account map.
  Closed in 2025 Q3, never open at a quarter start (they give the stage win rates):
    P1 A 07-02 -> B 08-01 -> won 09-01;  P2 A 07-02 -> B 08-01 -> lost 09-15;  P3 A 07-02 -> lost 09-02;
    P4 A 07-10 -> lost 09-10;  P5 A 07-05 -> B 08-04 -> won 09-09.
    Win rate from stage, from 2025-10-01 on: A 2/5 = 0.4 (every deal reached A), B 2/3 (P1, P2, P5).
  Open at 2026-01-01 (the evaluations; created 2025-11-05, K8 2025-12-15):
    K1 A, no map, lost 02-01;  K2 A, no map, lost 02-10;  K3 B (from 12-01), no map, won 03-01;
    K4 A, close date pushed twice (06-30 -> 08-31 -> 12-31), won 02-15;
    K5 B, close date 2025-12-20 passed, lost 02-20;  K6 B, close date passed and pushed twice, won 03-10;
    K7 A, close date passed, lost 03-15;  K8 A, no map, lost 2026-04-15 (after the 04-01 quarter start).
    A past close date is also behind schedule (as_of + a remaining time >= 0 > the close date); the
    others are not (close dates 2026-12-31). Nobody is stalled at 01-01: A's p90 of the completed
    A visits [26, 26, 26, 30, 30, 30, 62, 62] is 62 days, K1-K7 are 57 days in A (K8 17); B's p90
    of [31, 36, 45] is 43.2, K3, K5, K6 are 31 days in B.
  Open at 2026-04-01: K8 (A since 12-15: 107 days > A's p90 then, 101.5 of [26, 26, 26, 30, 30,
    30, 62, 62, 88, 97, 102, 130]: stalled) and O2 (still open, not evaluated).
  Open now (2026-04-16): O1 A (04-10), ACC0; O2 B (A 03-25, B 04-05), close date 04-10 passed; O3 A.
"""

import math
from datetime import datetime

import pytest

from kam_analytics import batches, db, settings, settings_store, stage_list
from kam_analytics.errors import UsageError
from kam_analytics.reports.risk import (CURRENT_VALUES, DEFINITIONS, FLAGS, LABELS, brier, default_weight,
                                        evaluations, facts, risk, risk_backtest, stage_adjusted_lift, weights_as_of)


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
    "R25": {"no_account_map"},                # ACC4 has no map at all: one flag, not the three
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


def test_scores_bands_and_order(risk_db, tmp_path):
    """No deal of the risk fixture was open at a quarter start before 2026-04-01 (H1, H2 are created
    on 01-01 itself): nothing to learn from, every default weight is 0, so the weights are set in
    Settings here (log units). Stage win rates as of 06-01 among H1 (won), H2 (won), H3 (lost in A):
    A 2/3, B 2/2 = 1, C 1.
      R3 past close 0.4 + behind schedule 0.4 = 0.8 > ln 2 = 0.693 -> high; predicted 2/3 × e^-0.8
      R22 (B) stalled 0.25 + stale 0.1 = 0.35 > ln 1.25 = 0.223 -> medium
      R1 (A), R23 (B) stalled 0.25 -> medium;  R4, R5 (A) behind schedule 0.4 -> medium
      R7 pushed (default 0) -> low;  R2 no flag -> low
    Expected loss = 10,000 × rate × (1 - e^-score): R3 6,666.67 × 0.55067 = 3,671.1; R22 10,000 ×
    0.29531 = 2,953.1; R23 10,000 × 0.22120 = 2,212.0; R4, R5 6,666.67 × 0.32968 = 2,197.9 each;
    R1 6,666.67 × 0.22120 = 1,474.7."""
    import shutil


    path = tmp_path / "risk.duckdb"
    shutil.copy(risk_db, path)
    settings_store.save(path, {"risk": {"no_plan_stage": "B", "unsigned_plan_stage": "C", "weights": {
        "past_close_date": 0.4, "behind_schedule": 0.4, "stalled": 0.25, "stale": 0.1}}})
    with db.read(path) as con:
        df = risk(con, AS_OF)
    rows = _by_deal(df)
    assert rows["R3"]["score"] == pytest.approx(0.8) and rows["R3"]["band"] == "high"
    assert rows["R3"]["stage_win_rate"] == pytest.approx(2 / 3)
    assert rows["R3"]["predicted_win_probability"] == pytest.approx(2 / 3 * 0.449329, abs=1e-6)
    assert rows["R22"]["score"] == pytest.approx(0.35) and rows["R22"]["band"] == "medium"
    assert rows["R1"]["band"] == rows["R23"]["band"] == "medium"
    assert rows["R7"]["score"] == 0 and rows["R7"]["band"] == "low"
    assert rows["R2"]["score"] == 0 and rows["R2"]["flags"] == [] and rows["R2"]["band"] == "low"
    assert rows["R22"]["stage_win_rate"] == 1.0
    # the deals most likely to be lost by amount first
    assert list(df["deal_id"])[:6] == ["R3", "R22", "R23", "R4", "R5", "R1"]
    assert [round(x, 1) for x in df["expected_loss"][:6]] == [3671.1, 2953.1, 2212.0, 2197.9, 2197.9, 1474.7]
    assert rows["R4"]["band"] == "medium"


def test_reasons_carry_the_numbers(risk_db):
    with db.read(risk_db) as con:
        rows = _by_deal(risk(con, AS_OF))
    # no deal of the fixture was open at a quarter start before 2026-04-01: no lift to learn from
    nothing = "; no deal closed before 2026-04-01 was flagged so at a quarter start, so there is no lift to learn from yet"

    def reason(deal, start):
        return next(r for r in rows[deal]["reasons"] if r.startswith(start))

    assert reason("R1", "Stalled") == ("Stalled: 20 days in A; 90 % of the 3 deals' completed time in A was at most "
                                       "18 days (cumulative rule)" + nothing)
    assert reason("R3", "Past close date") == ("Past close date: the close date 2026-05-31 was 1 day before the "
                                               "as-of" + nothing)
    # R5: A for 7 days: max(0, 10 - 7) + 15 + 10 = 28 days; 06-01 + 28 = 06-29
    assert reason("R5", "Behind") == ("Behind schedule: 28 days still to go by the medians of all deals gives "
                                      "2026-06-29, after the close date 2026-06-28" + nothing)
    assert reason("R7", "Pushed") == ("Pushed repeatedly: 2 pushes, 9 days in total (flagged from 2 pushes or "
                                      "30 days)" + nothing)
    assert reason("R10", "Amount") == ("Amount dropped: 8,000 is 80% of its peak 10,000 (flagged at 80% or less)"
                                       + nothing)
    assert reason("R12", "Overdue") == ("Overdue buyer-side steps: 1 buyer-side step of the mutual plan past due "
                                        "and not completed (current due dates and statuses)" + nothing)
    assert reason("R19", "Mutual") == ("Mutual plan unsigned: in C, at or after C, and its mutual plan is not "
                                       "signed by both sides" + nothing)
    assert reason("R14", "No plan") == "No plan: in B, at or after B, with no closing or mutual plan" + nothing
    assert reason("R20", "Single") == ("Single-threaded: 1 buyer contact on the account map (stakeholders other "
                                       "than blockers; flagged below 2) (current values)" + nothing)
    assert reason("R22", "Stale") == ("Stale: no history row or plan change for 30 days (since 2026-05-02; "
                                      "flagged from 30 days)" + nothing)
    assert reason("R25", "No account map") == (
        "No account map: the account ACC4 has no stakeholder on its account map, so its champion, economic buyer "
        "and buyer contacts cannot be judged (current values)" + nothing)
    # flags resting on undated facts say so
    assert rows["R20"]["current_values"] == ["no_champion", "no_economic_buyer", "single_threaded"]
    assert rows["R25"]["current_values"] == ["no_account_map"]
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
    no_account_map (no account has a map): every evaluation -> 3/6 won; unflagged none -> null;
      days 68, 31, 45, 59, 30, 19 -> median (31 + 45) / 2 = 38. No champion, no economic buyer and
      single-threaded need a map: never flagged.
    Stage win rates: no deal closed before 01-01 -> none (those evaluations are left out of the
      stage-adjusted lift); as of 04-01 K1, K4 won, K2, K3 lost -> A 2/4 = 0.5.
      past_close_date: K5@04-01 only: (0.5 + 1) / (1 + 1) = 0.75 -> ln 0.75 < 0 -> weight 0.
      no_account_map: K5 (won), K6 (lost): (0.5 + 0.5 + 1) / (1 + 1) = 1 -> weight 0."""
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
    assert past["stage_adjusted_lift"] == pytest.approx(0.75) and past["default_weight"] == 0
    assert past["expected_win_rate_flagged"] == pytest.approx(0.5)
    # with no completed visit at 01-01 the remaining time is 0 days (as the closing plan counts
    # it), so behind schedule = past close date there; at 04-01 A's median is (76 + 90) / 2 =
    # 83: K5 (59 days in) needs 24 more -> 04-25 > 03-15; K6 (31 in) 52 more -> 05-23 <= 05-31
    assert rows["behind_schedule"]["flagged_evaluations"] == 3
    stalled = rows["stalled"]
    assert stalled["flagged_deals"] == 0 and _null(stalled["win_rate_flagged"]) and _null(stalled["lift"])
    assert stalled["win_rate_unflagged"] == pytest.approx(0.5)
    assert stalled["stage_adjusted_lift"] == 1 and stalled["default_weight"] == 0     # (0 + 1) / (0 + 1)
    no_map = rows["no_account_map"]
    assert no_map["flagged_evaluations"] == 6 and no_map["win_rate_flagged"] == pytest.approx(0.5)
    assert _null(no_map["win_rate_unflagged"]) and _null(no_map["lift"])
    assert no_map["median_days_before_close"] == 38
    assert no_map["stage_adjusted_lift"] == pytest.approx(1.0) and no_map["default_weight"] == 0
    for flag in ("no_champion", "no_economic_buyer", "single_threaded"):
        assert rows[flag]["flagged_evaluations"] == 0, flag
    assert no_map["current_values"] and not past["current_values"]
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
    deal's close date (docs/metrics.md): the set-wise SQL gives the generator's date for every deal."""
    from kam_analytics import closing_plan

    with db.read(demo_db_factory(2000, 7)) as con:
        df = risk(con, as_of)
        sample = df.iloc[::4]                                   # a quarter of the open deals
        for deal, realistic in zip(sample["deal_id"], sample["realistic_close_date"]):
            plan = closing_plan.generate(con, deal, as_of=as_of)
            assert plan.attrs["realistic_close_date"] == realistic.date(), deal
        assert len(sample) > 20


# ---- the calibrated score (docs/metrics.md "Risk score and bands") on the risk_calibration
# fixture; its world is described at the top of this file.

NOW = "2026-04-16"          # the data's date is 2026-04-15; the latest quarter start is 2026-04-01
# Evaluations before 2026-04-01 of deals closed before it: K1-K7 at 01-01 (K8 closed 04-15: left out).
#   no_account_map: K1 (A 0.4, lost), K2 (A 0.4, lost), K3 (B 2/3, won): n 3, stage rates 0.4 + 0.4 + 2/3
#     = 22/15, 1 won: stage-adjusted lift (22/15 + 1) / (1 + 1) = 37/30; weight ln(37/30) × 3/53 = 0.011871
#   past_close_date = behind_schedule: K5 (B, lost), K6 (B, won), K7 (A, lost): 2/3 + 2/3 + 0.4 = 26/15,
#     1 won: (26/15 + 1) / 2 = 41/30; weight ln(41/30) × 3/53 = 0.017682
#   pushed_repeatedly: K4 (A, won), K6 (B, won): 0.4 + 2/3 = 16/15, 2 won: (16/15 + 1) / 3 = 31/45 < 1:
#     ln < 0, floored: weight 0
#   stalled: never flagged: n 0, lift (0 + 1) / (0 + 1) = 1, weight 0
W_MAP = math.log(37 / 30) * 3 / 53
W_PAST = math.log(41 / 30) * 3 / 53


@pytest.fixture(scope="module")
def calibration_db(tmp_path_factory):
    from ..conftest import load_fixture

    return load_fixture(tmp_path_factory.mktemp("cal") / "cal.duckdb", "risk_calibration")


def _variant(tmp_path, source, sql: str):
    """A copy of a fixture database with one change written as a batch (derived tables rebuilt)."""
    import shutil

    path = tmp_path / "variant.duckdb"
    shutil.copy(source, path)
    with batches.batch(path, "fixture", "variant") as b:
        b.con.execute(sql)
        b.touched.update({"deals", "deal_history"})
    return path


def test_stage_adjusted_lift_and_default_weight_by_hand():
    # 22/15 expected wins (0.4 + 0.4 + 2/3) and 1 won -> (22/15 + 1) / (1 + 1) = 37/30
    assert stage_adjusted_lift(22 / 15, 1) == pytest.approx(37 / 30)
    # shrunk toward 0 by n / (n + 50): 3 evaluations keep 3/53 of ln(37/30) = 0.2097 -> 0.01187
    assert default_weight(37 / 30, 3) == pytest.approx(0.0118710, abs=1e-7)
    # 500 evaluations keep 500/550 of ln 2 = 0.6931 -> 0.6301
    assert default_weight(2.0, 500) == pytest.approx(0.630134, abs=1e-6)
    # a flag whose deals won more than their stages: ln(31/45) = -0.3727 -> floored at 0
    assert default_weight(31 / 45, 2) == 0
    assert default_weight(1.0, 0) == 0


def test_weights_as_of_come_from_the_evaluations_before_the_quarter_start(calibration_db):
    with db.read(calibration_db) as con:
        conf = settings.load(con)
        weights, stats, q = weights_as_of(con, datetime(2026, 4, 16), conf)
    assert q == datetime(2026, 4, 1)
    m = stats.loc["no_account_map"]
    assert (m["flagged"], m["won"]) == (3, 1) and m["expected_wins"] == pytest.approx(22 / 15)
    assert m["stage_adjusted_lift"] == pytest.approx(37 / 30)
    assert weights["no_account_map"] == pytest.approx(W_MAP) == pytest.approx(0.011871, abs=1e-6)
    for flag in ("past_close_date", "behind_schedule"):
        assert stats.loc[flag, "stage_adjusted_lift"] == pytest.approx(41 / 30)
        assert weights[flag] == pytest.approx(W_PAST) == pytest.approx(0.017682, abs=1e-6)
    assert stats.loc["pushed_repeatedly", "stage_adjusted_lift"] == pytest.approx(31 / 45)
    assert weights["pushed_repeatedly"] == 0                          # floored
    assert stats.loc["stalled", "flagged"] == 0 and weights["stalled"] == 0
    assert {f for f, w in weights.items() if w} == {"no_account_map", "past_close_date", "behind_schedule"}


def test_risk_predicts_against_the_stage_win_rate(calibration_db):
    """As of 2026-04-16, closed before it: P1-P5, K1-K8. Win rate from A: won P1, P5, K3, K4, K6 of
    the 13 -> 5/13; from B: won P1, P5, K3, K6, K4 (won counts as reaching B) against lost P2, K5
    -> 5/7.
      O1 (A, no map): score 0.011871, predicted 5/13 × e^-0.011871 = 0.384615 × 0.988199 = 0.380077;
        expected loss 10,000 × (0.384615 - 0.380077) = 45.39
      O2 (B, past close, so behind schedule): score 2 × 0.017682 = 0.035363; predicted 5/7 ×
        0.965255 = 0.689468; expected loss 10,000 × (0.714286 - 0.689468) = 248.18
      O3 (A, nothing): score 0, predicted 5/13, expected loss 0.
    Every score is far below ln 1.25 = 0.223: all low."""
    with db.read(calibration_db) as con:
        df = risk(con, NOW)
    rows = _by_deal(df)
    assert list(df["deal_id"]) == ["O2", "O1", "O3"]                   # by expected loss
    assert rows["O1"]["flags"] == ["no_account_map"]
    assert rows["O2"]["flags"] == ["past_close_date", "behind_schedule"]
    assert rows["O3"]["flags"] == []
    assert rows["O1"]["stage_win_rate"] == pytest.approx(5 / 13)
    assert rows["O2"]["stage_win_rate"] == pytest.approx(5 / 7)
    assert rows["O1"]["score"] == pytest.approx(0.011871, abs=1e-6)
    assert rows["O2"]["score"] == pytest.approx(0.035363, abs=1e-6)
    assert rows["O1"]["predicted_win_probability"] == pytest.approx(0.380077, abs=1e-6)
    assert rows["O2"]["predicted_win_probability"] == pytest.approx(0.689468, abs=1e-6)
    assert rows["O3"]["predicted_win_probability"] == pytest.approx(5 / 13)
    assert rows["O1"]["expected_loss"] == pytest.approx(45.39, abs=0.01)
    assert rows["O2"]["expected_loss"] == pytest.approx(248.18, abs=0.01)
    assert rows["O3"]["expected_loss"] == 0
    assert {r["band"] for r in rows.values()} == {"low"}
    # each reason keeps its numbers and adds the flag's lift: K1, K2 lost, K3 won -> 1 of 3 = 33 %,
    # against (22/15) / 3 = 49 % for their stages; K5, K7 lost, K6 won: 33 % against (26/15) / 3 = 58 %
    assert rows["O1"]["reasons"][0].endswith(
        "(current values); deals flagged so won 33 % against 49 % for their stages (3 back-tested deal-quarters "
        "before 2026-04-01)")
    assert rows["O2"]["reasons"][0] == (
        "Past close date: the close date 2026-04-10 was 6 days before the as-of; deals flagged so won 33 % against "
        "58 % for their stages (3 back-tested deal-quarters before 2026-04-01)")


def test_bands_follow_the_weights_set_in_settings(calibration_db, tmp_path):
    """Set in Settings: no account map 0.7, past close date 0.21 (behind schedule keeps its default
    0.017682). O1: 0.7 > ln 2 = 0.6931 -> high, predicted 5/13 × e^-0.7 = 0.384615 × 0.496585 =
    0.190994. O2: 0.21 + 0.017682 = 0.227682 > ln 1.25 = 0.223144 -> medium. O3: 0 -> low.
    (The plan flags stay off: their stage is the won stage, which no open deal is in.)"""
    import shutil

    path = tmp_path / "cal.duckdb"
    shutil.copy(calibration_db, path)
    settings_store.save(path, {"risk": {"stale_days": 1000, "no_plan_stage": "Closed Won", "unsigned_plan_stage": "Closed Won",
                                  "weights": {"no_account_map": 0.7, "past_close_date": 0.21}}})
    with db.read(path) as con:
        df = risk(con, NOW)
        weights = weights_as_of(con, datetime(2026, 4, 16), settings.load(con))[0]
    rows = _by_deal(df)
    assert weights["no_account_map"] == 0.7 and weights["past_close_date"] == 0.21
    assert weights["behind_schedule"] == pytest.approx(0.017682, abs=1e-6)
    assert weights["no_plan"] == 0 and weights["unsigned_plan"] == 0     # never flagged
    assert rows["O1"]["band"] == "high" and rows["O1"]["score"] == pytest.approx(0.7)
    assert rows["O1"]["predicted_win_probability"] == pytest.approx(0.190994, abs=1e-6)
    assert rows["O2"]["band"] == "medium" and rows["O2"]["score"] == pytest.approx(0.227682, abs=1e-6)
    assert rows["O3"]["band"] == "low"


def test_no_stage_win_rate_before_any_deal_closed(calibration_db):
    """As of 2025-08-10 P1-P5 are open and nothing has closed: no stage has a win rate."""
    with db.read(calibration_db) as con:
        df = risk(con, "2025-08-10")
    assert sorted(df["deal_id"]) == ["P1", "P2", "P3", "P4", "P5"]
    assert set(df["band"]) == {"no stage win rate"}
    assert df["predicted_win_probability"].isna().all() and df["stage_win_rate"].isna().all()
    assert df["expected_loss"].isna().all()


def test_no_look_ahead_a_deal_closed_after_t_does_not_change_the_weights(calibration_db, tmp_path):
    """K8 (no map, open at 2026-01-01) closes on 04-15, after t = 04-10: won instead of lost, the
    weights as of t stay the same (ln(37/30) × 3/53), while the back-test, which takes every deal
    closed by the data's date, sees it: no_account_map flagged K1, K2, K3, K8, K8 (at 01-01 and at
    04-01): 1 won of 5 -> 3 of 5."""
    won = _variant(tmp_path, calibration_db,
                   "update deals set stage = 'Closed Won' where deal_id = 'K8'; "
                   "update deal_history set stage = 'Closed Won' where deal_id = 'K8' and stage = 'Closed Lost'")
    out = {}
    for name, path in (("lost", calibration_db), ("won", won)):
        with db.read(path) as con:
            conf = settings.load(con)
            out[name] = (weights_as_of(con, datetime(2026, 4, 10), conf)[0], risk(con, "2026-04-10"),
                         risk_backtest(con, "2026-01-01", "2026-04-15").set_index("flag"))
    assert out["lost"][0] == out["won"][0]
    assert out["won"][0]["no_account_map"] == pytest.approx(W_MAP)
    import pandas as pd

    pd.testing.assert_frame_equal(out["lost"][1][["deal_id", "score", "predicted_win_probability"]],
                                  out["won"][1][["deal_id", "score", "predicted_win_probability"]])
    assert out["lost"][2].loc["no_account_map", "win_rate_flagged"] == pytest.approx(1 / 5)
    assert out["won"][2].loc["no_account_map", "win_rate_flagged"] == pytest.approx(3 / 5)


def test_backtest_stage_adjusted_lift_and_default_weight(calibration_db):
    """Quarter starts 2026-01-01 (K1-K8) and 04-01 (K8 only: O2 is still open): 9 evaluations.
    Win rate from A as of 04-01: closed before it P1-P5, K1-K7, won P1, P5, K3, K4, K6 -> 5/12.
      no_account_map: K1, K2, K3, K8 at 01-01 and K8 at 04-01: 5 flagged, 1 won (K3): flagged
        1/5; unflagged K4 won, K5 lost, K6 won, K7 lost: 2/4; lift 0.5 / 0.2 = 2.5. Stage rates
        0.4 + 0.4 + 2/3 + 0.4 + 5/12 = 137/60 -> stage-adjusted lift (137/60 + 1) / 2 = 197/120,
        default weight ln(197/120) × 5/55 = 0.045065
      stalled: K8 at 04-01 only (107 days > 101.5), lost: (5/12 + 1) / 1 = 17/12, ln(17/12) / 51
    The weight the risk report uses as of 04-16 is the one learnt before 04-01: ln(37/30) × 3/53."""
    with db.read(calibration_db) as con:
        df = risk_backtest(con, "2026-01-01", "2026-04-15").set_index("flag")
    m = df.loc["no_account_map"]
    assert (m["evaluations"], m["flagged_evaluations"], m["flagged_deals"]) == (9, 5, 4)
    assert m["win_rate_flagged"] == pytest.approx(0.2) and m["win_rate_unflagged"] == pytest.approx(0.5)
    assert m["lift"] == pytest.approx(2.5)
    assert m["stage_adjusted_lift"] == pytest.approx(197 / 120)
    assert m["default_weight"] == pytest.approx(math.log(197 / 120) * 5 / 55) == pytest.approx(0.045065, abs=1e-6)
    assert m["expected_win_rate_flagged"] == pytest.approx(137 / 60 / 5)
    assert m["weight"] == pytest.approx(W_MAP) and not m["weight_set"]
    s = df.loc["stalled"]
    assert s["flagged_evaluations"] == 1 and s["stage_adjusted_lift"] == pytest.approx(17 / 12)
    assert s["default_weight"] == pytest.approx(math.log(17 / 12) / 51)
    assert df.loc["pushed_repeatedly", "default_weight"] == 0


def test_reliability_table_and_brier_scores(calibration_db):
    """Each evaluation predicted with the weights as of its own quarter start:
      at 01-01 nothing was evaluated before (no deal open at an earlier quarter start): weights 0,
        predicted = the stage rate: A 0.4 (K1, K2, K4, K7, K8), B 2/3 (K3, K5, K6)
      at 04-01 the weights of test_weights_as_of...: K8 (no map 0.011871; stalled never flagged
        before: 0): 5/12 × e^-0.011871 = 0.411750
    Deciles: 40-50 %: K1, K2, K4, K7, K8 and K8 at 04-01: 6, predicted (5 × 0.4 + 0.411750) / 6 =
      0.401958, won 1 (K4); 60-70 %: K3, K5, K6: 3, predicted 2/3, won 2.
    Brier: at 01-01 (0.4 - y)² over A: 0.16 × 4 (lost) + 0.36 (K4 won) = 1.0, (2/3 - y)² over B:
      1/9 + 4/9 + 1/9 = 2/3; K8 at 04-01 lost: prediction² -> predicted (5/3 + 0.411750²) / 9 =
      0.204023; the stage rate alone (5/3 + (5/12)²) / 9 = 0.204475: the score beats it, barely."""
    with db.read(calibration_db) as con:
        df = risk_backtest(con, "2026-01-01", "2026-04-15", calibration=True)
    assert list(df.columns[:6]) == ["decile", "evaluations", "predicted_win_rate", "actual_win_rate", "brier_score",
                                    "brier_score_stage_alone"]
    rows = df.set_index("decile")
    assert list(rows.index) == ["40-50%", "60-70%"]
    assert rows.loc["40-50%", "evaluations"] == 6 and rows.loc["40-50%", "won"] == 1
    assert rows.loc["40-50%", "predicted_win_rate"] == pytest.approx(0.401958, abs=1e-6)
    assert rows.loc["40-50%", "actual_win_rate"] == pytest.approx(1 / 6)
    assert rows.loc["60-70%", "evaluations"] == 3
    assert rows.loc["60-70%", "predicted_win_rate"] == pytest.approx(2 / 3)
    assert rows.loc["60-70%", "actual_win_rate"] == pytest.approx(2 / 3)
    assert df["brier_score"].iloc[0] == pytest.approx(0.204023, abs=1e-6)
    assert df["brier_score_stage_alone"].iloc[0] == pytest.approx(0.204475, abs=1e-6)
    assert "beats the stage win rate alone" in df.attrs["notes"][-1]
    # every score is below ln 1.25: every evaluation in the low band, 3 of 9 won
    assert df.attrs["bands"]["low"] == {"evaluations": 9, "actual_win_rate": pytest.approx(3 / 9)}
    assert df.attrs["bands"]["high"] == {"evaluations": 0, "actual_win_rate": None}
    # the same figure from its definition
    assert brier([0.4, 0.4, 0.6], [0, 0, 1]) == pytest.approx((0.16 + 0.16 + 0.16) / 3)


def test_stage_adjusted_lift_recomputed_with_pandas_from_the_evaluation_rows(demo_db_factory):
    """An independent path: the win rate from each stage as of each quarter start recomputed in
    pandas from the stage visits (docs/metrics.md "Reached, conversion, win rate from stage": a closed
    deal reached S when it was won or
    its furthest open stage is at least S), then each flag's (sum of rates + 1) / (won + 1)."""
    import numpy as np
    import pandas as pd

    with db.read(demo_db_factory(2000, 7)) as con:
        conf = settings.load(con)
        bt = risk_backtest(con).set_index("flag")
        ev = evaluations(con, bt.attrs["quarter_starts"], conf)
        cfg = stage_list.stage_config(con, conf)
        visits = con.execute("select deal_id, stage, started_at, ended_at from stage_visits").df()
        status = con.execute("select deal_id, status from deals").df().set_index("deal_id")["status"]
    assert (ev["won"] == ev["deal_id"].map(status).eq("won")).all()
    position = {s: i for i, s in enumerate(cfg.open, start=1)}
    rates = {}
    for s in bt.attrs["quarter_starts"]:
        v = visits[visits["started_at"] < s]
        current = v[v["ended_at"].isna() | (v["ended_at"] >= s)]
        outcome = current.set_index("deal_id")["stage"].map(
            lambda x: "won" if x in cfg.won else "lost" if x in cfg.lost else None).dropna()
        furthest = v.assign(p=v["stage"].map(position)).groupby("deal_id")["p"].max().fillna(0)
        closed = pd.DataFrame({"outcome": outcome, "furthest": furthest.reindex(outcome.index).fillna(0)})
        for stage, k in position.items():
            won = int((closed["outcome"] == "won").sum())
            lost = int(((closed["outcome"] == "lost") & (closed["furthest"] >= k)).sum())
            rates[(s, stage)] = won / (won + lost) if won + lost else np.nan
    mine = np.array([rates[(pd.Timestamp(a).to_pydatetime(), st)] for a, st in zip(ev["as_of"], ev["stage"])])
    np.testing.assert_allclose(mine, ev["stage_win_rate"].to_numpy(dtype=float), rtol=1e-12, equal_nan=True)
    rated = ev[~np.isnan(mine)]
    checked = 0
    for flag in FLAGS:
        on = rated[rated[flag].astype(bool)]
        mine_lift = (np.nansum(mine[~np.isnan(mine)][rated[flag].astype(bool).to_numpy()]) + 1) / (on["won"].sum() + 1)
        assert bt.loc[flag, "stage_adjusted_lift"] == pytest.approx(mine_lift, rel=1e-12), flag
        checked += len(on) > 0
    assert checked >= 8                         # most flags trip on the demo


def test_settings_saved_on_the_old_scale_reset_to_the_calibrated_defaults(tiny_db):
    """A release before the calibrated score saved weights 2/1 and bands 2/4 (no weights_scale):
    they are reset to the calibrated defaults (null weights, bands ln 1.25 and ln 2), thresholds
    kept; the reset, saved once, is on the log scale and no longer reported."""
    with batches.batch(tiny_db, "settings", "an older release") as b:
        settings.write_in_batch(b, "risk", {"stale_days": 45, "weights": {"stalled": 2, "no_plan": 1},
                                            "bands": {"medium": 2, "high": 4}})
    with db.read(tiny_db) as con:
        conf, old = settings.load(con), settings.old_risk_scale(con)
    assert conf["risk"]["stale_days"] == 45
    assert set(conf["risk"]["weights"].values()) == {None}
    assert conf["risk"]["bands"] == {"medium": pytest.approx(0.223144, abs=1e-6),
                                     "high": pytest.approx(0.693147, abs=1e-6)}
    assert old["weights"]["stalled"] == 2
    # stored once (the stage names of the defaults, Proposal and Negotiation, are not in this
    # fixture's list: a reset is stored all the same, and Settings lists the mismatch)
    assert settings_store.reset_old_risk_scale(tiny_db) is not None
    assert settings_store.reset_old_risk_scale(tiny_db) is None
    with db.read(tiny_db) as con:
        assert settings.old_risk_scale(con) is None
        assert settings.load(con)["risk"]["stale_days"] == 45


def test_flag_lists_agree():
    assert FLAGS == settings.RISK_FLAGS and set(LABELS) == set(FLAGS) == set(DEFINITIONS)
    assert set(settings.DEFAULTS["risk"]["weights"]) == set(FLAGS)


def test_expected_loss_is_in_the_settings_currency(demo_db_factory):
    """The demo has USD deals and EUR as the settings currency: expected loss / (stage win rate -
    predicted) is the deal's amount in EUR, the same as the snapshot's amount_base at the as-of."""
    import numpy as np

    from kam_analytics.reports.forecasting import snapshot

    with db.read(demo_db_factory(2000, 7)) as con:
        df = risk(con, "2026-09-01")
        snap = snapshot(con, "2026-09-01").set_index("deal_id")
    gap = df["stage_win_rate"] - df["predicted_win_probability"]
    some = df[(gap > 0) & df["expected_loss"].notna()]
    assert set(some["currency"]) == {"EUR", "USD"}
    np.testing.assert_allclose((some["expected_loss"] / gap[some.index]).to_numpy(),
                               snap.loc[some["deal_id"], "amount_base"].to_numpy(dtype=float), rtol=1e-9)


def test_the_weights_are_kept_on_disk_per_data_version(calibration_db, tmp_path, monkeypatch):
    """A new process (here: the in-memory cache emptied) reads the flag statistics behind the
    weights from beside the database instead of computing the back-test again; a write (a new
    data version) computes them afresh, and they are the same figures."""
    import shutil

    from kam_analytics.reports import risk as R

    path = tmp_path / "copy.duckdb"
    shutil.copy(calibration_db, path)
    t = datetime(2026, 4, 10)
    with db.read(path) as con:
        conf = settings.load(con)
        first = R.weights_as_of(con, t, conf)[0]
    assert list((tmp_path / ".kam-cache").glob("risk-calibration-*.json"))
    R._CACHE.clear()

    def no_backtest(*_a, **_k):
        raise AssertionError("computed again")

    with monkeypatch.context() as m:
        m.setattr(R, "evaluations", no_backtest)
        with db.read(path) as con:
            assert R.weights_as_of(con, t, conf)[0] == first     # exact: floats kept as written
    _variant_path = _variant(tmp_path, path, "update deals set amount = amount where false")
    R._CACHE.clear()
    calls = []
    real = R.evaluations
    monkeypatch.setattr(R, "evaluations", lambda *a, **k: calls.append(1) or real(*a, **k))
    with db.read(_variant_path) as con:
        assert R.weights_as_of(con, t, conf)[0] == first
    assert calls, "a new data version computes the figures again"
