"""Sign-in in a real browser (issue 10, "Who may change data"): with users configured, nobody
sees data before signing in; a viewer reads every page but cannot import or change settings;
an analyst can."""

import bcrypt
import pytest

from .conftest import screenshot
from .test_pages_in_browser import _wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def secured(tiny_db, serve):
    def h(p: bytes) -> str:
        return bcrypt.hashpw(p, bcrypt.gensalt(4)).decode()

    return serve(tiny_db, env={"KAM_USERS": f"ann:analyst:{h(b'ann-secret-1')};bo:viewer:{h(b'bo-secret-12')}"})


def _sign_in(page, app, name, password):
    page.goto(app.url)
    page.wait_for_selector("text=Sign in", timeout=60_000)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _go(page, title):
    """Navigate inside the session (a fresh page load would be a new, signed-out session)."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
    _wait_ready(page)


def test_wrong_password_then_viewer(secured, page):
    _sign_in(page, secured, "bo", "not-the-password")
    page.wait_for_selector("text=Wrong name or password.", timeout=30_000)
    assert page.locator("[data-testid=stMetricValue]").count() == 0
    screenshot(page, "sign_in_wrong_password")
    _sign_in(page, secured, "bo", "bo-secret-12")
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    assert page.get_by_text("(viewer)").count() >= 1
    _go(page, "Import")
    page.wait_for_selector("text=Importing and undoing is for analysts", timeout=30_000)
    assert page.locator("[data-testid=stFileUploader]").count() == 0
    screenshot(page, "import_as_viewer")
    _go(page, "Settings")
    page.wait_for_selector("text=Changing settings is for analysts", timeout=30_000)
    page.wait_for_selector("button:has-text('stage list')", timeout=30_000)
    save = page.locator("button:has-text('stage list')")
    assert save.count() == 1 and save.is_disabled()
    _go(page, "Stage durations")                                    # reading is allowed
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=30_000)


def test_analyst_may_import(secured, page):
    _sign_in(page, secured, "ann", "ann-secret-1")
    page.wait_for_selector("text=(analyst)", timeout=30_000)
    _go(page, "Import")
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=30_000)
    assert page.locator("text=is for analysts").count() == 0
    screenshot(page, "import_as_analyst")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=Sign in", timeout=30_000)
    assert page.locator("[data-testid=stFileUploader]").count() == 0
