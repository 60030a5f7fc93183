"""Forecast accuracy, quota attainment and the forecast range on hand-worked fixtures.

`forecast` (tests/fixtures/forecast, described in test_forecasting.py) adds owners (Ann Lee and
Bo Chan report to Mia Park; Cy Diaz to Noor Ali; teams North = Ann, South = Bo and Cy), quotas
for FY2026-Q1 (Ann 30,000; Bo 2,000 for each of M01..M03; Cy 10,000) and forecast calls (Ann
on 01-05: commit 25,000, best case 40,000, and again on 03-25: 30,000 / 35,000; Cy, written
"cy diaz", on 02-01: 5,000 / 12,000).

`forecast_range` (tests/fixtures/forecast_range), as of 2026-03-01 for FY2026-Q1 (31 days
left), with the small-sample minimum saved as 2:
  closed  H1 A 2025-01-01 → won 01-20          H2 A 02-01 → lost 04-15
          H3 A 03-01, B 03-11 → won 03-31      H4 B 05-01 → lost 05-11
          H5 A 06-01 → lost 09-15              H6 A 06-01 → won 11-30
  open    O1 A since 2026-02-20, 10,000, commit, close 03-15     (age 9 days: bin 0)
          O2 A 02-10, B since 02-25, 20,000, best case, close 03-31 (age 4 days: bin 0)
          O3 A since 2025-11-25, 40,000, pipeline, close 02-20 (past due; age 96 days: bin 3)
  win rate from A: all six closed deals reached A, 3 won → 1/2; from B: H1, H3, H6 (won) and
  H4 (lost) → 3/4.
  closing within 31 days, A bin 0 (visits started by 01-29): H1 19 d yes, H2 73 no, H3 30 yes,
  H5 106 no, H6 182 no, O3 (open) no → 2/6; A bin 3 (reached 90 days, observed 31 more):
  H5 (90 days on 2025-08-30, closed 16 days later) yes, H6 (closed 92 days later) no → 1/2;
  B bin 0: H3 20 d, H4 10 d → 2/2.
  q = win rate × closing: O1 1/2 × 1/3 = 1/6, O2 3/4 × 1 = 3/4, O3 1/2 × 1/2 = 1/4.
"""

from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from kam_analytics import batches, db, settings_store
from kam_analytics.errors import UsageError
from kam_analytics.reports.forecast_quality import (attainment, forecast_accuracy, forecast_range,
                                                    range_inputs, simulate)

from ..conftest import load_fixture


@pytest.fixture
def fc_db(tmp_path):
    return load_fixture(tmp_path / "forecast.duckdb", "forecast")


@pytest.fixture
def range_db(tmp_path):
    return load_fixture(tmp_path / "range.duckdb", "forecast_range")


def test_forecast_accuracy_inside_the_quarter(fc_db):
    with db.read(fc_db) as con:
        r = forecast_accuracy(con, "FY2026-Q1", as_of="2026-03-21").iloc[0].to_dict()
    # won before 03-21 in Q1: F6 4,000 (01-20), F4 3,000 (02-20), F2 20,000 (03-10) = 27,000
    assert r["won_by_as_of"] == 27_000
    # open at 03-21 with close in Q1: F1 B 10,000 commit (close 03-20), F5 A 7,000 pipeline, F7 A 800
    # best case, F8 B 2,000 pipeline, F9 commit without a rate (not summed); F3 was lost on 03-20
    assert r["commit_forecast"] == 27_000 + 10_000
    assert r["best_case_forecast"] == 27_000 + 10_000 + 800
    # win rates from deals closed before 03-21 (F2, F4, F6 won, F3 lost, all reached A and B): 3/4
    assert r["weighted_forecast"] == pytest.approx(27_000 + 0.75 * (10_000 + 7_000 + 800 + 2_000))   # 41,850
    assert r["actual"] == 27_000                       # won with closed_date in Q1
    assert r["commit_accuracy"] == pytest.approx(37_000 / 27_000)
    assert r["commit_error"] == 10_000
    # calls before 03-21: Ann's of 01-05 (25,000 / 40,000; her 03-25 call is later), Cy's (5,000 / 12,000);
    # their actual: Ann F2 20,000 + Cy F6 4,000
    assert (r["calls_owners"], r["calls_commit"], r["calls_best_case"], r["calls_actual"]) == (2, 30_000, 52_000, 24_000)
    assert r["calls_commit_accuracy"] == pytest.approx(30_000 / 24_000)
    assert r["calls_best_case_accuracy"] == pytest.approx(52_000 / 24_000)


