"""KAM Analytics: the navigation, nothing else. Pages live in views/ (one file a page), the logic in
kam_analytics/."""

import streamlit as st

from views import _session, _ui

st.set_page_config(page_title="KAM Analytics", page_icon="📈", layout="wide")

PAGES = {
    "": [st.Page("views/overview.py", title="Overview", icon=":material/home:", url_path="overview", default=True)],
    "Deals": [
        st.Page("views/stage_durations.py", title="Stage durations", icon=":material/timer:", url_path="stage_durations"),
        st.Page("views/stage_velocity.py", title="Stage velocity", icon=":material/filter_alt:", url_path="stage_velocity"),
        st.Page("views/closing_plan.py", title="Closing plan", icon=":material/event_available:", url_path="closing_plan"),
        st.Page("views/forecast.py", title="Forecast", icon=":material/trending_up:", url_path="forecast"),
        st.Page("views/risk.py", title="Deals at risk", icon=":material/warning:", url_path="risk"),
        st.Page("views/mutual_plans.py", title="Mutual plans", icon=":material/handshake:", url_path="mutual_plans"),
        st.Page("views/win_loss.py", title="Win-loss", icon=":material/emoji_events:", url_path="win_loss"),
    ],
    "Accounts": [
        st.Page("views/key_accounts.py", title="Key accounts", icon=":material/star:", url_path="key_accounts"),
        st.Page("views/account.py", title="Account", icon=":material/apartment:", url_path="account"),
    ],
    "Data": [
        st.Page("views/import_files.py", title="Import", icon=":material/upload_file:", url_path="import"),
        st.Page("views/data.py", title="Data", icon=":material/table:", url_path="data"),
        st.Page("views/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
        st.Page("views/definitions.py", title="Definitions", icon=":material/menu_book:", url_path="definitions"),
    ],
}

signed_in = False
with _ui.guarded():
    _session.restore(_ui._users())      # a reload or a direct link: the signed cookie, if valid
    signed_in = _ui.role() is not None
    if signed_in:
        _session.remember(_ui._users())  # just signed in with a password: the browser keeps it
if not signed_in:       # sign-in is configured and nobody is signed in: the sign-in page only,
    # standing in for every page's address, so that a direct link (/import) asks for the sign-in
    # and then opens that page; the Overview's address is its default, as in the full navigation
    st.navigation([st.Page("views/sign_in.py", title="Sign in", icon=":material/login:",
                           url_path=page.url_path or "overview", default=not page.url_path,   # "": the default
                           visibility="hidden" if page.url_path else "visible")
                   for section in PAGES.values() for page in section]).run()
    st.stop()

pg = st.navigation(PAGES, expanded=True)  # every page in view: Import, Data and Settings are not hidden behind "View more"
_ui.account_sidebar()
_ui.begin_rerun()
pg.run()
