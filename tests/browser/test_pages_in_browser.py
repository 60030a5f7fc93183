"""The app in a real browser: a number the report function computed for the fixture is on
the page, the empty state is friendly, and nothing shows a traceback."""

import pytest

from kam_analytics import db, formatting
from kam_analytics.reports.stage_durations import stage_durations

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _open_fixture(tmp_path, serve, page, fixture: str, url: str, wait_text: str):
    """Serve tests/fixtures/<fixture> and open `url` once `wait_text` shows; the app and the
    database path."""
    from ..conftest import load_fixture

    path = load_fixture(tmp_path / f"{fixture}.duckdb", fixture)
    app = serve(path)
    page.goto(f"{app.url}/{url}")
    page.wait_for_selector(f"text={wait_text}", timeout=60_000)
    _wait_ready(page)
    return app, path


def _wait_ready(page):
    page.wait_for_selector("[data-testid=stApp]")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000)
    assert page.locator("text=Page not found").count() == 0
    # a Python traceback (the Definitions page itself says "no page shows a Python traceback")
    assert page.locator("text=Traceback (most recent call last)").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def test_stage_durations_page_shows_the_report_numbers(tiny_db, serve, page):
    with db.read(tiny_db) as con:
        df = stage_durations(con)
    lead = df[df["stage"] == "Lead"].iloc[0]
    assert lead["deals"] >= 5                                   # enough to show the number
    expected = f"{formatting.days(lead['median_days'])} d"      # "2.5 d"
    app = serve(tiny_db)
    page.goto(f"{app.url}/stage_durations?outcome=all")
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=30_000)
    _wait_ready(page)
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert expected in values, values
    # a Python traceback (the Definitions page itself says "no page shows a Python traceback")
    assert page.locator("text=Traceback (most recent call last)").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "stage_durations_tiny")


def test_filters_live_in_the_url(tiny_db, serve, page):
    app = serve(tiny_db)
    page.goto(f"{app.url}/stage_durations?by=segment&revisits=first")
    page.wait_for_selector("text=Median days in each stage", timeout=30_000)
    _wait_ready(page)
    assert "by=segment" in page.url and "revisits=first" in page.url
    assert page.locator("text=revisit rule").first.is_visible()
    screenshot(page, "stage_durations_by_segment")


def test_empty_database_offers_the_demo(tmp_path, serve, page):
    app = serve(tmp_path / "empty.duckdb")
    page.goto(f"{app.url}/")
    page.wait_for_selector("text=The database is empty", timeout=30_000)
    _wait_ready(page)
    screenshot(page, "overview_empty")
    page.goto(f"{app.url}/stage_durations")
    page.wait_for_selector("text=No deals are loaded yet", timeout=30_000)
    screenshot(page, "stage_durations_empty")


def test_demo_data_pages(demo_db_factory, serve, page):
    app = serve(demo_db_factory(2000, 7))
    page.goto(f"{app.url}/")
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=30_000)
    _wait_ready(page)
    assert page.locator("[data-testid=stMetricValue]").first.inner_text() == "2,000"
    screenshot(page, "overview_demo")
    page.goto(f"{app.url}/stage_durations")
    page.wait_for_selector("text=Median days in each stage", timeout=30_000)
    _wait_ready(page)
    screenshot(page, "stage_durations_demo")


ALL_PAGES = ("", "stage_durations", "stage_velocity", "closing_plan", "forecast", "risk", "mutual_plans", "win_loss",
             "key_accounts", "account", "import", "data", "settings", "definitions")
# pages the other browser tests open with data already (each with its own checks): the demo
# walk below opens the rest, the empty database every page
OPENED_WITH_DATA_ELSEWHERE = {"stage_durations", "stage_velocity", "closing_plan", "forecast", "risk", "mutual_plans",
                              "win_loss", "account", "import"}


def test_every_page_with_demo_data_and_empty(demo_db_factory, tmp_path, serve, page):
    """A screenshot of every page with an empty database, and with the demo data of the pages no
    other test opens with data."""
    walks = (("demo", demo_db_factory(2000, 7), [p for p in ALL_PAGES if p not in OPENED_WITH_DATA_ELSEWHERE]),
             ("empty", tmp_path / "blank.duckdb", ALL_PAGES))
    for label, db_file, paths in walks:
        app = serve(db_file)
        for path in paths:
            page.goto(f"{app.url}/{path}")
            page.wait_for_selector("h1", timeout=30_000)
            _wait_ready(page)
            screenshot(page, f"page_{path or 'overview'}_{label}")