def test_forecast_accuracy_per_owner(fc_db):
    with db.read(fc_db) as con:
        df = forecast_accuracy(con, "FY2026-Q1", as_of="2026-03-21", owners=True).set_index("owner")
    ann = df.loc["Ann Lee"]
    # Ann: won F2 20,000 + commit F1 10,000; weighted 20,000 + 0.75 × (F1 10,000 + F8 2,000)
    assert (ann["commit_forecast"], ann["weighted_forecast"], ann["actual"]) == (30_000, 29_000, 20_000)
    assert (ann["call_commit"], ann["call_commit_accuracy"]) == (25_000, 1.25)
    cy = df.loc["Cy Diaz"]
    # Cy: won F6 4,000; best case adds F7 800; weighted 4,000 + 0.75 × (F5 7,000 + F7 800) = 9,850
    assert (cy["best_case_forecast"], cy["weighted_forecast"], cy["call_best_case_accuracy"]) == (4_800, 9_850, 3.0)
    assert df.loc["Bo Chan", "call_commit"] != df.loc["Bo Chan", "call_commit"]       # no call: missing


def test_forecast_accuracy_at_the_first_day_by_default(fc_db):
    with db.read(fc_db) as con:
        r = forecast_accuracy(con, "FY2026-Q1").iloc[0].to_dict()
    # as of 01-01: nothing won yet; commit F1 10,000 + F6 4,000 (F9 has no rate); best case adds F3 5,000, F7 800;
    # no deal closed before 01-01, so no win rate: weighted 0
    assert str(r["as_of"]) == "2026-01-01"
    assert (r["won_by_as_of"], r["commit_forecast"], r["best_case_forecast"], r["weighted_forecast"]) == (0, 14_000, 19_800, 0)
    assert r["calls_owners"] == 0 and r["calls_commit"] is None          # no call submitted before 01-01


@pytest.mark.parametrize("by, expected", [
    # Ann: 20,000 / 30,000; open F8 2,000 (F9 has no rate) / (30,000 − 20,000)
    # Bo: quota from his months 3 × 2,000; won F4 3,000; nothing open in Q1 → coverage 0 / 3,000
    # Cy: 4,000 / 10,000; open F7 800 / 6,000
    ("owner", {"Ann Lee": (30_000, 20_000, 2 / 3, 2_000, 0.2), "Bo Chan": (6_000, 3_000, 0.5, 0, 0.0),
               "Cy Diaz": (10_000, 4_000, 0.4, 800, 800 / 6_000)}),
    ("manager", {"Mia Park": (36_000, 23_000, 23 / 36, 2_000, 2_000 / 13_000),
                 "Noor Ali": (10_000, 4_000, 0.4, 800, 800 / 6_000)}),
    ("team", {"North": (30_000, 20_000, 2 / 3, 2_000, 0.2), "South": (16_000, 7_000, 7 / 16, 800, 800 / 9_000)}),
])
def test_attainment(fc_db, by, expected):
    with db.read(fc_db) as con:
        df = attainment(con, "FY2026-Q1", by=by)
    got = {r[by]: (r["quota"], r["won_amount"], r["attainment"], r["open_amount"], r["coverage"])
           for r in df.to_dict("records")}
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v)
    assert any(n.startswith("1 deal(s) have no rate into EUR") for n in df.attrs["notes"])    # F9, open in Q1


