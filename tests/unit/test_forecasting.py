"""Snapshot, pushes and slippage on the hand-worked `forecast` fixture (tests/fixtures/forecast).

History (changed_at: stage, amount, close_date); the data's date is 2026-05-05 (F1 won):
  F1  11-01 A 10,000 close 02-15; 02-01 B close 03-20 (push 33 d); 03-25 close 04-30 (push 41 d);
      05-05 won, close 05-05 (push 5 d)                  → pushed across the quarter end
  F2  12-01 A 20,000 close 06-30; 02-10 B close 03-15 (pull-in); 03-10 won, close 03-10 (pull-in)
  F3  12-15 A 5,000 close 03-31; 02-01 B 8,000 (amount raised); 03-20 lost, close 03-20 (pull-in)
  F4  created 2026-01-15 A 3,000 close 02-28; 02-20 won, close 02-20 (pull-in) → inside the window
  F5  10-01 A 7,000 close 03-31; 04-10 won, close 04-10 (push 10 d) → closed after the quarter
  F6  12-01 B 4,000 close 01-31; 01-20 won (pull-in)
  F7  USD 1,000 close 03-15, open: rate valid at 03-15 = 0.8 (0.9 before 03-01) → 800 EUR
  F8  no history: B 2,000 close 02-28, open        F9  GBP 500 close 03-01, open, no rate
  F10 created 03-01 A 6,000 close 06-15, open      F11 created 03-01 A 9,000 close 05-20;
                                                        04-20 B close 07-15 (push 56 d)
"""

import pandas as pd
import pytest

from kam_analytics import db
from kam_analytics.errors import UsageError
from kam_analytics.reports.forecasting import pushes, slippage, snapshot

from ..conftest import load_fixture


@pytest.fixture
def fc_db(tmp_path):
    return load_fixture(tmp_path / "forecast.duckdb", "forecast")


def _one(df):
    return df.iloc[0].to_dict()


def test_snapshot_at_a_quarter_start(fc_db):
    with db.read(fc_db) as con:
        s = snapshot(con, "2026-01-01").set_index("deal_id")
    # F4, F10, F11 do not exist yet; F6 is still open (won on 01-20)
    assert sorted(s.index) == ["F1", "F2", "F3", "F5", "F6", "F7", "F8", "F9"]
    assert s.loc["F3", "amount"] == 5000 and s.loc["F3", "stage"] == "A"      # before the raise
    assert s.loc["F1", "close_date"] == pd.Timestamp("2026-02-15")
    assert s.loc["F8", "stage"] == "B" and s.loc["F8", "amount"] == 2000       # no history: current fields
    assert s.loc["F7", "amount_base"] == pytest.approx(800)                    # 1,000 USD × 0.8
    assert s.loc["F9", "amount_base"] != s.loc["F9", "amount_base"]            # no GBP rate: missing
    assert set(s["status"]) == {"open"}


def test_pushes_and_pull_ins(fc_db):
    with db.read(fc_db) as con:
        df = pushes(con)
    rows = {r["deal_id"]: r for r in df.to_dict("records")}
    assert list(df["deal_id"][:3]) == ["F1", "F11", "F5"]                      # most pushed first
    # F1: 02-15 → 03-20 (+33) → 04-30 (+41) → 05-05 (+5) = 3 pushes, 79 days
    assert (rows["F1"]["pushes"], rows["F1"]["pull_ins"], rows["F1"]["days_pushed"]) == (3, 0, 79)
    assert (rows["F1"]["first_close_date"], rows["F1"]["close_date"]) == (pd.Timestamp("2026-02-15"), pd.Timestamp("2026-05-05"))
    assert (rows["F2"]["pushes"], rows["F2"]["pull_ins"], rows["F2"]["days_pushed"]) == (0, 2, 0)
    assert (rows["F3"]["pushes"], rows["F3"]["pull_ins"]) == (0, 1)            # same date, then earlier
    assert rows["F11"]["days_pushed"] == 56                                    # 05-20 → 07-15
    assert rows["F8"]["first_close_date"] == pd.Timestamp("2026-02-28")                 # no history
    with db.read(fc_db) as con:
        before = {r["deal_id"]: r for r in pushes(con, as_of="2026-03-01").to_dict("records")}
    assert (before["F1"]["pushes"], before["F1"]["days_pushed"]) == (1, 33)    # only the 02-01 push by then
    assert "F11" not in before                                                 # created 03-01: not yet


