"""win-loss, plan-effect, step-lateness and map-health on tests/fixtures/winloss, every figure
worked out by hand below (docs/metrics.md "Win rate", "Bands", "Plan steps").

The fixture (stages A, B, Closed Won, Closed Lost; USD at 0.9 EUR from 2026-01-01):
  W1 won  X 10,000 EUR  closed 2026-02-10  mutual plan signed 01-20/01-25, 4 steps
  W2 won  X 20,000 USD  closed 2026-03-15  mutual plan, seller signed only, 3 steps -> 18,000 EUR
  W3 won  Y 30,000      closed 2026-04-20  no plan
  W4 won  Y (no amount) closed 2026-05-05  closing plan only
  W5 won  X  7,000      closed 2025-12-20  no plan
  W6 won  X  9,000      closed 2026-06-20  mutual plan, one seller step
  L1 lost X  5,000      closed 2026-02-20  mutual plan, 4 steps (one rejected)          Price, Acme
  L2 lost X  8,000      closed 2026-03-30  mutual plan created 04-10, after the loss    Price, Acme
  L3 lost Y 12,000      closed 2026-04-02  mutual plan signed 03-10/03-12, 2 steps      No decision
  L4 lost Y  4,000      closed 2026-06-10  mutual plan without steps, buyer signed 06-15 Timing, Bolt
  O1, O2 open with mutual plans; O3's mutual plan is created 2026-07-15.
"""

import math
from datetime import date

import pytest

from kam_analytics import db
from kam_analytics.reports import mutual_plans, risk, win_loss

from ..conftest import load_fixture

Z = 1.96


def wilson_by_hand(won: int, n: int) -> tuple[float, float]:
    """docs/metrics.md "Win rate": the Wilson score interval, written out: (p + z²/2n ± z·√(p(1−p)/n +
    z²/4n²)) / (1 + z²/n)."""
    p = won / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + Z * Z / n)), min(1.0, (centre + spread) / (1 + Z * Z / n))


@pytest.fixture(scope="module")
def wl_db(tmp_path_factory):
    return load_fixture(tmp_path_factory.mktemp("wl") / "wl.duckdb", "winloss")


def _rows(df, key):
    return {(None if v is None or v != v else v): r for v, r in zip(df[key], df.to_dict("records"))}


def test_wilson_against_hand_figures():
    # 3 of 5: p = .6; z²/n = 3.8416/5 = .76832; centre = (.6 + .38416)/1.76832 = .556551;
    # half = 1.96·√(.048 + .038416)/1.76832 = 1.96·.293966/1.76832 = .325831
    low, high = win_loss.wilson([3], [5])
    assert low[0] == pytest.approx(0.556551 - 0.325831, abs=1e-6) and low[0] == pytest.approx(0.230720, abs=1e-6)
    assert high[0] == pytest.approx(0.882382, abs=1e-6)
    # 0 of 2: centre = (3.8416/4)/(1 + 1.9208) = .9604/2.9208 = .328814 = half -> [0, .657628]
    low, high = win_loss.wilson([0], [2])
    assert low[0] == pytest.approx(0.0, abs=1e-9) and high[0] == pytest.approx(0.657628, abs=1e-6)
    low, high = win_loss.wilson([0], [0])
    assert math.isnan(low[0]) and math.isnan(high[0])                 # no deals: null, never 0


def test_win_loss_overall(wl_db):
    with db.read(wl_db) as con:
        df = win_loss.win_loss(con)
    r = df.iloc[0]
    # won: W1..W6 = 6; lost: L1..L4 = 4
    assert (r["won"], r["lost"], r["deals"]) == (6, 4, 10)
    assert r["win_rate"] == pytest.approx(0.6)
    # won amount: 10,000 + 20,000 USD × 0.9 + 30,000 + (W4 none) + 7,000 + 9,000 = 74,000
    # lost amount: 5,000 + 8,000 + 12,000 + 4,000 = 29,000; by value 74,000 / 103,000
    assert r["won_amount"] == pytest.approx(74_000) and r["lost_amount"] == pytest.approx(29_000)
    assert r["value_win_rate"] == pytest.approx(74_000 / 103_000, abs=1e-6)
    assert (r["win_rate_low"], r["win_rate_high"]) == pytest.approx(wilson_by_hand(6, 10), abs=1e-6)
    assert any("1 deal(s) have no amount" in n for n in df.attrs["notes"])


