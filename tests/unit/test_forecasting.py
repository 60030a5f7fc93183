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
  F12 created 04-05 A 5,000 close 06-20; 04-25 amount cut to 4,000 (Bo Chan)
Forecast categories (history rows in force): F1 commit, F3 best case, F5 pipeline, F6 commit,
F7 best case, F8 pipeline, F9 commit, F12 pipeline, F10 and F11 none.
"""

import pandas as pd
import pytest

from kam_analytics import db
from kam_analytics.errors import UsageError
from kam_analytics.reports.forecasting import pipeline, pushes, share_snapshots, slippage, snapshot, waterfall

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


def _waterfall(df):
    return {r["category"]: (r["deals"], r["amount"]) for r in df.to_dict("records")}


def test_waterfall_of_a_quarter(fc_db):
    with db.read(fc_db) as con:
        df = waterfall(con, period="FY2026-Q1")
    assert list(df["category"]) == ["start", "new", "pulled_in", "increased", "decreased", "pushed_out", "won",
                                    "lost", "end"]
    w = _waterfall(df)
    # window 01-01 .. 04-01 (the quarter has ended), W = Q1.
    # start: open at 01-01 with close in Q1: F1 10,000, F3 5,000, F5 7,000, F6 4,000, F7 800, F8 2,000, F9 0 (no rate)
    assert w["start"] == (7, 28_800)
    assert w["new"] == (1, 3_000)                 # F4 created 01-15, won 02-20
    assert w["pulled_in"] == (1, 20_000)          # F2: close 06-30 at 01-01, won 03-10
    assert w["increased"] == (1, 3_000)           # F3: 5,000 → 8,000, then lost
    assert w["decreased"] == (0, 0)
    assert w["pushed_out"] == (1, 10_000)         # F1: close 04-30 at 04-01
    assert w["won"] == (3, 27_000)                # F6 4,000 + F2 20,000 + F4 3,000
    assert w["lost"] == (1, 8_000)                # F3 at its closing amount
    assert w["end"] == (4, 9_800)                 # F5 7,000 (won only on 04-10) + F7 800 + F8 2,000 + F9 0
    # 28,800 + 3,000 + 20,000 + 3,000 − 0 − 10,000 − 27,000 − 8,000 = 9,800
    assert any("no amount or" in n for n in df.attrs["notes"])     # F9


def test_waterfall_with_a_cut_and_a_custom_window(fc_db):
    with db.read(fc_db) as con:
        w = _waterfall(waterfall(con, period="FY2026-Q2", date_from="2026-04-15"))
    # window 04-15 .. 05-06 (the data's date 05-05 is the default end), W = Q2.
    # start: F1 10,000 (close 04-30), F10 6,000, F11 9,000 (still close 05-20 at 04-15), F12 5,000 = 30,000;
    # F5 won 04-10, before the window: not in it.
    assert w["start"] == (4, 30_000)
    assert w["decreased"] == (1, 1_000)           # F12: 5,000 → 4,000 on 04-25, stays in end
    assert w["pushed_out"] == (1, 9_000)          # F11: close 07-15 on 04-20
    assert w["won"] == (1, 10_000)                # F1 won 05-05
    assert w["end"] == (2, 10_000)                # F10 6,000 + F12 4,000
    assert w["new"] == w["pulled_in"] == w["increased"] == w["lost"] == (0, 0)
    # 30,000 − 1,000 − 9,000 − 10,000 = 10,000


def test_waterfall_usage_errors(fc_db):
    with db.read(fc_db) as con, pytest.raises(UsageError, match="--to must be on or after --from"):
        waterfall(con, period="FY2026-Q1", date_from="2026-03-01", date_to="2026-02-01")


def test_pipeline_now(fc_db):
    with db.read(fc_db) as con:
        df = pipeline(con)
    got = {(r["stage"], r["forecast_category"] if r["forecast_category"] == r["forecast_category"] else None,
            r["period"]): (r["deals"], r["amount"]) for r in df.to_dict("records")}
    # open at the data's date: F7 A best case Q1 800 (USD 1,000 × 0.8), F8 B pipeline Q1 2,000,
    # F9 A commit Q1 (no GBP rate: counted, amount 0), F10 A none Q2 6,000, F11 B none Q3 9,000,
    # F12 A pipeline Q2 4,000
    assert got == {
        ("A", "commit", "FY2026-Q1"): (1, 0), ("A", "best case", "FY2026-Q1"): (1, 800),
        ("A", "pipeline", "FY2026-Q2"): (1, 4_000), ("A", None, "FY2026-Q2"): (1, 6_000),
        ("B", "pipeline", "FY2026-Q1"): (1, 2_000), ("B", None, "FY2026-Q3"): (1, 9_000),
    }
    assert any("no rate into EUR" in n for n in df.attrs["notes"])


def test_pipeline_by_owner_in_the_past(fc_db):
    with db.read(fc_db) as con:
        df = pipeline(con, by="owner", as_of="2026-01-01")
    totals = df.groupby("owner")["amount"].sum().to_dict()
    # at 01-01: Ann F1 10,000 + F2 20,000 + F8 2,000 + F9 0; Bo F3 5,000; Cy F5 7,000 + F6 4,000 + F7 800
    assert totals == {"Ann Lee": 32_000, "Bo Chan": 5_000, "Cy Diaz": 11_800}
    assert set(df["period"]) == {"FY2026-Q1", "FY2026-Q2"}           # F2 closes 06-30


def test_slippage_drill_down_and_push_history(fc_db):
    from kam_analytics.reports.forecasting import deal_history, pushes_by_owner, slippage_deals

    with db.read(fc_db) as con:
        deals = slippage_deals(con, "FY2026-Q1")
        history = deal_history(con, "F1")
        owners = pushes_by_owner(con).set_index("owner")
    # the same seven expected deals as test_slippage_of_an_ended_quarter, slipped first
    assert dict(zip(deals["deal_id"], deals["outcome"])) == {
        "F1": "slipped", "F5": "slipped", "F8": "slipped", "F7": "slipped", "F9": "slipped", "F3": "lost", "F6": "won"}
    assert deals.set_index("deal_id").loc["F1", "pushes"] == 2          # two pushes by the end of Q1 (04-01)
    assert list(history["close_date_move"].fillna("")) == ["", "push", "push", "push"]
    assert list(history["days_moved"][1:]) == [33, 41, 5]
    # Ann: F1 3 pushes 79 days, F2 2 pull-ins; Bo: F11 1 push 56 days, F3 and F4 a pull-in each;
    # Cy: F5 1 push 10 days, F6 a pull-in
    assert owners.loc["Ann Lee", ["pushes", "pull_ins", "days_pushed", "deals_pushed"]].tolist() == [3, 2, 79, 1]
    assert owners.loc["Bo Chan", ["pushes", "pull_ins", "days_pushed"]].tolist() == [1, 2, 56]
    assert owners.loc["Cy Diaz", ["pushes", "pull_ins", "days_pushed"]].tolist() == [1, 1, 10]


def test_a_read_only_connection_shares_one_snapshot_per_as_of(fc_db):
    """On a read-only connection that asks for it each as-of's snapshot is made once (a temp
    table) and shared by the reports; otherwise it is inlined. The same numbers either way."""
    def temp_snapshots(con):
        return con.execute("select count(*) from duckdb_tables() where temporary "
                           "and table_name like 'kam_snapshot_%'").fetchone()[0]

    with db.read(fc_db) as con:
        alone = pipeline(con, as_of="2026-04-01")           # a lone report inlines its snapshot
        assert temp_snapshots(con) == 0
        share_snapshots(con)
        shared = [pipeline(con, as_of="2026-04-01"), waterfall(con, "2026-04-01", "2026-05-31", "FY2026-Q2"),
                  slippage(con, "FY2026-Q2"), pushes(con, "2026-04-01")]
        # as-of 2026-04-01 (pipeline, pushes, slippage's start, waterfall's t0), 2026-06-01 (t1),
        # and slippage's end: 2026-07-01 (the quarter has ended in the fixture's data)
        assert temp_snapshots(con) == 3
    with db.write(fc_db) as con:
        share_snapshots(con)                                 # asked, but a writer never shares
        inlined = [pipeline(con, as_of="2026-04-01"), waterfall(con, "2026-04-01", "2026-05-31", "FY2026-Q2"),
                   slippage(con, "FY2026-Q2"), pushes(con, "2026-04-01")]
        assert temp_snapshots(con) == 0
    for a, b in zip(shared, inlined):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(alone, shared[0])


def test_deal_labels_take_the_ids_as_a_tuple_or_as_one_string(fc_db):
    from kam_analytics.reports.forecasting import deal_labels

    with db.read(fc_db) as con:
        as_tuple = deal_labels(con, ("F12", "F9")).sort_values("deal_id").to_dict("records")
        as_string = deal_labels(con, "F12\x1fF9").sort_values("deal_id").to_dict("records")
        none = deal_labels(con, "")
    # F12 is Bo Chan's (see the fixture above), F9 the pound deal without a rate, Ann Lee's
    assert [(r["deal_id"], r["owner"]) for r in as_tuple] == [("F12", "Bo Chan"), ("F9", "Ann Lee")]
    assert as_string == as_tuple and len(none) == 0