def test_attainment_of_a_month_with_the_quota_met(fc_db):
    with db.read(fc_db) as con:
        df = attainment(con, "FY2026-M02", by="owner")
    # only Bo has a quota for M02 (2,000); he won F4 3,000 on 02-20: attainment 1.5, no coverage (quota met).
    # Ann has F8 2,000 (close 02-28) open in M02 and no quota for it: the "(no quota)" row (no quota, so no
    # attainment and no coverage); Cy has nothing in M02
    assert _records(df) == [
        {"owner": "Bo Chan", "period": "FY2026-M02", "quota": 2_000, "won_amount": 3_000, "attainment": 1.5,
         "open_amount": 0, "coverage": None},
        {"owner": "(no quota)", "period": "FY2026-M02", "quota": None, "won_amount": 0, "attainment": None,
         "open_amount": 2_000, "coverage": None}]
    assert any("1 owner(s) with deals in FY2026-M02 have no quota" in n and "(no quota)" in n
               for n in df.attrs["notes"])
    # F9 (GBP, no rate) closes 03-01, outside M02: not one of the month's figures, so no rate note
    assert not any("no rate" in n for n in df.attrs["notes"])
    with db.read(fc_db) as con, pytest.raises(UsageError, match="--by: expected one of owner, manager, team"):
        attainment(con, "FY2026-Q1", by="region")


