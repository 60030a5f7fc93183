"""Every page smoke-tested with AppTest against the demo data and an empty database, plus
a few widget-driven cases. Browser tests (tests/browser) cover the real rendering."""

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kam_analytics import db, formatting, settings_store
from kam_analytics.safe_text import md
from kam_analytics.reports.stage_durations import stage_durations

APP = str(Path(__file__).parent.parent.parent / "app.py")
PAGES = ["views/overview.py", "views/stage_durations.py", "views/stage_velocity.py", "views/closing_plan.py",
         "views/forecast.py", "views/risk.py", "views/mutual_plans.py", "views/win_loss.py", "views/key_accounts.py",
         "views/account.py", "views/import_files.py",
         "views/data.py", "views/settings.py"]


def _open(monkeypatch, db_file, page=None, query=None):
    monkeypatch.setenv("KAM_DB", str(db_file))
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_demo_data(monkeypatch, demo_db_factory, page):
    at = _open(monkeypatch, demo_db_factory(2000, 7), page)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_an_empty_database(monkeypatch, tmp_path, page):
    at = _open(monkeypatch, tmp_path / "empty.duckdb", page)
    assert not at.exception and not at.error
    assert at.info, "an empty database gets a friendly message"


def test_stage_metrics_are_the_report_numbers(monkeypatch, demo_db_factory):
    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        df = stage_durations(con)
    at = _open(monkeypatch, path, "views/stage_durations.py")
    shown = {m.label: m.value for m in at.metric}
    for row in df.to_dict("records"):
        assert shown[row["stage"]] == f"{formatting.days(row['median_days'])} d"


def test_outcome_filter_changes_the_numbers_and_the_url(monkeypatch, demo_db_factory):
    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        won = stage_durations(con, outcome="won")
    at = _open(monkeypatch, path, "views/stage_durations.py")
    at.segmented_control(key="outcome").set_value("won").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    first = won.iloc[0]
    assert shown[first["stage"]] == f"{formatting.days(first['median_days'])} d"
    assert at.query_params.get("outcome") in ("won", ["won"])


def test_empty_overview_loads_the_demo_from_the_button(monkeypatch, tmp_path):
    path = tmp_path / "fresh.duckdb"
    at = _open(monkeypatch, path, "views/overview.py")
    at.button(key="load-demo").click().run(timeout=120)
    assert not at.exception
    with db.read(path) as con:
        assert con.execute("select count(*) from deals").fetchone()[0] == 5000


def test_bad_values_in_the_url_fall_back_to_defaults(monkeypatch, demo_db_factory):
    at = _open(monkeypatch, demo_db_factory(2000, 7), "views/stage_durations.py",
               query={"by": "no_such_column", "outcome": "maybe", "from": "2026-02-31", "to": "yesterday"})
    assert not at.exception and not at.error
    assert at.selectbox[0].value == "(none)"


def test_created_range_in_the_url_filters_the_report(monkeypatch, demo_db_factory):
    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        expected = stage_durations(con, created_from="2025-06-01", created_to="2025-12-31")
    at = _open(monkeypatch, path, "views/stage_durations.py", query={"from": "2025-06-01", "to": "2025-12-31"})
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    first = expected.iloc[0]
    assert shown[first["stage"]] == f"{formatting.days(first['median_days'])} d"


def test_data_page_filters_from_the_url(monkeypatch, demo_db_factory):
    """The Overview's 'See the won' link opens the Data page filtered to won deals."""
    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        won = con.execute("select count(*) from deals where status = 'won'").fetchone()[0]
    at = _open(monkeypatch, path, "views/data.py", query={"table": "deals", "col": "status", "val": "won"})
    assert not at.exception and not at.error
    assert any(f"{formatting.number(won)} row(s) match" in c.value for c in at.caption)


def test_velocity_page_shows_the_conversion_report(monkeypatch, demo_db_factory):
    from kam_analytics.reports.velocity import conversion

    db_file = demo_db_factory(2000, 7)
    at = _open(monkeypatch, db_file, "views/stage_velocity.py")
    assert not at.exception and not at.error
    with db.read(db_file) as con:
        expected = conversion(con)
    grid = at.dataframe[0].value
    assert list(grid["stage"]) == list(expected["stage"])
    assert list(grid["reached"]) == list(expected["reached"])
    assert list(grid["win_rate_from_stage"]) == [formatting.percent(v) for v in expected["win_rate_from_stage"]]


