"""Issue 26: pickers obey. On every page, choose a value that is not the default, then go back
to the default: the page and the URL show the default (before the fix "Split by → (none)" and
the current quarter on Forecast snapped back to the previous value, and the URL kept it). A
value in the URL that a page cannot serve is said in one sentence, never an error. One served
app (the demo world of 2,000 deals, seed 7) for each part of the walk."""

from __future__ import annotations

import re

import pytest

from kam_analytics import db, periods
from .conftest import screenshot

pytestmark = pytest.mark.browser


def _ready(page):
    page.wait_for_timeout(600)                  # the rerun a click asks for has started
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(400)
    assert page.locator("text=Something went wrong").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def _open(page, url: str, wait: str):
    page.goto(url)
    page.wait_for_selector(wait, timeout=60_000)
    _ready(page)


def _selectbox(page, label: str):
    return page.locator("[data-testid=stSelectbox]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile(f"^{re.escape(label)}$"))).first


def _chosen(page, label: str) -> str:
    return _selectbox(page, label).locator("input").input_value()


def _pick(page, label: str, option: str):
    _selectbox(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()
    _ready(page)


def _segment(page, label: str, option: str):
    """Click a segmented control's option; after the rerun it is the one checked."""
    button = page.get_by_role("radiogroup", name=label).get_by_role("radio", name=option, exact=True)
    button.click()
    _ready(page)
    assert button.get_attribute("aria-checked") == "true", (label, option)


def _params(page) -> str:
    return page.url.split("?", 1)[1] if "?" in page.url else ""


def _back_to_default(page, label: str, other: str, default: str, param: str):
    """Pick `other` (the URL names it), then `default` (the URL drops it); both stick after a reload."""
    _pick(page, label, other)
    assert _chosen(page, label) == other and f"{param}=" in _params(page), (label, page.url)
    url_with = page.url
    _pick(page, label, default)
    assert _chosen(page, label) == default, (label, _chosen(page, label))
    assert f"{param}=" not in _params(page), (label, page.url)
    # the page drew the default once more (another rerun) and a reload of the URL shows it too
    page.reload()
    page.wait_for_selector("h1", timeout=60_000)
    _ready(page)
    assert _chosen(page, label) == default and f"{param}=" not in _params(page), (label, page.url)
    return url_with


def _app_with_demo(demo_db_factory, serve):
    path = demo_db_factory(2000, 7)
    return path, serve(path)


def test_the_stage_pickers_go_back_to_their_defaults(demo_db_factory, serve, page):
    path, app = _app_with_demo(demo_db_factory, serve)
    # ---- Stage durations: Split by, Outcome, Revisits
    _open(page, f"{app.url}/stage_durations", "text=Median days in each stage")
    assert _chosen(page, "Split by") == "(none)"
    _back_to_default(page, "Split by", "segment", "(none)", "by")
    _back_to_default(page, "Split by", "region", "(none)", "by")
    _segment(page, "Outcome", "Won")
    assert "outcome=won" in _params(page) and page.locator("text=/outcome won/").count() >= 1
    _segment(page, "Outcome", "All")
    assert "outcome=" not in _params(page) and page.locator("text=/outcome all/").count() >= 1
    _segment(page, "Revisits", "First")
    assert "revisits=first" in _params(page) and page.locator("text=/revisit rule first/").count() >= 1
    _segment(page, "Revisits", "Cumulative")
    assert "revisits=" not in _params(page) and page.locator("text=/revisit rule cumulative/").count() >= 1

    # ---- Stage velocity: Split by
    _open(page, f"{app.url}/stage_velocity", "text=Sales cycle")
    _back_to_default(page, "Split by", "segment", "(none)", "by")
    assert "v=" not in _params(page)                  # the comparison went with the split


def test_the_forecast_and_win_loss_pickers_go_back_to_their_defaults(demo_db_factory, serve, page):
    path, app = _app_with_demo(demo_db_factory, serve)
    with db.read(path) as con:
        from kam_analytics import overview

        data_date = overview.summary(con)["data_date"]          # the Forecast page's "current" quarter
    # ---- Forecast: the period (the current quarter is the default) and the roll-up
    with db.read(path) as con:
        from kam_analytics import settings

        start_month = int(settings.load(con)["fiscal_year_start_month"])
    current = periods.fiscal_quarter(data_date, start_month)
    earlier = periods.quarters_around(data_date, start_month, 8, 2)[5]
    _open(page, f"{app.url}/forecast", "text=Quota attainment")
    assert _chosen(page, "Period") == current
    _back_to_default(page, "Period", earlier, current, "period")
    _segment(page, "Roll up by", "manager")
    assert "by=manager" in _params(page)
    _segment(page, "Roll up by", "owner")
    assert "by=" not in _params(page)

    # ---- Win-loss: Split by (owner is the default) and the segment (All)
    _open(page, f"{app.url}/win_loss", "text=Win rate by owner")
    _back_to_default(page, "Segment", "SMB", "All", "segment")
    _back_to_default(page, "Split by", "region", "owner", "by")

    # ---- a split chosen on one page does not follow to a page where "by" means something else
    _open(page, f"{app.url}/stage_durations?by=region", "text=Median days in each stage")
    page.get_by_role("link", name="Forecast").click()
    page.wait_for_selector("text=Quota attainment", timeout=60_000)
    _ready(page)
    assert "by=" not in _params(page), page.url
    page.get_by_role("link", name="Win-loss").click()
    page.wait_for_selector("text=Win rate by owner", timeout=60_000)
    _ready(page)
    assert "by=" not in _params(page) and _chosen(page, "Split by") == "owner", page.url


def test_the_risk_plan_and_data_pickers_go_back_to_their_defaults(demo_db_factory, serve, page):
    path, app = _app_with_demo(demo_db_factory, serve)
    # ---- Deals at risk: a band picked, then none (every band, the default)
    _open(page, f"{app.url}/risk", "text=All the deals shown")
    band = page.locator("[data-testid=stMultiSelect]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile("^Band$"))).first
    band.click()
    page.get_by_role("option", name="high", exact=True).click()
    page.keyboard.press("Escape")
    _ready(page)
    assert "band=high" in _params(page)
    band.locator("input").click()
    page.keyboard.press("Backspace")                 # removes the last pick
    page.keyboard.press("Escape")
    _ready(page)
    assert "band=" not in _params(page) and "high" not in band.inner_text(), (page.url, band.inner_text())

    # ---- Closing plan: dates from the mean, then the median again (the default)
    _open(page, f"{app.url}/closing_plan", "text=How the plan is made")
    _segment(page, "Dates from the", "mean")
    assert "stat=mean" in _params(page) and page.locator("text=/Dated by the mean/").count() == 1
    _segment(page, "Dates from the", "median")
    assert "stat=" not in _params(page) and page.locator("text=/Dated by the median/").count() == 1

    # ---- Data: the table (deals is the default)
    _open(page, f"{app.url}/data", "text=/row\\(s\\) match/")
    _back_to_default(page, "Table", "Accounts", "Deals", "table")
    screenshot(page, "pickers_back_to_default")


def test_a_value_the_page_cannot_serve_is_said(demo_db_factory, serve, page):
    app = serve(demo_db_factory(2000, 7))
    for url, said in (("stage_durations?by=deal_id", "“deal_id” is not a dimension to split by"),
                      ("stage_velocity?by=amount", "“amount” is not a dimension to split by"),
                      ("stage_velocity?by=segment&v=Nowhere", "“Nowhere” is not a segment value"),
                      ("forecast?period=FY1999-Q1", "“FY1999-Q1” is not a quarter this page offers"),
                      ("forecast?by=colour", "“colour” is not a roll-up"),
                      ("win_loss?by=deal_id", "“deal_id” is not a dimension"),
                      ("win_loss?segment=Nowhere", "“Nowhere” is not a segment"),
                      ("risk?band=extreme", "“extreme” is not a band on this page"),
                      ("closing_plan?stat=mode", "“mode” is not a figure to date the steps from"),
                      ("risk?as_of=yesterday", "“yesterday” is not a date"),
                      ("data?table=secrets", "“secrets” is not a table")):
        _open(page, f"{app.url}/{url}", "h1")
        page.wait_for_selector(f"text={said}", timeout=30_000)
        name = url.split("?")[1].split("=")[0]
        assert f"{url.split('?')[1]}" not in _params(page), page.url       # the URL no longer asks for it
        screenshot(page, f"refused_{url.split('?')[0]}_{name}")