def test_velocity_page_compares_two_segments(demo_db_factory, serve, page):
    from kam_analytics.reports.velocity import conversion

    db_file = demo_db_factory(2000, 7)
    with db.read(db_file) as con:
        df = conversion(con, by="segment")
    smb_first = df[(df["segment"] == "SMB")].iloc[0]
    app = serve(db_file)
    page.goto(f"{app.url}/stage_velocity?by=segment&v=SMB&v=Enterprise")
    page.wait_for_selector("text=segment: SMB", timeout=30_000)
    page.wait_for_selector("text=segment: Enterprise", timeout=30_000)
    _wait_ready(page)
    # the SMB funnel labels its first stage with the report's reached count
    page.wait_for_selector(f"text={int(smb_first['reached']):,} (100%)", timeout=15_000)
    screenshot(page, "stage_velocity_two_segments")


def test_closing_plan_page_shows_the_plan_functions_dates(demo_db_factory, serve, page):
    """Pick a deal by typing part of its ID, see the dates plan() returned, convert it."""
    from kam_analytics import closing_plan, formatting

    db_file = demo_db_factory(2000, 7)
    with db.read(db_file) as con:
        candidates = closing_plan.search_deals(con, "", limit=200)
        for deal_id in candidates["deal_id"]:      # an open deal whose plan can become a mutual plan
            plan = closing_plan.generate(con, deal_id)
            if closing_plan.can_convert(plan) is None:
                break
    a = plan.attrs
    app = serve(db_file)
    page.goto(f"{app.url}/closing_plan")
    page.wait_for_selector("text=Find an open deal", timeout=30_000)
    box = page.get_by_role("textbox", name="Find an open deal")
    box.fill(deal_id.lower())                   # case ignored
    box.press("Enter")
    page.wait_for_selector(f"h3:has-text('{deal_id}')", timeout=30_000)
    _wait_ready(page)
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert values[:4] == [formatting.when(a[k]) for k in ("realistic_close_date", "likely_close_from",
                                                          "likely_close_to", "owner_close_date")]
    assert f"deal={deal_id}" in page.url
    screenshot(page, "closing_plan_demo")
    # convert: the agreement box, then the button; the plan is then stored as the mutual plan
    page.get_by_text("has agreed these dates").click()
    page.get_by_role("button", name="Convert to mutual plan").click()
    page.wait_for_selector("text=Stored as the mutual plan", timeout=30_000)
    served = app.db_file
    with db.read(served) as con:
        stored = con.execute("select count(*) from plan_steps where deal_id = ? and plan_type = 'mutual'",
                             [deal_id]).fetchone()[0]
    assert stored == len(plan)


def test_forecast_page_waterfall_reconciles(demo_db_factory, serve, page):
    from kam_analytics.reports.forecasting import waterfall

    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        wf = waterfall(con, date_from="2026-07-01", date_to="2026-09-30", period="FY2026-Q3").set_index("category")
    app = serve(path)
    page.goto(f"{app.url}/forecast?period=FY2026-Q3&as_of=2026-10-01")
    page.wait_for_selector("text=Quota attainment", timeout=60_000)
    _wait_ready(page)
    page.wait_for_selector(".js-plotly-plot .waterfalllayer .point", timeout=30_000)   # the waterfall's bars drew
    identity = page.locator("text=/= end/").first.inner_text()
    assert f"Start {formatting.number(wf.loc['start', 'amount'])}" in identity
    assert f"end {formatting.number(wf.loc['end', 'amount'])}" in identity
    screenshot(page, "forecast_demo_FY2026-Q3")


def test_risk_page_shows_the_riskiest_deal_and_its_reasons(demo_db_factory, serve, page):
    from kam_analytics.reports.risk import risk

    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        top = risk(con).iloc[0]
    app = serve(path)
    page.goto(f"{app.url}/risk")
    page.wait_for_selector("text=How the score, the bands and each flag are defined", timeout=60_000)
    _wait_ready(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)   # the calibration chart drew
    assert page.locator(f"text={top['reasons'][0]}").count() >= 1          # the drill-down's first sentence
    assert page.locator("text=/the stage win rate alone/").count() >= 1    # the score judged against the stage
    screenshot(page, "risk_demo")


