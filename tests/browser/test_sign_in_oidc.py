"""OIDC sign-in in a real browser (issue 27, item 9): Streamlit's st.login against a local
OpenID Connect provider (the oidc-provider-mock package, on localhost), with roles by e-mail
from [kam_oidc_roles]: ann@example.com is mapped to analyst and may import, bo@example.com to
viewer and may not. The whole flow: the app's button, the provider's page, the callback, a
reload, sign-out (through the provider's end-session page), a direct link while signed out, and
the next user."""

import secrets

import pytest

from ..conftest import load_fixture
from .conftest import App, _free_port, screenshot
from .test_pages_in_browser import _wait_ready

pytestmark = pytest.mark.browser

ANN, BO = "ann@example.com", "bo@example.com"


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import User, run_server_in_thread

    people = [User(sub=ANN, claims={"email": ANN, "name": "Ann Analyst"}),
              User(sub=BO, claims={"email": BO, "name": "Bo Viewer"})]
    with run_server_in_thread(user_claims=people) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory, provider, browser):
    folder = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    settings = folder / "secrets.toml"
    settings.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "kam-analytics-test"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[kam_oidc_roles]
"Ann@Example.com" = "analyst"
"{BO}" = "viewer"
""")
    app = App(load_fixture(folder / "tiny.duckdb", "tiny"), port=port,
              env={"STREAMLIT_SECRETS_FILES": str(settings), "KAM_USERS": ""})
    yield app
    log = app.stop()
    assert "Traceback" not in log, log[-3000:]


def _sign_in_with_provider(page, app, provider, email):
    page.get_by_role("button", name="Sign in with your identity provider").click()
    page.wait_for_url(f"{provider}/**", timeout=30_000)          # the provider's own page
    page.locator(f"button[name=sub][value='{email}']").click()   # the mock signs this user in
    page.wait_for_url(f"{app.url}/**", timeout=30_000)           # back through /oauth2callback
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    _wait_ready(page)


def _signed_in_as(page):
    """The sidebar's words (an e-mail is drawn with a word joiner after its @, so that it is
    not made a link)."""
    return page.get_by_test_id("stSidebar").inner_text().replace("\u2060", "")


def _go(page, title):
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
    _wait_ready(page)


def test_oidc_sign_in_with_roles_by_e_mail(oidc_app, provider, page):
    page.goto(oidc_app.url)
    page.get_by_role("button", name="Sign in with your identity provider").wait_for(timeout=60_000)
    assert page.locator("[data-testid=stMetricValue]").count() == 0       # no data before signing in

    # ann: mapped to analyst (the mapping's case is ignored)
    _sign_in_with_provider(page, oidc_app, provider, ANN)
    assert f"Signed in as {ANN} (analyst)" in _signed_in_as(page)
    _go(page, "Import")
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=30_000)
    assert page.locator("text=is for analysts").count() == 0
    page.reload()                                                  # Streamlit's own cookie keeps it
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=30_000)
    screenshot(page, "import_as_oidc_analyst")

    _wait_ready(page)                                              # (a click during a rerun can be lost)
    page.get_by_role("button", name="Sign out").click()
    # st.logout deletes Streamlit's identity cookie and ends the provider's session too (a rerun
    # called after it used to cut that short: a reload then found the user still signed in)
    page.wait_for_url(f"{provider}/**", timeout=60_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{oidc_app.url}/**", timeout=60_000)
    page.get_by_role("button", name="Sign in with your identity provider").wait_for(timeout=60_000)
    page.reload()                                                  # and Streamlit's cookie is gone
    page.get_by_role("button", name="Sign in with your identity provider").wait_for(timeout=60_000)
    page.goto(f"{oidc_app.url}/import")                            # signed out: a direct link asks again
    page.get_by_role("button", name="Sign in with your identity provider").wait_for(timeout=60_000)
    assert page.locator("[data-testid=stFileUploader]").count() == 0

    # bo: mapped to viewer, reads but may not import
    _sign_in_with_provider(page, oidc_app, provider, BO)
    assert f"Signed in as {BO} (viewer)" in _signed_in_as(page)
    _go(page, "Import")
    page.wait_for_selector("text=Importing and undoing is for analysts", timeout=30_000)
    assert page.locator("[data-testid=stFileUploader]").count() == 0
    _go(page, "Stage durations")                                   # reading is allowed
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=30_000)
