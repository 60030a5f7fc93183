"""accounts, account-goals and one account's detail on tests/fixtures/accounts, at the as-of
2026-07-01 (00:00), every figure worked out by hand below (docs/metrics.md "Key accounts").

The fixture (stages A, B, Closed Won, Closed Lost; USD at 0.9 EUR from 2026-01-01; no GBP rate):
  K1 Alpha Foods  tier "Key"        potential 500,000  relationship 4
     A1 won 100,000 EUR closed 2026-03-10 · A2 won 50,000 USD closed 2026-05-20 (-> 45,000)
     A3 won 30,000 closed 2025-06-30 (before the 12 months) · A4 20,000, open at the as-of in A
     (history), won 2026-07-15 · A5 open 40,000 in B, close 2026-09-30 · A6 lost 10,000 2026-04-01
     plans 2025-10-01, 2026-03-01 (the latest before the as-of), 2026-08-01 (after it)
     map: Dana (decision maker, top) <- Eli (economic buyer) <- Fay (champion, "eli park");
          Gus reports to Hal Moore, who is not on the map
     actions: one overdue (Exec briefing, due 06-15, in progress); done, rejected, due on the
              as-of's day, and completed 06-29 without a status change are not overdue
  K2 Beta Motori  tier "strategico" no potential (-> open pipeline)  relationship 2
     B1 open 70,000 EUR · B2 open 30,000 GBP (no rate) · B3 won 25,000 closed 2025-12-01
     plan 2025-12-01; map: Ivo <-> Jon (a cycle), Kim (decision maker)
  K3 Gamma Retail tier "chiave": no deals, no plan; map: Lea reports to herself, Max, Ned
  S1 Delta Labs   tier "standard" with a plan: not a key account while key tiers exist
"""

from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from kam_analytics import charts, db
from kam_analytics.reports import accounts

from ..conftest import load_fixture

AS_OF = "2026-07-01"


@pytest.fixture(scope="module")
def acc_db(tmp_path_factory):
    return load_fixture(tmp_path_factory.mktemp("acc") / "acc.duckdb", "accounts")


@pytest.fixture(scope="module")
def report(acc_db):
    with db.read(acc_db) as con:
        df = accounts.accounts(con, as_of=AS_OF)
    return {r["account_id"]: r for r in df.to_dict("records")}, df


def test_key_accounts_are_the_key_tiers(report):
    rows, df = report
    # "Key", "strategico", "chiave" match case-insensitively; "standard" does not, plan or not
    assert set(rows) == {"K1", "K2", "K3"}
    assert list(df.columns[:len(accounts.KEYS)]) == list(accounts.KEYS)
    assert "tier is key, strategic, chiave or strategico" in df.attrs["notes"][0]


def test_value_pipeline_and_potential(report):
    rows, _ = report
    k1, k2, k3 = rows["K1"], rows["K2"], rows["K3"]
    # 12 months before 2026-07-01: [2025-07-01, 2026-07-01): A1 100,000 + A2 50,000 × 0.9 = 145,000;
    # A3 closed 2025-06-30 is a day too early, A4 closes after the as-of
    assert k1["value_12m"] == pytest.approx(145_000)
    assert k1["won_deals_12m"] == 2
    # open at the as-of: A4 20,000 (its history says stage A then) + A5 40,000 = 60,000
    assert (k1["open_deals"], k1["open_pipeline"]) == (2, pytest.approx(60_000))
    assert (k1["potential"], k1["potential_source"]) == (500_000, "revenue potential")
    # K2: B3 25,000 (2025-12-01); open B1 70,000 + B2 (GBP, no rate: counted, not summed)
    assert k2["value_12m"] == pytest.approx(25_000)
    assert (k2["open_deals"], k2["open_pipeline"]) == (2, pytest.approx(70_000))
    assert (k2["potential"], k2["potential_source"]) == (pytest.approx(70_000), "open pipeline")
    assert (k3["value_12m"], k3["potential"], k3["open_deals"]) == (0, 0, 0)
    assert k1["relationship_strength"] == 4 and missing(k3["relationship_strength"])


