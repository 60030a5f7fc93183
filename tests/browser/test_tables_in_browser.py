"""Tables and charts people read, in a real browser (issue 26), on tests/fixtures/accounts as of
2026-07-01 (every figure worked out in tests/unit/test_accounts.py): grid headers in words, no
True/False/None in any cell, a goal's computed status beside the owner's typed one, and charts
on the app's dark theme without a white background."""

import pytest

from ..conftest import load_fixture
from .conftest import screenshot

pytestmark = pytest.mark.browser

GRID = "[data-testid=stDataFrame]"


def _ready(page, text):
    page.wait_for_selector(f"text={text}", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_function(
        "() => { const g = [...document.querySelectorAll('[data-testid=stDataFrame]')]"
        ".filter(d => d.checkVisibility()); return g.length > 0 && g.every(d => d.querySelector('[role=columnheader]')) }",
        timeout=30_000)
    assert page.locator("text=Something went wrong").count() == 0


def _grid_text(page):
    headers = page.locator(f"{GRID} [role=columnheader]").all_inner_texts()
    cells = page.locator(f"{GRID} [role=gridcell]").all_inner_texts()
    return [h.strip() for h in headers], [c.strip() for c in cells]


def test_account_grids_read_in_words_and_goal_status_is_computed(tmp_path, serve, browser):
    db_file = load_fixture(tmp_path / "accounts.duckdb", "accounts")
    app = serve(db_file)
    ctx = browser.new_context(viewport={"width": 1400, "height": 4000})       # every grid in view: they draw lazily
    page = ctx.new_page()
    page.goto(f"{app.url}/account?account=K1&as_of=2026-07-01")
    _ready(page, "Download the account plan")
    headers, cells = _grid_text(page)
    assert headers and not [h for h in headers if "_" in h], headers               # never snake_case
    assert not {"True", "False", "None", "nan", "NaN"} & set(cells)
    assert {"Status", "Owner's status", "Expected by now", "Deal ID", "Risk band"} <= set(headers), headers
    # "Deals won": 2 of 4 by its due date 2026-06-30 (all its time elapsed) is off track, though the
    # owner typed "at risk"; the two sit side by side, the computed one first
    goal_cells = cells[cells.index("Deals won"):]
    assert goal_cells[goal_cells.index("off track") + 1] == "at risk", goal_cells[:12]
    screenshot(page, "account_K1_goals")

    page.goto(f"{app.url}/key_accounts?as_of=2026-07-01&scope=all")
    _ready(page, "Plan coverage")
    headers, cells = _grid_text(page)
    assert not [h for h in headers if "_" in h], headers
    assert {"Coverage", "Plan reviewed", "Owner's status"} <= set(headers), headers      # (the grid lists the columns in view)
    assert not {"True", "False", "None", "nan", "NaN"} & set(cells)
    ctx.close()


def test_charts_follow_the_dark_theme(tmp_path, serve, browser):
    db_file = load_fixture(tmp_path / "accounts.duckdb", "accounts")
    app = serve(db_file, env={"STREAMLIT_THEME_BASE": "dark"})
    ctx = browser.new_context(viewport={"width": 1400, "height": 2600}, color_scheme="dark")
    page = ctx.new_page()
    try:
        page.goto(f"{app.url}/key_accounts?as_of=2026-07-01&scope=all")
        _ready(page, "Plan coverage")
        page.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)
        backgrounds = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(p => [p._fullLayout.paper_bgcolor, "
            "p._fullLayout.plot_bgcolor, p._fullLayout.font.color])")
        assert backgrounds
        for paper, plot, font in backgrounds:
            for colour in (paper, plot):         # transparent or dark, never the white of a light page
                assert colour.replace(" ", "") not in ("#fff", "#ffffff", "white", "rgb(255,255,255)"), backgrounds
            rgb = [int(x) for x in font[font.index("(") + 1:font.index(")")].split(",")[:3]] \
                if font.startswith("rgb") else [int(font[i:i + 2], 16) for i in (1, 3, 5)]
            assert sum(rgb) / 3 > 128, backgrounds              # light text on the dark page
        screenshot(page, "key_accounts_dark")
    finally:
        ctx.close()