def test_win_loss_by_segment_range_and_filter(wl_db):
    with db.read(wl_db) as con:
        by_seg = win_loss.win_loss(con, by="segment")
        q1 = win_loss.win_loss(con, date_from="2026-01-01", date_to="2026-03-31")
        y = win_loss.win_loss(con, segment="Y")
        capped = win_loss.win_loss(con, as_of="2026-04-01")
    # X: W1 W2 W5 W6 won, L1 L2 lost (6 deals, listed first); Y: W3 W4 won, L3 L4 lost
    assert by_seg["segment"].tolist() == ["X", "Y"]
    x, yy = by_seg.iloc[0], by_seg.iloc[1]
    assert (x["won"], x["lost"], x["won_amount"], x["lost_amount"]) == (4, 2, 44_000, 13_000)   # 10+18+7+9; 5+8
    assert (yy["won"], yy["lost"], yy["won_amount"], yy["lost_amount"]) == (2, 2, 30_000, 16_000)  # 30; 12+4
    assert (x["win_rate_low"], x["win_rate_high"]) == pytest.approx(wilson_by_hand(4, 6), abs=1e-6)
    # closed in [2026-01-01, 2026-04-01): W1 02-10, W2 03-15, L1 02-20, L2 03-30
    assert (q1.iloc[0]["won"], q1.iloc[0]["lost"]) == (2, 2)
    assert (y.iloc[0]["won"], y.iloc[0]["lost"]) == (2, 2)
    # an explicit as-of: only deals closed before it (W1 W2 W5, L1 L2)
    assert (capped.iloc[0]["won"], capped.iloc[0]["lost"]) == (3, 2)


def test_win_loss_by_size_band_and_loss_reason(wl_db):
    with db.read(wl_db) as con:
        size = win_loss.win_loss(con, by="size_band")
        reasons = win_loss.win_loss(con, by="loss_reason")
    # bands <10k: W5 7,000, W6 9,000, L1 5,000, L2 8,000, L4 4,000 (W2 20,000 USD is 20,000 as entered)
    # 10k-50k: W1, W2, W3, L3; no amount: W4 -> the null row, last
    rows = _rows(size, "size_band")
    assert (rows["<10k"]["won"], rows["<10k"]["lost"]) == (2, 3)
    assert (rows["10k-50k"]["won"], rows["10k-50k"]["lost"]) == (3, 1)
    assert (rows[None]["won"], rows[None]["lost"]) == (1, 0)
    assert size["size_band"].tolist()[:2] == ["<10k", "10k-50k"]
    rows = _rows(reasons, "loss_reason")
    assert rows["Price"]["lost"] == 2 and rows["Price"]["lost_amount"] == 13_000     # L1 5,000 + L2 8,000
    assert rows[None]["won"] == 6


def test_plan_effect_by_each_fact(wl_db):
    with db.read(wl_db) as con:
        has = _rows(win_loss.plan_effect(con, by="has_mutual_plan"), "has_mutual_plan")
        signed = _rows(win_loss.plan_effect(con, by="plan_signed"), "plan_signed")
        comp = win_loss.plan_effect(con, by="completion_band")
        buyer = win_loss.plan_effect(con, by="buyer_on_time_band")
    # a mutual plan by the closed date: W1 W2 W6, L1 L3 L4 (L2's came after its loss)
    assert (has[True]["won"], has[True]["lost"], has[True]["win_rate"]) == (3, 3, 0.5)
    assert (has[False]["won"], has[False]["lost"], has[False]["win_rate"]) == (3, 1, 0.75)
    assert (has[True]["win_rate_low"], has[True]["win_rate_high"]) == pytest.approx(wilson_by_hand(3, 6), abs=1e-6)
    # signed by both before closing: W1, L3 (W2 seller only; L4's buyer signed after the loss)
    assert (signed[True]["won"], signed[True]["lost"]) == (1, 1)
    assert (signed[False]["won"], signed[False]["lost"]) == (5, 3)
    # completion at close: W1 3/4 = .75 -> 50-75% (upper bound inclusive); W2 3/3, W6 1/1, L3 2/2 -> 75-100%;
    # L1 1/4 = .25 -> 0-25%; L4 (no steps), W3 W4 W5 L2 (no mutual plan) -> no plan
    assert comp["completion_band"].tolist() == ["0-25%", "50-75%", "75-100%", "no plan"]
    assert [(w, l) for w, l in zip(comp["won"], comp["lost"])] == [(0, 1), (1, 0), (2, 1), (3, 2)]
    # buyer on time at close: W1 buyer steps due by 02-10: 01-20 (done 01-24, late), 02-01 (on time) -> 1/2 = .5
    # W2: due by 03-15 only 03-05 (on time); 04-01 done early on 03-10 counts on time: 2/1 capped at 1 -> 75-100%
    # W6: no buyer step -> no buyer step due; L1: due 01-20, 02-01, 02-05, none on time -> 0; L3: 0/1 -> 0
    assert buyer["buyer_on_time_band"].tolist() == ["0-25%", "25-50%", "75-100%", "no buyer step due", "no plan"]
    assert [(w, l) for w, l in zip(buyer["won"], buyer["lost"])] == [(0, 2), (1, 0), (1, 0), (1, 0), (3, 2)]


