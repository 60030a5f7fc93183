"""Sign in (when users are configured: kam_analytics/auth.py). Viewers read every page;
analysts may also import, undo, restore, remove a person and change settings."""

import time

import streamlit as st

from views import _ui
from kam_analytics import auth

st.title("KAM Analytics")
with _ui.guarded():
    users = _ui._users()
    if not users:      # OIDC (secrets.toml [auth]): the identity provider signs in
        if st.button("Sign in with your identity provider", type="primary"):
            st.login()
        st.stop()
    with st.columns([2, 3])[0], st.form("sign-in"):
        st.subheader("Sign in")
        name = st.text_input("Name", key="sign-in-name")
        password = st.text_input("Password", type="password", key="sign-in-password")
        if st.form_submit_button("Sign in", type="primary"):
            user = auth.check(users, name, password)
            if user is None:
                time.sleep(1.0)        # slows guessing; the same answer for a wrong name or password
                st.error("Wrong name or password.", icon=":material/error:")
            else:
                st.session_state["kam_user"], st.session_state["kam_role"] = user.name, user.role
                st.rerun()