def missing(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def test_coverage_criteria_and_score(report):
    rows, df = report
    k1, k2, k3 = rows["K1"], rows["K2"], rows["K3"]
    # K1: latest plan before the as-of 2026-03-01 -> 30 + 30 + 31 + 30 + 1 = 122 days (Mar 1 -> Jul 1) <= 180
    assert (k1["plan_age_days"], k1["plan_reviewed"]) == (122, True)
    assert (k1["has_decision_maker"], k1["has_economic_buyer"], k1["has_champion"]) == (True, True, True)
    assert (k1["overdue_actions"], k1["no_overdue_actions"]) == (1, False)
    assert k1["coverage_score"] == pytest.approx(4 / 5)          # 4 of the 5 met
    assert k1["gaps"] == ["overdue actions"]
    # K2: 2025-12-01 -> 2026-07-01 = 31 + 31 + 28 + 31 + 30 + 31 + 30 = 212 days > 180
    assert (k2["plan_age_days"], k2["plan_reviewed"]) == (212, False)
    assert (k2["has_decision_maker"], k2["has_economic_buyer"], k2["has_champion"]) == (True, False, True)
    assert k2["overdue_actions"] == 0
    assert k2["coverage_score"] == pytest.approx(3 / 5)
    # K3: no plan, nobody of the three roles, no actions (so none overdue): 1 of 5
    assert missing(k3["plan_age_days"]) and not k3["plan_reviewed"]
    assert k3["coverage_score"] == pytest.approx(1 / 5)
    assert k3["gaps"] == ["no plan reviewed within 180 days", "no decision maker on the map",
                          "no economic buyer on the map", "no champion on the map"]
    # the weakest coverage first
    assert df["account_id"].tolist() == ["K3", "K2", "K1"]


def test_plan_elements(report):
    rows, _ = report
    k1, k2, k3 = rows["K1"], rows["K2"], rows["K3"]
    # K1's 2026-03-01 plan: profile, strategies, monitoring filled; SWOT is blanks, resources empty;
    # goals and actions exist -> 5 of 7
    assert k1["plan_elements"] == 5
    assert k1["missing_elements"] == ["situation analysis (SWOT, competition)", "resource allocation"]
    # K2: the five texts, a goal (its win rate) and an action plan -> all 7
    assert (k2["plan_elements"], k2["missing_elements"]) == (7, [])
    assert k3["plan_elements"] == 0


def test_time_travel_takes_the_later_plan(acc_db):
    with db.read(acc_db) as con:
        df = accounts.accounts(con, as_of="2026-08-02")
    k1 = df.set_index("account_id").loc["K1"]
    # the 2026-08-01 plan is now the latest: 1 day old, every text element filled
    assert k1["plan_age_days"] == 1 and k1["plan_elements"] == 7
    # 12 months [2025-08-02, 2026-08-02): A1 100,000 + A2 45,000 + A4 20,000 (won 07-15) = 165,000
    assert k1["value_12m"] == pytest.approx(165_000)
    # the Exec briefing is still overdue, the Reference visit (due 07-01, not started) now too
    assert k1["overdue_actions"] == 2


def test_without_key_tiers_the_accounts_with_a_plan(acc_db, tmp_path):
    copy = tmp_path / "notier.duckdb"
    copy.write_bytes(acc_db.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("update accounts set tier = 'gold'")
    con.close()
    with db.read(copy) as con:
        df = accounts.accounts(con, as_of=AS_OF)
        every = accounts.accounts(con, as_of=AS_OF, scope="all")
    # plans dated before the as-of: K1, K2 and S1 (2026-06-01); K3 has none
    assert sorted(df["account_id"]) == ["K1", "K2", "S1"]
    assert set(df["key_reason"]) == {"account plan"}
    assert "no account has a key tier" in df.attrs["notes"][0]
    assert sorted(every["account_id"]) == ["K1", "K2", "K3", "S1"]


def test_goals_progress(acc_db):
    with db.read(acc_db) as con:
        g = accounts.account_goals(con, as_of=AS_OF)
    rows = {(r["account_id"], r["goal"]): r for r in g.to_dict("records")}
    won = rows[("K1", "Won this year")]
    # FY2026 (January start) before the as-of: A1 100,000 + A2 45,000 = 145,000; 145,000 / 200,000
    assert (won["fiscal_year"], won["actual"], won["progress"]) == ("FY2026", 145_000, pytest.approx(0.725))
    deals = rows[("K1", "Deals won")]            # "trattative vinte": won deals, 2 of 4
    assert (deals["metric_key"], deals["actual"], deals["progress"]) == ("won deals", 2, 0.5)
    rate = rows[("K1", "Win rate")]
    # closed in FY2026 before the as-of: won A1, A2, lost A6 -> 2/3; target 50 read as 50 % -> (2/3)/0.5
    assert rate["actual"] == pytest.approx(2 / 3, abs=1e-6)
    assert rate["progress"] == pytest.approx(4 / 3, abs=1e-6)
    assert "read as 50%" in rate["note"]
    pipe = rows[("K1", "Pipeline")]              # open at the as-of, closing in FY2026: A4 20,000 + A5 40,000
    assert (pipe["actual"], pipe["progress"]) == (60_000, 0.6)
    nps = rows[("K1", "NPS")]
    assert nps["measured"] == "not measurable from deals"
    assert missing(nps["actual"]) and missing(nps["progress"])
    last = rows[("K1", "Last year's bookings")]  # FY2025: A3 30,000 (2025-06-30) of 100,000
    assert (last["fiscal_year"], last["actual"], last["progress"]) == ("FY2025", 30_000, 0.3)
    k2 = rows[("K2", "Win rate")]                # nothing of K2 closed in FY2026 yet: no rate, no progress
    assert missing(k2["actual"]) and "no deal" in k2["note"]


def test_fiscal_year_follows_the_start_month():
    # a fiscal year starting in April: FY2027 runs 2026-04-01 .. 2027-03-31
    assert accounts.year_bounds(2027, 4) == (datetime(2026, 4, 1).date(), datetime(2027, 4, 1).date())
    assert accounts.metric_key("Fatturato Vinto") == "won amount"
    assert accounts.metric_key("NPS") is None and accounts.metric_key(None) is None


def _people(acc_db, account_id):
    with db.read(acc_db) as con:
        return accounts.account_map(con, account_id)


def test_map_with_a_missing_manager_and_two_roots(acc_db):
    m = _people(acc_db, "K1")
    p = m["people"].set_index("name")
    assert p.loc["Fay Moss", "manager"] == "Eli Park"               # "eli park" matched after normalisation
    assert (p.loc["Dana Cole", "level"], p.loc["Eli Park", "level"], p.loc["Fay Moss", "level"]) == (0, 1, 2)
    assert p.loc["Gus Hale", "manager_missing"] and p.loc["Gus Hale", "level"] == 0
    assert sorted(m["roots"]) == ["Dana Cole", "Gus Hale"]
    assert m["missing_managers"] == [("Gus Hale", "Hal Moore")]
    assert m["missing_roles"] == [] and not m["cycles"]
    assert any("Hal Moore, who is not on the account map" in x for x in m["problems"])
    dot = charts.org_chart(m["people"], m["missing_managers"])
    assert "Hal Moore\\n(not on the map)" in dot and dot.count("->") == 3     # Dana->Eli, Eli->Fay, ghost->Gus


def test_map_with_a_cycle_is_said_and_never_hangs(acc_db):
    m = _people(acc_db, "K2")
    p = m["people"].set_index("name")
    assert m["cycles"] == [["Ivo Rana", "Jon Sato"]]
    assert p.loc["Ivo Rana", "in_cycle"] and p.loc["Jon Sato", "in_cycle"] and not p.loc["Kim Vale", "in_cycle"]
    assert missing(p.loc["Ivo Rana", "level"]) and p.loc["Kim Vale", "level"] == 0
    assert m["roots"] == ["Kim Vale"]
    assert m["missing_roles"] == ["economic buyer"]
    assert "Reporting cycle: Ivo Rana → Jon Sato → Ivo Rana." in " ".join(m["problems"])
    dot = charts.org_chart(m["people"], m["missing_managers"])
    assert dot.count('style=dashed, constraint=false') == 2                  # both cycle edges drawn red, dashed
    k3 = _people(acc_db, "K3")                    # Lea reports to herself; Max and Ned are roots
    assert k3["cycles"] == [["Lea Ford"]]
    assert sorted(k3["roots"]) == ["Max Webb", "Ned Shaw"]
    assert k3["missing_roles"] == ["decision maker", "economic buyer", "champion"]


def test_a_long_cycle_and_chain_are_linear():
    import pandas as pd

    n = 3000                                      # a chain of 3,000 below a 3,000-person cycle
    names = [f"P{i}" for i in range(2 * n)]
    reports = [f"P{(i + 1) % n}" for i in range(n)] + [f"P{i - 1}" if i > n else "P0" for i in range(n, 2 * n)]
    m = accounts.analyse_map(pd.DataFrame({"name": names, "reports_to": reports, "title": None, "role": "user",
                                           "influence": 1, "sentiment": None, "preferred_communication": None}))
    assert len(m["cycles"]) == 1 and len(m["cycles"][0]) == n
    assert m["people"]["level"].isna().all()      # everything hangs from the cycle: no level


def test_action_plan_marks_the_overdue(acc_db):
    with db.read(acc_db) as con:
        a = accounts.actions(con, "K1", datetime(2026, 7, 1))
    assert a["action_step"].iloc[0] == "Exec briefing" and a["overdue"].iloc[0]
    assert a["days_overdue"].iloc[0] == 16                             # 2026-06-15 -> 2026-07-01
    assert int(a["overdue"].sum()) == 1


def test_account_detail_and_deals(acc_db):
    with db.read(acc_db) as con:
        d = accounts.account_detail(con, "alpha foods", as_of=AS_OF)      # by name, normalised
    assert d["account"]["account_id"] == "K1" and d["key"]
    assert d["plan"]["version"] == "2.0"
    filled = {e["element"]: e["filled"] for e in d["elements"]}
    assert filled["customer profile"] and not filled["resource allocation"]
    deals = d["deals"].set_index("deal_id")
    # A4 was open at the as-of (stage A then), though won now
    assert (deals.loc["A4", "status"], deals.loc["A4", "stage"]) == ("open", "A")
    assert deals.loc["A4", "risk_band"] in ("low", "medium", "high")
    assert deals.loc["A1", "status"] == "won" and missing(deals.loc["A1", "risk_band"])
    assert set(deals["map_status"]) == {"no mutual plan"}
    assert d["deals"]["deal_id"].iloc[0] in ("A4", "A5")                # the open deals first


def test_unknown_account_is_a_clear_message(acc_db):
    from kam_analytics.errors import InputError

    with db.read(acc_db) as con, pytest.raises(InputError, match="no account 'Zeta'"):
        accounts.resolve(con, "Zeta")


def test_account_plan_workbook_holds_the_plan_and_the_numbers(acc_db):
    with db.read(acc_db) as con:
        data = accounts.account_plan_workbook(con, "K1", "en", as_of=AS_OF)
    import io

    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Instructions", "Lists", "Account plan", "Goals", "Account map", "Numbers"]
    plan = {r[0]: r[1] for r in wb["Account plan"].iter_rows(values_only=True) if r[0]}
    assert plan["Account:"] == "Alpha Foods" and plan["Version:"] == "2.0"
    numbers = {r[0]: r[1] for r in wb["Numbers"].iter_rows(values_only=True)}
    assert numbers["Value, last 12 months:"] == 145_000 and numbers["Open pipeline:"] == 60_000
    assert numbers["Coverage score:"] == pytest.approx(0.8)
    goals = list(wb["Goals"].iter_rows(values_only=True))
    header = goals[2]
    assert header[-2:] == ("Actual", "Progress")
    won = next(r for r in goals[3:] if r[0] == "Won this year")
    assert won[-2:] == (145_000, 0.725)


def test_goals_read_as_their_metric(acc_db):
    with db.read(acc_db) as con:
        g = accounts.account_goals(con, as_of=AS_OF)
    shown = accounts.goals_for_people(g).set_index(["account_id", "goal"])
    assert tuple(shown.loc[("K1", "Win rate"), ["target", "actual"]]) == ("50.0%", "66.7%")
    assert tuple(shown.loc[("K1", "Won this year"), ["target", "actual"]]) == ("200,000", "145,000")
    assert shown.loc[("K1", "NPS"), "actual"] == "—"


def test_goal_status_from_progress_against_time_elapsed(acc_db):
    """The computed status (issue 26: "off track at 631 %" contradicted itself): progress against
    the progress expected by the as-of 2026-07-01 in FY2026 (January start)."""
    with db.read(acc_db) as con:
        g = accounts.account_goals(con, as_of=AS_OF)
    rows = {(r["account_id"], r["goal"]): r for r in g.to_dict("records")}
    won = rows[("K1", "Won this year")]
    # due 2026-12-31: 181 of 365 days elapsed (Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 30)
    assert won["expected_progress"] == pytest.approx(181 / 365, abs=1e-6)
    # progress 0.725 >= 0.9 × 0.4959 = 0.4463: on track
    assert won["progress_status"] == "on track"
    deals = rows[("K1", "Deals won")]
    # due 2026-06-30: its whole time (181 of 181 days) has elapsed; 0.5 < 0.7 × 1: off track, whatever
    # the owner typed ("at risk", kept apart in `status`)
    assert (deals["expected_progress"], deals["progress_status"], deals["status"]) == (1.0, "off track", "at risk")
    rate = rows[("K1", "Win rate")]              # a level: expected 100 %; 4/3 >= 1: on track
    assert (rate["expected_progress"], rate["progress_status"]) == (1.0, "on track")
    pipe = rows[("K1", "Pipeline")]              # a level: 0.6 < 0.7: off track, though typed "on track"
    assert (pipe["progress_status"], pipe["status"]) == ("off track", "on track")
    nps = rows[("K1", "NPS")]                    # not measurable: no computed status
    assert missing(nps["progress_status"]) and missing(nps["expected_progress"])
    last = rows[("K1", "Last year's bookings")]  # FY2025 over: expected 1; 0.3: off track
    assert (last["expected_progress"], last["progress_status"]) == (1.0, "off track")
    assert missing(rows[("K2", "Win rate")]["progress_status"])      # no deal closed yet: no progress


@pytest.mark.parametrize("progress, expected, status", [
    (6.31, 0.5, "on track"),      # 631 %: reached, on track whatever was typed
    (0.45, 0.5, "on track"),      # 0.45 >= 0.9 × 0.5 = 0.45
    (0.40, 0.5, "at risk"),       # 0.35 <= 0.40 < 0.45
    (0.35, 0.5, "at risk"),       # 0.7 × 0.5 = 0.35
    (0.34, 0.5, "off track"),
    (0.0, 0.0, "on track"),       # nothing expected yet (the year has not begun)
    (None, 0.5, None),
])
def test_goal_status_thresholds(progress, expected, status):
    assert accounts.goal_status(progress, expected) == status


def test_expected_progress_by_hand():
    as_of = datetime(2026, 4, 1)
    # won amount, FY2026 (2026-01-01 .. 2027-01-01), due 2026-06-30: 90 of 181 days
    assert accounts.expected_progress("won amount", date(2026, 1, 1), date(2027, 1, 1), pd.Timestamp("2026-06-30"),
                                      as_of) == pytest.approx(90 / 181)
    # no due date: to the year's end, 90 of 365 days; a level is always 1; a goal not measured: None
    assert accounts.expected_progress("won deals", date(2026, 1, 1), date(2027, 1, 1), None, as_of) == \
        pytest.approx(90 / 365)
    assert accounts.expected_progress("open pipeline", date(2026, 1, 1), date(2027, 1, 1), None, as_of) == 1.0
    assert accounts.expected_progress(None, date(2026, 1, 1), date(2027, 1, 1), None, as_of) is None
    # before the year begins: 0
    assert accounts.expected_progress("won amount", date(2027, 1, 1), date(2028, 1, 1), None, as_of) == 0.0