def _records(df):
    """The rows with a missing value (NaN in a number column) as None, as the JSON prints it."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _won_after_the_end(path):
    """A hand-worked world for won so far (issue 24 part 1). P = FY2026-Q1 = [01-01, 04-01), in EUR:
      W1 Ann 1,000: A since 2025-12-01 (close 03-31), won 02-10             -> won in Q1
      W2 Ann   300: A since 2025-12-01 (close 03-15, commit), pushed on 03-20 to 04-20, won 04-20
                                                                           -> won after Q1's end
      W3 Bo     50: no history, created 01-05, won 03-05                   -> won in Q1; Bo has no quota
      L1 Bo     10: no history, created 05-01, open, close 06-30           -> the data's date: 05-01
    Quota: Ann 1,500 for FY2026-Q1."""
    with batches.batch(path, "test", "won after the end") as b:
        b.con.execute(f"""insert into deals (deal_id, owner, amount, currency, created_date, close_date, stage,
                          closed_date, forecast_category, batch_id) values
            ('W1', 'Ann Lee', 1000, 'EUR', '2025-12-01', '2026-02-10', 'Closed Won', '2026-02-10', null, {b.batch_id}),
            ('W2', 'Ann Lee', 300, 'EUR', '2025-12-01', '2026-04-20', 'Closed Won', '2026-04-20', null, {b.batch_id}),
            ('W3', 'Bo Chan', 50, 'EUR', '2026-01-05', '2026-03-05', 'Closed Won', '2026-03-05', null, {b.batch_id}),
            ('L1', 'Bo Chan', 10, 'EUR', '2026-05-01', '2026-06-30', 'A', null, null, {b.batch_id})""")
        b.con.execute(f"""insert into deal_history (deal_id, changed_at, stage, amount, close_date,
                          forecast_category, seq, batch_id) values
            ('W1', '2025-12-01', 'A', 1000, '2026-03-31', null, 1, {b.batch_id}),
            ('W1', '2026-02-10', 'Closed Won', 1000, '2026-02-10', null, 2, {b.batch_id}),
            ('W2', '2025-12-01', 'A', 300, '2026-03-15', 'commit', 3, {b.batch_id}),
            ('W2', '2026-03-20', 'A', 300, '2026-04-20', 'commit', 4, {b.batch_id}),
            ('W2', '2026-04-20', 'Closed Won', 300, '2026-04-20', null, 5, {b.batch_id})""")
        b.con.execute(f"insert into quotas values ('Ann Lee', 'FY2026-Q1', 1500, {b.batch_id})")
        b.touched |= {"deals", "deal_history", "quotas"}
    return path


def test_won_so_far_stops_at_the_period_end(tmp_path):
    path = _won_after_the_end(tmp_path / "won.duckdb")
    with db.read(path) as con:
        after = forecast_accuracy(con, "FY2026-Q1", as_of="2026-04-25").iloc[0]
        inside = forecast_accuracy(con, "FY2026-Q1", as_of="2026-03-01").iloc[0]
        rng = forecast_range(con, "FY2026-Q1", as_of="2026-04-25", runs=100).iloc[0]
        att = attainment(con, "FY2026-Q1", as_of="2026-04-25")
    # as of 04-25 (after Q1's end 04-01, before the data's date 05-01): won before 04-25 = W1 1,000 (02-10)
    # + W3 50 (03-05) + W2 300 (04-20); only the first two were won IN Q1: won so far = 1,000 + 50 = 1,050,
    # not 1,350. actual = won with closed_date in Q1 = 1,050: once Q1 has ended, won so far is the actual.
    assert after["won_by_as_of"] == 1_050
    assert after["actual"] == 1_050
    # nothing is open at 04-25 with a close date in Q1 (W2 was pushed to 04-20, then won): every forecast is
    # the won so far, 1,050, and so accurate
    assert (after["commit_forecast"], after["best_case_forecast"], after["weighted_forecast"]) == (1_050,) * 3
    assert after["commit_accuracy"] == 1.0
    # the range as of 04-25: nothing left to close in Q1, every run ends at the won so far
    assert (rng["won_by_as_of"], rng["p10"], rng["p50"], rng["p90"]) == (1_050,) * 4
    # attainment as of 04-25: Ann 1,000 of 1,500 (2/3), open 0, coverage 0 / (1,500 − 1,000) = 0;
    # Bo has no quota: his W3 50 is on the "(no quota)" row, so that the won column adds up to 1,050
    assert _records(att) == [
        {"owner": "Ann Lee", "period": "FY2026-Q1", "quota": 1_500, "won_amount": 1_000, "attainment": 2 / 3,
         "open_amount": 0, "coverage": 0.0},
        {"owner": "(no quota)", "period": "FY2026-Q1", "quota": None, "won_amount": 50, "attainment": None,
         "open_amount": 0, "coverage": None}]
    assert att["won_amount"].sum() == after["actual"]
    # inside Q1, as of 03-01: only W1 (02-10) is won yet: 1,000; W2 is open, commit, close 03-15 in Q1
    assert inside["won_by_as_of"] == 1_000
    assert inside["commit_forecast"] == 1_000 + 300


def test_won_so_far_on_the_forecast_fixture_after_the_quarter(fc_db):
    """The forecast fixture as of 2026-04-15 for FY2026-Q1 (ended 03-31): won in Q1 F6 4,000 (01-20) + F4
    3,000 (02-20) + F2 20,000 (03-10) = 27,000; F5 7,000 was won on 04-10, before the as-of but in Q2."""
    with db.read(fc_db) as con:
        acc = forecast_accuracy(con, "FY2026-Q1", as_of="2026-04-15").iloc[0]
        rng = forecast_range(con, "FY2026-Q1", as_of="2026-04-15", runs=100).iloc[0]
        att = {by: attainment(con, "FY2026-Q1", by=by, as_of="2026-04-15") for by in ("owner", "manager", "team")}
    assert (acc["won_by_as_of"], acc["actual"]) == (27_000, 27_000)
    # open at 04-15 with close in Q1: F7 800 (1,000 USD at 0.8; best case), F8 2,000 (pipeline), F9 (no rate);
    # commit = 27,000; best case = 27,000 + 800
    assert (acc["commit_forecast"], acc["best_case_forecast"]) == (27_000, 27_800)
    assert (rng["won_by_as_of"], rng["p50"]) == (27_000, 27_000)
    for by, df in att.items():                 # every owner has a quota for Q1: no "(no quota)" row
        assert df["won_amount"].sum() == 27_000 and "(no quota)" not in set(df[by]), by


def _exact_distribution():
    """The three deals' totals enumerated: each of the 2³ outcomes with its probability."""
    deals = [(10_000, Fraction(1, 6)), (20_000, Fraction(3, 4)), (40_000, Fraction(1, 4))]
    dist: dict[int, Fraction] = {}
    for wins in product((0, 1), repeat=3):
        p, total = Fraction(1), 0
        for (amount, q), w in zip(deals, wins):
            p *= q if w else 1 - q
            total += amount * w
        dist[total] = dist.get(total, Fraction(0)) + p
    return dist


def test_range_inputs_per_deal(range_db):
    with db.read(range_db) as con:
        df = range_inputs(con, "FY2026-Q1", as_of="2026-03-01").set_index("deal_id")
    assert list(df.loc[["O1", "O2", "O3"], "age_bin"]) == [0, 0, 3]
    assert df.loc["O1", "win_rate"] == 0.5 and df.loc["O2", "win_rate"] == 0.75
    assert df.loc["O1", "p_close_in_period"] == pytest.approx(2 / 6)
    assert df.loc["O3", "p_close_in_period"] == pytest.approx(1 / 2)
    assert df.loc["O2", "p_close_in_period"] == 1.0
    assert list(df.loc[["O1", "O2", "O3"], "visits_behind"]) == [6, 2, 2]
    assert df["q"].to_dict() == pytest.approx({"O1": 1 / 6, "O2": 3 / 4, "O3": 1 / 4})


