"""The app in a real browser: a number the report function computed for the fixture is on
the page, the empty state is friendly, and nothing shows a traceback."""

import pytest

from kam_analytics import db, formatting
from kam_analytics.reports.stage_durations import stage_durations

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _wait_ready(page):
    page.wait_for_selector("[data-testid=stApp]")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000)
    assert page.locator("text=Page not found").count() == 0
    assert page.locator("text=Traceback").count() == 0


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
    assert page.locator("text=Traceback").count() == 0
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


def test_every_page_with_demo_data_and_empty(demo_db_factory, tmp_path, serve, page):
    """A screenshot of every page, with the demo data and with an empty database."""
    for label, db_file in (("demo", demo_db_factory(2000, 7)), ("empty", tmp_path / "blank.duckdb")):
        app = serve(db_file)
        for path in ("", "stage_durations", "stage_velocity", "import", "data"):
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