def test_slippage_of_an_ended_quarter(fc_db):
    with db.read(fc_db) as con:
        r = _one(slippage(con, "FY2026-Q1"))
    # expected at 01-01: F1 10,000, F3 5,000, F5 7,000, F6 4,000, F7 800, F8 2,000, F9 (no rate) = 7 deals, 28,800
    # won F6 4,000; lost F3 5,000 (the snapshot's amount); slipped F1 (won 05-05), F5 (won 04-10),
    # F7, F8, F9 (still open) = 5 deals, 10,000 + 7,000 + 800 + 2,000 = 19,800
    assert (r["expected_deals"], r["expected_amount"]) == (7, 28_800)
    assert (r["won_deals"], r["won_amount"], r["lost_deals"], r["lost_amount"]) == (1, 4_000, 1, 5_000)
    assert (r["slipped_deals"], r["slipped_amount"]) == (5, 19_800)
    assert r["slippage_rate"] == pytest.approx(19_800 / 28_800)
    assert r["slippage_count_rate"] == pytest.approx(5 / 7)
    assert (r["open_deals"], r["open_amount"]) == (0, 0)                       # 0 once P has ended


def test_slippage_as_of_inside_the_quarter(fc_db):
    with db.read(fc_db) as con:
        r = _one(slippage(con, "FY2026-Q1", as_of="2026-02-15"))
    # at 02-15: F2 (close 03-15, 20,000) and F4 (created 01-15, 3,000) are now expected, F3 at 8,000,
    # F6 already won: 8 deals, 10,000 + 20,000 + 8,000 + 3,000 + 7,000 + 800 + 2,000 = 50,800
    assert (r["expected_deals"], r["expected_amount"]) == (8, 50_800)
    assert (r["won_deals"], r["won_amount"]) == (2, 23_000)
    assert (r["lost_deals"], r["lost_amount"]) == (1, 8_000)
    assert (r["slipped_deals"], r["slipped_amount"]) == (5, 19_800)


def test_slippage_while_the_quarter_runs(fc_db):
    with db.read(fc_db) as con:
        df = slippage(con, "FY2026-Q2")
    r = _one(df)
    # data's date 05-05: expected at 04-01 F1 10,000 (close 04-30), F10 6,000, F11 9,000 (close 05-20)
    # F1 won 05-05; F11's close date moved to 07-15 → slipped; F10 still due → open
    assert (r["expected_deals"], r["expected_amount"]) == (3, 25_000)
    assert (r["won_deals"], r["won_amount"], r["slipped_deals"], r["slipped_amount"]) == (1, 10_000, 1, 9_000)
    assert (r["open_deals"], r["open_amount"]) == (1, 6_000)
    assert r["slippage_rate"] == pytest.approx(9_000 / 25_000)
    assert "has not ended" in df.attrs["notes"][0]


@pytest.mark.parametrize("period, as_of, message", [
    ("2026-Q1", None, "expected a fiscal quarter such as FY2026-Q1"),
    ("FY2026-Q5", None, "expected a fiscal quarter"),
    ("FY2026-Q1", "2026-05-01", "is not inside FY2026-Q1"),
])
def test_slippage_usage_errors(fc_db, period, as_of, message):
    with db.read(fc_db) as con, pytest.raises(UsageError, match=message):
        slippage(con, period, as_of=as_of)