def test_velocity_page_compares_two_segments_from_the_url(monkeypatch, demo_db_factory):
    # a URL seeds the pickers bound to it when the page opens (Streamlit's query-param binding)
    at = _open(monkeypatch, demo_db_factory(2000, 7), "views/stage_velocity.py",
               query={"by": "segment", "v": ["SMB", "Enterprise"]})
    assert not at.exception and not at.error
    grid = at.dataframe[0].value
    assert set(grid["segment"]) == {"SMB", "Enterprise"}
    assert at.multiselect[0].value == ["SMB", "Enterprise"]


def test_closing_plan_page_shows_the_plan_of_the_deal_in_the_url(monkeypatch, demo_db_factory):
    from kam_analytics import closing_plan

    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        deal_id = closing_plan.search_deals(con, "", limit=5)["deal_id"].iloc[3]
        plan = closing_plan.generate(con, deal_id, stat="mean")
    at = _open(monkeypatch, path, "views/closing_plan.py", query={"deal": deal_id, "stat": "mean"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox[0].value == deal_id
    shown = {m.label: m.value for m in at.metric}
    assert shown["Realistic close date"] == formatting.when(plan.attrs["realistic_close_date"])
    assert shown["Likely latest"] == formatting.when(plan.attrs["likely_close_to"])
    # a search that finds nothing says so
    at.text_input(key="deal-q").set_value("no such deal anywhere").run()
    assert not at.exception
    assert any("No open deal matches" in i.value for i in at.info)


def test_settings_page_saves_and_every_report_follows(monkeypatch, demo_db_factory, tmp_path):
    import shutil

    from kam_analytics import settings

    path = tmp_path / "settings.duckdb"
    shutil.copy(demo_db_factory(2000, 7), path)
    at = _open(monkeypatch, path, "views/settings.py")
    assert not at.exception and not at.error
    at.number_input[0].set_value(9)                      # "Too few to say below (deals)"
    at.button[1].click().run()                           # the General tab's Save
    assert not at.exception and not at.error, [e.value for e in at.error]
    with db.read(path) as con:
        assert settings.load(con)["min_sample"] == 9
    assert "Saved the general settings" in at.success[0].value



def test_forecast_page_time_travels_from_the_url(monkeypatch, demo_db_factory):
    from kam_analytics.reports.forecast_quality import forecast_accuracy
    from kam_analytics.reports.forecasting import waterfall

    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        acc = forecast_accuracy(con, "FY2026-Q3", as_of="2026-08-15").iloc[0]
        wf = waterfall(con, date_from="2026-07-01", date_to="2026-08-14", period="FY2026-Q3")
    at = _open(monkeypatch, path, "views/forecast.py", query={"period": "FY2026-Q3", "as_of": "2026-08-15"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Commit forecast"] == formatting.number(acc["commit_forecast"])
    assert shown["Weighted forecast"] == formatting.number(acc["weighted_forecast"])
    end = formatting.number(wf.set_index("category").loc["end", "amount"])
    assert any(f"= end **{end}**" in m.value for m in at.markdown), "the identity is printed under the chart"
    # a later as-of changes the numbers and the URL
    at.date_input(key="fc-as-of").set_value(date(2026, 9, 15)).run()
    assert not at.exception
    assert at.query_params["as_of"] in ("2026-09-15", ["2026-09-15"])


def test_forecast_page_won_so_far_stops_at_the_period_end(monkeypatch, tmp_path):
    """The forecast fixture (tests/unit/test_forecast_quality.py), FY2026-Q1 as of 2026-04-15, after the
    quarter: won so far = won IN Q1 = F6 4,000 + F4 3,000 + F2 20,000 = 27,000 (F5 7,000, won on 04-10, is
    Q2's); nothing is open at 04-15 with a commit category and a close date in Q1, so commit = 27,000; best
    case adds F7 800 (1,000 USD at 0.8). The quota table on the same page adds up to the same 27,000."""
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "forecast.duckdb", "forecast")
    at = _open(monkeypatch, path, "views/forecast.py", query={"period": "FY2026-Q1", "as_of": "2026-04-15"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Won so far"] == formatting.number(27_000)
    assert shown["Commit forecast"] == formatting.number(27_000)
    assert shown["Best-case forecast"] == formatting.number(27_800)
    quota_table = next(d.value for d in at.dataframe if "attainment" in d.value.columns)
    assert quota_table["won_amount"].sum() == 27_000


def _risk_fixture_with_weights(tmp_path):
    """The risk fixture (tests/unit/test_risk.py works it out) with weights set in Settings: no deal
    of it was open at an earlier quarter start, so nothing is learnt and the learnt weights are 0."""

    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "risk.duckdb", "risk")
    settings_store.save(path, {"risk": {"no_plan_stage": "B", "unsigned_plan_stage": "C", "weights": {
        "past_close_date": 0.4, "behind_schedule": 0.4, "stalled": 0.25, "stale": 0.1}}})
    return path


def test_risk_page_lists_filters_and_drills_down(monkeypatch, tmp_path):
    """As of 2026-06-01 R3 is the only high-risk deal (past close 0.4 + behind schedule 0.4 = 0.8 >
    ln 2) and the most likely to be lost by amount (expected loss 3,671); the flag filter from the
    URL keeps the stalled deals, by expected loss: R22 (2,953), R23 (2,212), R1 (1,475)."""
    path = _risk_fixture_with_weights(tmp_path)
    at = _open(monkeypatch, path, "views/risk.py", query={"as_of": "2026-06-01"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["High risk"] == "1"                   # R3
    assert at.selectbox(key="risk-deal").value == "R3"
    lead = at.dataframe[0].value
    assert lead["Deal"].tolist()[:3] == ["R3", "R22", "R23"]
    assert lead["Expected loss"].iloc[0] == "3,671 EUR" and lead["Predicted win probability"].iloc[0] == "30.0%"
    assert any(m.value.startswith("- " + md("Past close date: the close date 2026-05-31 was 1 day before the as-of"))
               for m in at.markdown)                        # file text on a page is escaped (issue 27)
    at = _open(monkeypatch, path, "views/risk.py", query={"as_of": "2026-06-01", "flag": "stalled"})
    assert not at.exception
    assert any(c.value.startswith("Open deals as of") and "3 of 25 shown" in c.value for c in at.caption)
    assert at.selectbox(key="risk-deal").options == ["R22 · Quiet for 30 days", "R23 · Quiet for 29 days",
                                                     "R1 · Stalled 20 days in A"]
    # nothing was open at an earlier quarter start and closed since: nothing to judge the score by
    assert any("nothing to judge the score by" in w.value for w in at.warning)


def test_risk_page_says_when_nothing_is_at_risk(monkeypatch, tmp_path):
    path = _risk_fixture_with_weights(tmp_path)
    at = _open(monkeypatch, path, "views/risk.py", query={"as_of": "2026-05-14"})   # only R1, 2 days in A
    assert not at.exception
    assert any("nothing is at risk" in s.value for s in at.success)


def test_risk_page_in_words_with_the_calibration_chart(monkeypatch, demo_db_factory):
    """On the demo: no table header is a report's snake_case name, no cell says None, True or
    False, the calibration chart is drawn and the page says whether the score beats the stage
    win rate alone (the back-test's own verdict)."""
    from kam_analytics.reports.risk import risk_backtest

    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        cal = risk_backtest(con, calibration=True)
    at = _open(monkeypatch, path, "views/risk.py")
    assert not at.exception and not at.error, [e.value for e in at.error]
    for frame in at.dataframe:
        grid = frame.value
        assert not [c for c in grid.columns if "_" in str(c)], list(grid.columns)
        cells = {str(v) for col in grid.columns for v in grid[col].tolist()}
        assert not cells & {"None", "True", "False", "nan", "NaT"}, list(grid.columns)
    beats = cal.attrs["brier_score"] < cal.attrs["brier_score_stage_alone"]
    said = [m.value for m in (at.success if beats else at.warning)]
    assert any(("beats" if beats else "does not beat") + " the stage win rate alone" in v for v in said)
    assert any(c.proto.spec and "perfectly calibrated" in c.proto.spec for c in at.get("plotly_chart"))


def test_settings_page_shows_the_backtest_beside_the_thresholds(monkeypatch, tmp_path):
    """tests/unit/test_risk.py test_backtest_on_hand_worked_outcomes: past close date flagged 2 of 3
    won, unflagged 1 of 3, lift 0.5; stage-adjusted (0.5 + 1) / (1 + 1) = 0.75 -> weight 0."""
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "bt.duckdb", "risk_backtest")
    at = _open(monkeypatch, path, "views/settings.py")
    at.toggle(key="risk-backtest-on").set_value(True).run()
    assert not at.exception and not at.error
    grid = at.dataframe[-1].value
    past = grid.set_index("Flag").loc["Past close date"]
    assert past["Lift (unflagged ÷ flagged)"] == "0.50" and past["Won when flagged"] == "66.7%"
    assert past["Stage-adjusted lift"] == "0.75" and past["Default weight"] == "0.000"
    assert past["Threshold"] == "close_date < as_of" and past["Current values"] == "no"


def test_settings_page_resets_old_scale_weights_once(monkeypatch, tmp_path):
    """Weights and bands saved on the old 1/2 scale: the page resets them to the calibrated
    defaults as one batch, says so, and says it only once."""
    from kam_analytics import batches, settings

    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "bt.duckdb", "risk_backtest")
    with batches.batch(path, "settings", "an older release") as b:
        settings.write_in_batch(b, "risk", {"stale_days": 45, "weights": {"stalled": 2}, "bands": {"medium": 2,
                                                                                                  "high": 4}})
    at = _open(monkeypatch, path, "views/settings.py")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("saved on the old 1/2 scale" in i.value for i in at.info)
    with db.read(path) as con:
        assert settings.old_risk_scale(con) is None
        assert settings.load(con)["risk"]["stale_days"] == 45
    at.run()
    assert not any("old 1/2 scale" in i.value for i in at.info)


def test_win_loss_page_shows_the_report_numbers_and_keeps_filters_in_the_url(monkeypatch, tmp_path):
    """tests/fixtures/winloss (worked out in tests/unit/test_win_loss.py): 6 won of 10 closed;
    closed in 2026 Q1 W1, W2, L1, L2: 2 of 4; segment Y: W3 W4 won, L3 L4 lost."""
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "wl.duckdb", "winloss")
    at = _open(monkeypatch, path, "views/win_loss.py")
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Win rate (count)"] == "60.0%" and shown["Won"] == "6" and shown["Lost"] == "4"
    at = _open(monkeypatch, path, "views/win_loss.py", query={"from": "2026-01-01", "to": "2026-03-31"})
    assert {m.label: m.value for m in at.metric}["Win rate (count)"] == "50.0%"
    at.selectbox(key="wl-segment").set_value("Y").run()
    assert not at.exception
    assert at.query_params["segment"] in ("Y", ["Y"])
    # nothing of Y closed in Q1: the page says so instead of showing empty charts
    assert any("No deal closed" in i.value for i in at.info)


def test_mutual_plans_page_lists_health_and_offers_the_handoff(monkeypatch, tmp_path):
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "wl.duckdb", "winloss")
    at = _open(monkeypatch, path, "views/mutual_plans.py", query={"as_of": "2026-07-01"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    # O1 and O2 (O3's plan comes later); O2 signed by both: 50 %; O1 has an overdue buyer-side step
    assert shown["Open mutual plans"] == "2" and shown["Signed by both sides"] == "50.0%"
    assert shown["With overdue buyer-side steps"] == "1"
    assert shown["Completion"] == "40.0%" and shown["Closing plan → mutual"] == "7 days"        # O1 picked
    at = _open(monkeypatch, path, "views/mutual_plans.py", query={"as_of": "2026-07-01", "deal": "W1"})
    assert not at.exception
    assert any("Problem" in m.value and md("=SUM(A1)") in m.value for m in at.markdown)
    assert not any("offered once the deal is won" in c.value for c in at.caption)           # W1 is won


def test_key_accounts_page_numbers_and_filters(monkeypatch, tmp_path):
    """tests/fixtures/accounts at 2026-07-01 (tests/unit/test_accounts.py): three key accounts,
    value 145,000 + 25,000 = 170,000, open pipeline 60,000 + 70,000 over 4 deals; the owner
    filter Bo Chen keeps K2 and K3 (25,000)."""
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "acc.duckdb", "accounts")
    at = _open(monkeypatch, path, "views/key_accounts.py", {"as_of": "2026-07-01"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Accounts"] == "3" and shown["Value 12 m (EUR)"] == "170k" and shown["Open pipeline (EUR)"] == "130k"
    assert shown["Median coverage"] == "60.0%"                    # 0.2, 0.6, 0.8
    at.multiselect(key="acc-owner").set_value(["Bo Chen"]).run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Accounts"] == "2" and shown["Value 12 m (EUR)"] == "25k"
    assert at.query_params["owner"] in ("Bo Chen", ["Bo Chen"])          # AppTest keeps str or list
    at.segmented_control(key="acc-scope").set_value("all").run()
    assert {m.label: m.value for m in at.metric}["Accounts"] == "2"     # S1 is Ann Lee's: still filtered out


def test_account_page_numbers(monkeypatch, tmp_path):
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "acc.duckdb", "accounts")
    at = _open(monkeypatch, path, "views/account.py", {"as_of": "2026-07-01", "account": "K2"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Value 12 m (EUR)"] == "25,000" and shown["Potential (EUR)"] == "70,000"
    assert shown["Relationship"] == "2 · weak" and shown["Coverage"] == "60%"
    assert any(md("Reporting cycle: Ivo Rana → Jon Sato → Ivo Rana") in w.value for w in at.warning)


def _signed_in(monkeypatch, db_file, role, page):
    """The app with sign-in configured ($KAM_USERS) and a user of `role` signed in."""
    import bcrypt

    hashed = bcrypt.hashpw(b"not used here", bcrypt.gensalt(4)).decode()
    monkeypatch.setenv("KAM_USERS", f"ann:analyst:{hashed};bo:viewer:{hashed}")
    monkeypatch.setenv("KAM_DB", str(db_file))
    at = AppTest.from_file(APP, default_timeout=60)
    if role:
        at.session_state["kam_user"], at.session_state["kam_role"] = {"analyst": "ann", "viewer": "bo"}[role], role
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_nobody_signed_in_sees_only_the_sign_in_page(monkeypatch, demo_db_factory):
    at = _signed_in(monkeypatch, demo_db_factory(2000, 7), None, None)
    assert not at.exception and [t.value for t in at.text_input] == ["", ""]
    assert any(b.label == "Sign in" for b in at.button)
    assert not at.metric                                           # no data shown before signing in


@pytest.mark.parametrize("page", ["views/import_files.py", "views/settings.py", "views/data.py"])
def test_a_viewer_reads_but_cannot_change_data(monkeypatch, demo_db_factory, page):
    at = _signed_in(monkeypatch, demo_db_factory(2000, 7), "viewer", page)
    assert not at.exception and not at.error
    said = " ".join(i.value for i in at.info) + " ".join(c.value for c in at.caption)
    assert "for analysts" in said
    writes = [b for b in at.button if b.label in ("Save", "Confirm this stage list", "Save the stage list")]
    assert all(b.disabled for b in writes) and (writes or page != "views/settings.py")
    assert not [b for b in at.button if b.label in ("Restore", "Undo", "Load")]
    if page == "views/import_files.py":
        assert not [u for u in at.get("file_uploader")] and not at.selectbox


def test_an_analyst_may_import_and_the_overview_says_when_it_is_open(monkeypatch, demo_db_factory):
    at = _signed_in(monkeypatch, demo_db_factory(2000, 7), "analyst", "views/import_files.py")
    assert not at.exception and at.get("file_uploader") and not [i for i in at.info if not i.value.startswith("Demo data:")]
    monkeypatch.delenv("KAM_USERS")
    at = _open(monkeypatch, demo_db_factory(2000, 7))
    assert any("no sign-in is configured" in c.value for c in at.caption)


def test_data_page_removes_a_person_and_backs_up(monkeypatch, tmp_path):
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / "acc.duckdb", "accounts")
    at = _open(monkeypatch, path, "views/data.py")
    at.text_input(key="forget-name").input("eli park").run()
    assert not at.exception and not at.error
    shown = at.dataframe[-1].value
    # tests/fixtures/accounts: his stakeholder row, Fay Moss's reports_to, the QBR action
    assert sorted(zip(shown["Table"], shown["Column"], shown["Rows"])) == [
        ("account_actions", "external_stakeholders", 1), ("stakeholders", "name", 1), ("stakeholders", "reports_to", 1)]
    assert at.button(key="forget").disabled
    at.checkbox(key="forget-sure").check().run()
    at.button(key="forget").click().run()
    assert any("removed person 2" in s.value for s in at.success), [s.value for s in at.success]
    assert any("The database file was rebuilt in" in s.value for s in at.success)      # issue 27: the bytes too
    with db.read(path) as con:
        assert con.execute("select count(*) from stakeholders where name = 'Eli Park'").fetchone()[0] == 0
    at.button(key="backup").click().run()
    assert not at.exception and not at.error
    assert at.get("download_button")                                       # the zip is offered