def test_step_lateness(wl_db):
    with db.read(wl_db) as con:
        df = win_loss.step_lateness(con)
    got = {(r["step"], r["outcome"]): r for r in df.to_dict("records")}
    # "1. Recap of needs agreed" (W1) groups with "Recap of needs agreed"; the most frequent spelling names it
    recap_won = got[("Recap of needs agreed", "won")]
    # W1 done 01-09 due 01-10 (−1, on time); W2 done 03-01 due 03-01 (0, on time)
    assert (recap_won["steps"], recap_won["on_time_rate"], recap_won["median_late_days"]) == (2, 1.0, -0.5)
    recap_lost = got[("Recap of needs agreed", "lost")]
    # L1 done 01-15, due 01-10 (+5); L3 done 03-05 on the day (0); L2's plan came after its loss
    assert (recap_lost["steps"], recap_lost["on_time_rate"], recap_lost["median_late_days"]) == (2, 0.5, 2.5)
    sc_won = got[("Success criteria signed off", "won")]
    # W1 done 01-24, first due 01-20 (+4, late); W2 "Success Criteria signed-off" done 03-04, due 03-05 (−1)
    assert (sc_won["steps"], sc_won["on_time_rate"], sc_won["median_late_days"]) == (2, 0.5, 1.5)
    sc_lost = got[("Success criteria signed off", "lost")]
    # L1 not done, due 02-10 before its 02-20 loss: overdue; L3 done 03-28, no first due -> due 03-25 (+3)
    assert (sc_lost["on_time_rate"], sc_lost["median_late_days"], sc_lost["overdue_at_close_rate"]) == (0.0, 3.0, 0.5)
    sec_won = got[("Security review", "won")]
    assert (sec_won["on_time_rate"], sec_won["median_late_days"]) == (1.0, -11.0)       # 0 and −22
    sec_lost = got[("Security review", "lost")]
    # L1: done 02-22, after its 02-20 loss: not completed at close, due 02-25 not passed: not overdue
    assert (sec_lost["steps"], sec_lost["on_time_rate"], sec_lost["overdue_at_close_rate"]) == (1, 0.0, 0.0)
    assert sec_lost["median_late_days"] != sec_lost["median_late_days"]                 # none completed: null
    assert got[("Legal review", "lost")]["overdue_at_close_rate"] == 0.0                # rejected: never overdue
    assert got[("Kick-off", "won")]["overdue_at_close_rate"] == 0.0                     # due 02-20, after 02-10
    # plan order (mean step number), then name: Proposal presented and Recap (1), Success (2), Security (3)
    assert list(dict.fromkeys(df["step"])) == ["Proposal presented", "Recap of needs agreed",
                                               "Success criteria signed off", "Security review", "Kick-off",
                                               "Legal review"]


def test_drill_downs_match_the_rows(wl_db):
    with db.read(wl_db) as con:
        deals, total = win_loss.deals_behind(con, fact="has_mutual_plan", fact_value=True, outcome="lost")
        seg, n_seg = win_loss.deals_behind(con, by="segment", value="Y")
        band, n_band = win_loss.deals_behind(con, fact="buyer_on_time_band", fact_value="no buyer step due")
        steps, n_steps = win_loss.step_deals(con, "successcriteriasignedoff", outcome="lost")
    assert total == 3 and sorted(deals["deal_id"]) == ["L1", "L3", "L4"]
    assert n_seg == 4 and sorted(seg["deal_id"]) == ["L3", "L4", "W3", "W4"]
    assert n_band == 1 and band["deal_id"].tolist() == ["W6"]
    assert n_steps == 2 and steps["deal_id"].tolist() == ["L1", "L3"]                   # overdue first
    assert steps["overdue_at_close"].tolist() == [True, False]


