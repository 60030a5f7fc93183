"""A password sign-in that survives a reload or a direct link (issue 27, item 9): the token of
kam_analytics/auth.py kept in the browser's `kam_session` cookie.

Streamlit reads cookies (`st.context.cookies`, those sent when the page opened its
connection) but a script cannot answer with a Set-Cookie header: the page talks to the server
over a websocket, and Streamlit's own cookie routes are for its OIDC sign-in only. So the
cookie is written by a two-line script in `st.html(..., unsafe_allow_javascript=True)`, whose
only input is the signed token (URL-safe characters, quoted as JSON). Being set from script it
cannot be HttpOnly; what keeps it safe is that it is signed (a forged or altered token is
refused), expires (its own expiry is checked, not only the browser's), is SameSite=Strict,
Secure over https, and is revoked on the server at sign-out. Identity-provider sign-ins keep
Streamlit's own cookie and need none of this."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from kam_analytics import auth

_DEFAULT_KEY = Path(__file__).resolve().parent.parent / ".streamlit" / "kam_session.key"


def _files() -> tuple[bytes, Path]:
    key_file = auth.session_key_file(_DEFAULT_KEY)
    return auth.session_key(key_file), key_file.with_name(key_file.name + ".revoked")


def _cookie_script(value: str, max_age: int) -> None:
    path = (st.get_option("server.baseUrlPath") or "").strip("/")
    cookie = (f"{auth.SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/{path}; SameSite=Strict")
    st.html(f"<script>document.cookie = {json.dumps(cookie)} + "
            f"(location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


def restore(users: dict) -> None:
    """Before the page asks who is signed in: a session with no sign-in yet takes it from a
    valid cookie; after a sign-out the cookie is revoked and cleared (and this session no
    longer trusts the cookie it opened with)."""
    if not users:
        return
    state = st.session_state
    opened_with = st.context.cookies.get(auth.SESSION_COOKIE)
    if "kam_token" in state and state.get("kam_role") is None:     # the Sign out button ran
        key, revoked = _files()
        auth.revoke_session(key, state.pop("kam_token"), revoked)
        if opened_with:
            auth.revoke_session(key, opened_with, revoked)
        state["kam_signed_out"] = True
        _cookie_script("", 0)
        return
    if state.get("kam_role") is not None or state.get("kam_signed_out") or not opened_with:
        return
    key, revoked = _files()
    user = auth.read_session(key, opened_with, users, revoked)
    if user is None:                    # expired, forged, revoked or stale: ask again, forget it
        state["kam_signed_out"] = True
        _cookie_script("", 0)
        return
    state["kam_user"], state["kam_role"], state["kam_token"] = user.name, user.role, opened_with


def remember(users: dict) -> None:
    """After a password sign-in in this session: give the browser its signed cookie, once."""
    state = st.session_state
    if not users or state.get("kam_role") is None or "kam_token" in state:
        return
    user = users.get(state.get("kam_user"))
    if user is None:
        return
    key, _ = _files()
    token = auth.make_session(key, user, auth.session_hours())
    state["kam_token"] = token
    state.pop("kam_signed_out", None)
    _cookie_script(token, auth.session_seconds_left(key, token))
