"""Issue 26: a drill-down reruns only its part (st.fragment). Picking another bar of the
waterfall, another stage or another deal changes the list below the picker, and the rest of the
page is not drawn again: no element above the drill-down is marked stale (Streamlit marks every
element a rerun covers; the control, a page-level picker, shows the watch sees a full rerun —
and with the drill-downs drawn as plain page code, picking a bar marked 61 elements above it)."""

from __future__ import annotations

import re

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

WATCH = """anchor => {
  // count the elements drawn before the drill-down (title, metrics, charts) that a rerun marks stale
  window.__staleBefore = 0;
  new MutationObserver(ms => ms.forEach(m => {
    const t = m.target;
    if (t.getAttribute('data-stale') !== 'true' || t.contains(anchor)) return;
    if (t.compareDocumentPosition(anchor) & Node.DOCUMENT_POSITION_FOLLOWING) window.__staleBefore++;
  })).observe(document.querySelector('[data-testid=stMain]'),
              {attributes: true, subtree: true, attributeFilter: ['data-stale']});
}"""


def _ready(page):
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(300)
    assert page.locator("text=Something went wrong").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def _pick(page, label: str, option: str):
    page.locator("[data-testid=stSelectbox]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile(f"^{re.escape(label)}$"))).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.click()
    _ready(page)


def _redrawn_before(page) -> int:
    """How many elements above the watched drill-down were marked stale (drawn again) since the watch."""
    return page.evaluate("window.__staleBefore")


def _watch(page, anchor) -> None:
    page.evaluate(WATCH, anchor.element_handle())


def _open(page, url: str, wait: str):
    page.goto(url)
    page.wait_for_selector(wait, timeout=60_000)
    _ready(page)
    _watch(page, page.locator(wait).first)


def test_drill_downs_rerun_alone(demo_db_factory, serve, page):
    app = serve(demo_db_factory(2000, 7))

    # ---- Forecast: the deals behind a bar
    _open(page, f"{app.url}/forecast?period=FY2026-Q3&as_of=2026-10-01", "text=The deals behind a bar")
    page.get_by_text("The deals behind a bar").click()
    _ready(page)
    part = page.locator("[data-testid=stExpander]").filter(has_text="The deals behind a bar")
    before = part.locator("text=/^[\\d,]+ deals$/").inner_text()
    _pick(page, "Bar", "Won")
    after = part.locator("text=/^[\\d,]+ deals$/").inner_text()
    assert part.locator("input").first.input_value() == "Won"
    assert _redrawn_before(page) == 0, "picking a bar redrew the whole Forecast page"
    screenshot(page, "fragment_forecast_won_bar")
    assert before and after                         # the list's count is shown for both bars

    # ---- Forecast: the push history of one slipped deal
    show = page.get_by_role("radiogroup", name="Show")
    _watch(page, show)
    show.get_by_role("radio", name="all", exact=True).click()
    _ready(page)
    assert _redrawn_before(page) == 0, "showing all expected deals redrew the whole Forecast page"

    # ---- the control: a page-level picker reruns the whole page, and the watch sees it
    _pick(page, "Period", "FY2026-Q2")
    assert _redrawn_before(page) > 0

    # ---- Stage durations and Stage velocity: the deals behind a stage
    for path, wait, label in (("stage_durations", "text=Deals behind a figure", "Stage"),
                              ("stage_velocity", "text=Deals behind a stage", "Stage reached")):
        _open(page, f"{app.url}/{path}", wait)
        _pick(page, label, "Negotiation")
        picker = page.locator("[data-testid=stSelectbox]").filter(
            has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile(f"^{label}$"))).first
        assert picker.locator("input").input_value() == "Negotiation", path
        if path == "stage_velocity":
            assert page.locator("text=/closed deals reached Negotiation/").count() == 1
        assert _redrawn_before(page) == 0, f"the drill-down redrew the whole {path} page"

    # ---- Deals at risk: one deal's timeline
    _open(page, f"{app.url}/risk", "text=One deal's timeline")
    deal_box = page.locator("[data-testid=stSelectbox]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile("^Deal$"))).first
    first = deal_box.locator("input").input_value()
    deal_box.click()
    page.get_by_role("option").nth(1).click()
    _ready(page)
    assert deal_box.locator("input").input_value() != first
    assert _redrawn_before(page) == 0, "picking a deal redrew the whole risk page"

    # ---- Win-loss: the deals behind a row
    _open(page, f"{app.url}/win_loss?by=segment", "text=The deals behind a row")
    page.get_by_text("The deals behind a row").first.click()
    _ready(page)
    _pick(page, "segment", "SMB")
    assert _redrawn_before(page) == 0, "the row drill-down redrew the whole win-loss page"