def test_map_health(wl_db):
    with db.read(wl_db) as con:
        df = mutual_plans.map_health(con, as_of="2026-07-01")
        flags = risk.risk(con, as_of="2026-07-01").set_index("deal_id")
    # O3's plan is created 07-15: not yet a mutual plan on 07-01
    assert df["deal_id"].tolist() == ["O1", "O2"]
    o1 = df.iloc[0]
    # O1's 5 steps on 07-01: done 05-14 (step 1) and 06-03 (step 3) -> 2/5; buyer steps first due 05-20 and
    # 06-01 have passed, neither on time (06-03 > 06-01) -> 0; step 2 (buyer, due 06-10) and step 4 (seller,
    # due 06-25) are overdue; step 5 is due 07-15. Seller signed only. Closing plan 05-03, mutual 05-10: 7 days.
    assert (o1["steps"], o1["completion"], o1["buyer_engagement"]) == (5, 0.4, 0.0)
    assert (o1["overdue_buyer_steps"], o1["overdue_seller_steps"], o1["signed"]) == (1, 1, False)
    assert o1["days_to_mutual"] == 7 and o1["unsigned_at_stage"]                         # stage B, the setting
    # its risk: overdue buyer steps, overdue seller steps, unsigned. No flagged deal of this fixture closed
    # from a quarter start with a stage win rate before 07-01, so every learnt weight is 0
    # (docs/metrics.md "Risk score and bands"): score 0, low, as the risk report says
    assert flags.loc["O1", "flags"] == ["overdue_buyer_steps", "overdue_seller_steps", "unsigned_plan"]
    assert (o1["risk_score"], o1["risk_band"]) == (0.0, "low") == (flags.loc["O1", "score"], flags.loc["O1", "band"])
    o2 = df.iloc[1]
    # one joint step done; no buyer step due: engagement null, not 100 %; signed by both
    assert (o2["completion"], o2["signed"]) == (1.0, True) and o2["buyer_engagement"] != o2["buyer_engagement"]
    # ACC2 has no map at all: one flag, no account map (not no champion, no economic buyer, single-threaded)
    assert flags.loc["O2", "flags"] == ["no_account_map"]
    assert o2["risk_band"] == "low" == flags.loc["O2", "band"]
    assert o1["health"] == ["overdue buyer-side steps", "overdue seller-side steps", "unsigned at or after B"]


def test_plan_detail(wl_db):
    with db.read(wl_db) as con:
        d = mutual_plans.plan_detail(con, "O1", as_of="2026-07-01")
    steps = d["steps"]
    assert steps["overdue"].fillna("").tolist() == ["", "overdue, buyer-side", "", "overdue, seller-side", ""]
    assert steps["due_date_moved_days"].tolist() == [0, 21, 0, 5, 0]                     # 05-20 -> 06-10 etc.
    assert d["plan"]["problem"] == "Slow quotes" and d["facts"]["days_to_mutual"] == 7


def test_handoff_workbook_reads_back(wl_db, tmp_path):
    import openpyxl

    with db.read(wl_db) as con:
        frames = mutual_plans.handoff(con, "W1")
    path = tmp_path / "w1.xlsx"
    path.write_bytes(mutual_plans.handoff_workbook(frames))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(mutual_plans.HANDOFF_SHEETS)
    head = {r[0]: r[1] for r in wb["Hand-off"].iter_rows(min_row=2, values_only=True)}
    # text as the files held it, never a formula
    assert head["Problem"] == "=SUM(A1) is how they forecast today"
    assert wb["Hand-off"].cell(row=[c.value for c in wb["Hand-off"]["A"]].index("Problem") + 1, column=2).data_type == "s"
    assert head["Proposed solution"] == "+39 roll-out in two phases"
    assert head["Amount"] == 10_000 and head["Close date"].date() == date(2026, 2, 10)
    assert head["Buyer signed"].date() == date(2026, 1, 25)
    people = list(wb["Stakeholders"].iter_rows(min_row=2, values_only=True))
    # ACC1's map by influence: Enzo Bianchi 5, Carla Rossi 4, Bruno Neri 3, with role, sentiment and channel
    assert [(p[0], p[2], p[3], p[4]) for p in people] == [
        ("Enzo Bianchi", "economic buyer", "neutral", "phone"), ("Carla Rossi", "champion", "supporter", "email"),
        ("Bruno Neri", "blocker", "detractor", "in person")]
    steps = list(wb["Plan steps"].iter_rows(min_row=2, values_only=True))
    assert [s[1] for s in steps] == ["1. Recap of needs agreed", "Success criteria signed off", "Security review",
                                     "Kick-off"]
    open_steps = list(wb["Open commitments"].iter_rows(min_row=2, values_only=True))
    assert [s[1] for s in open_steps] == ["Kick-off"]                                   # not done yet


@pytest.mark.parametrize("deal, message", [("O1", "is open"), ("L1", "is lost"), ("NOPE", "no deal 'NOPE'")])
def test_handoff_refuses_what_is_not_won(wl_db, deal, message):
    from kam_analytics.errors import InputError

    with db.read(wl_db) as con, pytest.raises(InputError, match=message):
        mutual_plans.handoff(con, deal)


def test_step_key_groups_names(wl_db):
    with db.read(wl_db) as con:
        keys = [con.execute("select step_key(?)", [x]).fetchone()[0] for x in
                ("1. Recap of needs agreed", "Step 2 - RECAP of needs agreed!", "Récap of needs-agreed", "Kick-off",
                 "Kickoff")]
    assert keys[:3] == ["recapofneedsagreed"] * 3 and keys[3] == keys[4] == "kickoff"