def test_range_falls_back_to_the_stage_then_all_stages(range_db):
    settings_store.save(range_db, {"min_sample": 5})
    with db.read(range_db) as con:
        df = range_inputs(con, "FY2026-Q1", as_of="2026-03-01").set_index("deal_id")
    # O3's bin 3 has 2 visits < 5 → A alone (bin 0: 2 of 6); O2's B has 2 < 5 → all stages: A 2/6 + B 2/2 = 4/8
    assert df.loc["O3", "basis"] == "stage" and df.loc["O3", "p_close_in_period"] == pytest.approx(2 / 6)
    assert df.loc["O2", "basis"] == "all stages" and df.loc["O2", "p_close_in_period"] == pytest.approx(4 / 8)


def test_forecast_range_matches_the_enumerated_distribution(range_db):
    dist = _exact_distribution()
    assert sum(dist.values()) == 1
    cdf, acc = {}, Fraction(0)
    for total in sorted(dist):
        acc += dist[total]
        cdf[total] = acc
    # P(total ≤ x): 0 → 15/96, 10,000 → 18/96, 20,000 → 63/96, 30,000 → 72/96, 40,000 → 77/96,
    # 50,000 → 78/96, 60,000 → 93/96, 70,000 → 1.  Smallest x with P ≥ 0.1, 0.5, 0.9: 0, 20,000, 60,000
    exact = [min(x for x in cdf if cdf[x] >= q) for q in (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10))]
    assert exact == [0, 20_000, 60_000]
    with db.read(range_db) as con:
        df = forecast_range(con, "FY2026-Q1", as_of="2026-03-01")
    r = df.iloc[0].to_dict()
    assert (r["p10"], r["p50"], r["p90"]) == tuple(exact)
    assert (r["runs"], r["seed"], r["deals"]) == (10_000, 42, 3)
    # commit: O1 10,000; weighted: 10,000 × 1/2 + 20,000 × 3/4 + 40,000 × 1/2 = 40,000 (nothing won yet)
    assert (r["commit_forecast"], r["weighted_forecast"], r["won_by_as_of"]) == (10_000, 40_000, 0)
    # every total's share of runs within 4.5 standard errors of its exact probability
    totals = df.attrs["totals"]
    for total, p in dist.items():
        share = float(np.mean(totals == total))
        se = float(np.sqrt(float(p) * (1 - float(p)) / 10_000))
        assert abs(share - float(p)) < 4.5 * se, (total, share, float(p))
    assert "30-day band" in df.attrs["method"]


def test_forecast_range_is_seeded(range_db):
    with db.read(range_db) as con:
        a = forecast_range(con, "FY2026-Q1", runs="500", seed="7", as_of="2026-03-01").attrs["totals"]
        b = forecast_range(con, "FY2026-Q1", runs="500", seed="7", as_of="2026-03-01").attrs["totals"]
        c = forecast_range(con, "FY2026-Q1", runs="500", seed="8", as_of="2026-03-01").attrs["totals"]
    assert len(a) == 500 and (a == b).all() and not (a == c).all()
    with db.read(range_db) as con, pytest.raises(UsageError, match="--runs: expected a whole number"):
        forecast_range(con, "FY2026-Q1", runs="many")


def test_simulate_always_and_never():
    totals = simulate(np.array([5.0, 7.0, 11.0]), np.array([1.0, 0.0, 1.0]), runs=100, seed=1)
    assert (totals == 16.0).all()                   # q = 1 always adds, q = 0 never
    # q is used to the nearest 1/65,536: 2⁻¹⁸ rounds to 0 (never), 1 − 2⁻¹⁸ to 1 (always)
    totals = simulate(np.array([5.0, 7.0]), np.array([2.0**-18, 1 - 2.0**-18]), runs=1000, seed=1)
    assert (totals == 7.0).all()