def test_mutual_plans_page_shows_a_plan_and_its_overdue_steps(tmp_path, serve, page):
    """tests/fixtures/winloss as of 2026-07-01 (worked out in tests/unit/test_win_loss.py): O1's
    plan is 40 % complete, its buyer-side step "Success criteria signed off" is overdue apart from
    the seller-side "Proposal presented"; a won deal offers the hand-off download."""
    app, _ = _open_fixture(tmp_path, serve, page, "winloss", "mutual_plans?as_of=2026-07-01&deal=O1",
                           "Overdue on the buyer's side")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)     # the step timeline drew
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert "40.0%" in values and "7 days" in values, values
    buyer = page.locator("[data-testid=stColumn]", has_text="Overdue on the buyer's side").last.inner_text()
    assert "Success criteria signed off" in buyer and "Proposal presented" not in buyer
    screenshot(page, "mutual_plans_O1")
    page.goto(f"{app.url}/mutual_plans?as_of=2026-07-01&deal=W1")
    page.wait_for_selector("text=Onboarding hand-off", timeout=60_000)
    _wait_ready(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="⬇ Onboarding hand-off (Excel)").click()
    target = tmp_path / "handoff.xlsx"
    download.value.save_as(target)
    import openpyxl

    assert openpyxl.load_workbook(target).sheetnames[0] == "Hand-off"
    screenshot(page, "mutual_plans_W1")


def test_win_loss_page_draws_intervals(tmp_path, serve, page):
    _open_fixture(tmp_path, serve, page, "winloss", "win_loss?by=segment", "Win rate by segment")
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert values[0] == "60.0%", values                                  # 6 won of 10
    assert page.locator("text=67% of 6").count() >= 1                    # segment X: 4 of 6
    screenshot(page, "win_loss_by_segment")


def test_account_page_shows_coverage_map_and_overdue_actions(tmp_path, serve, page):
    """tests/fixtures/accounts as of 2026-07-01 (worked out in tests/unit/test_accounts.py): Alpha
    Foods' value of the last 12 months is 145,000 (A1 100,000 + A2 50,000 USD × 0.9), its coverage
    4 of 5 (one overdue action); its map draws Hal Moore, named in reports_to but missing, as a
    dashed box; Beta Motori's reporting cycle is said in words. The refreshed account plan
    downloads and holds the numbers."""
    app, _ = _open_fixture(tmp_path, serve, page, "accounts", "account?account=K1&as_of=2026-07-01",
                           "Download the account plan")
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=30_000)
    _wait_ready(page)
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert values[:2] == ["145,000", "60,000"] and "80%" in values, values
    page.wait_for_selector("[data-testid=stGraphVizChart] svg", timeout=30_000)       # the org chart drew
    chart = page.locator("[data-testid=stGraphVizChart] svg").text_content()
    assert "Dana Cole" in chart and "(not on the map)" in chart
    assert page.locator("text=Gus Hale reports to Hal Moore").count() == 1
    assert page.locator("text=1 overdue").count() >= 1                               # the Exec briefing
    with page.expect_download() as download:
        page.get_by_role("button", name="⬇ Account plan (Excel template, refreshed)").click()
    target = tmp_path / "plan.xlsx"
    download.value.save_as(target)
    import openpyxl

    numbers = {r[0]: r[1] for r in openpyxl.load_workbook(target)["Numbers"].iter_rows(values_only=True)}
    assert numbers["Value, last 12 months:"] == 145_000
    screenshot(page, "account_K1")
    page.goto(f"{app.url}/account?account=K2&as_of=2026-07-01")
    page.wait_for_selector("text=Reporting cycle: Ivo Rana → Jon Sato → Ivo Rana", timeout=60_000)
    _wait_ready(page)
    page.wait_for_selector("[data-testid=stGraphVizChart] svg", timeout=30_000)
    screenshot(page, "account_K2_cycle")
    page.goto(f"{app.url}/key_accounts?as_of=2026-07-01")
    page.wait_for_selector("text=Plan coverage", timeout=60_000)
    _wait_ready(page)
    assert page.locator("[data-testid=stMetricValue]").first.inner_text() == "3"      # K1, K2, K3
    page.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)
    screenshot(page, "key_accounts_fixture")
