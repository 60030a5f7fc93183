"""A sign-in that survives a reload (issue 27, item 9): the signed, expiring session token of
kam_analytics/auth.py, its key file, sign-out revocation, and OIDC roles by e-mail."""

import base64
import json
import stat

import bcrypt
import pytest

from kam_analytics import auth
from kam_analytics.errors import InputError

ANN = bcrypt.hashpw(b"ann-password", bcrypt.gensalt(4)).decode()
BO = bcrypt.hashpw(b"bo-password", bcrypt.gensalt(4)).decode()
KEY = b"k" * 64
T0 = 1_800_000_000          # a fixed "now", seconds since the epoch


@pytest.fixture
def users():
    return auth.load_users({}, {"KAM_USERS": f"ann:analyst:{ANN};bo:viewer:{BO}"})


def test_a_token_signs_its_user_in_until_it_expires(users):
    token = auth.make_session(KEY, users["ann"], hours=2, now=T0)
    # 2 hours = 7,200 s: valid one second before T0 + 7200, refused from T0 + 7200 on
    assert auth.read_session(KEY, token, users, now=T0 + 7199).name == "ann"
    assert auth.read_session(KEY, token, users, now=T0 + 7200) is None
    assert auth.session_seconds_left(KEY, token, now=T0 + 200) == 7000
    assert auth.read_session(KEY, auth.make_session(KEY, users["bo"], 0.5, now=T0), users, now=T0 + 1799).role == "viewer"


def test_a_forged_or_altered_token_is_refused(users):
    token = auth.make_session(KEY, users["bo"], hours=2, now=T0)
    assert auth.read_session(b"another key" * 4, token, users, now=T0) is None    # signed with another key
    forged = auth.make_session(b"another key" * 4, users["ann"], hours=2, now=T0)
    assert auth.read_session(KEY, forged, users, now=T0) is None
    # the payload changed from bo to ann, the signature kept: refused
    payload, sig = token.rsplit(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["u"] == "bo"
    claims["u"] = "ann"
    altered = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    assert auth.read_session(KEY, f"{altered}.{sig}", users, now=T0) is None
    for junk in (None, "", "abc", "x" * 5000, token[:-3]):
        assert auth.read_session(KEY, junk, users, now=T0) is None


def test_a_changed_password_or_a_removed_user_ends_the_session(users):
    token = auth.make_session(KEY, users["ann"], hours=2, now=T0)
    new_hash = bcrypt.hashpw(b"new-password", bcrypt.gensalt(4)).decode()
    changed = auth.load_users({}, {"KAM_USERS": f"ann:analyst:{new_hash};bo:viewer:{BO}"})
    assert auth.read_session(KEY, token, changed, now=T0) is None
    assert auth.read_session(KEY, token, auth.load_users({}, {"KAM_USERS": f"bo:viewer:{BO}"}), now=T0) is None
    # the role comes from today's settings, not from the token
    demoted = auth.load_users({}, {"KAM_USERS": f"ann:viewer:{ANN}"})
    assert auth.read_session(KEY, token, demoted, now=T0).role == "viewer"


def test_sign_out_revokes_that_token_only(users, tmp_path):
    revoked = tmp_path / "kam_session.key.revoked"
    first = auth.make_session(KEY, users["ann"], hours=2, now=T0)
    second = auth.make_session(KEY, users["ann"], hours=2, now=T0)
    auth.revoke_session(KEY, first, revoked, now=T0 + 10)
    assert auth.read_session(KEY, first, users, revoked, now=T0 + 20) is None
    assert auth.read_session(KEY, second, users, revoked, now=T0 + 20).name == "ann"
    auth.revoke_session(KEY, "not a token", revoked, now=T0)              # nothing to revoke
    assert len(revoked.read_text().splitlines()) == 1


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / ".streamlit" / "kam_session.key"
    key = auth.session_key(path)
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600   # 32 random bytes as hex
    assert auth.session_key(path) == key
    assert auth.session_key(tmp_path / "other.key") != key
    assert auth.session_key_file("default.key", {"KAM_SESSION_KEY_FILE": str(path)}) == path
    assert str(auth.session_key_file("default.key", {})) == "default.key"


def test_session_hours_from_the_environment():
    assert auth.session_hours({}) == 12
    assert auth.session_hours({"KAM_SESSION_HOURS": "0.5"}) == 0.5
    for bad in ("soon", "0", "-3", "10000"):
        with pytest.raises(InputError, match="KAM_SESSION_HOURS"):
            auth.session_hours({"KAM_SESSION_HOURS": bad})


def test_oidc_roles_by_e_mail():
    roles = {"Ann@Example.com": "analyst", "bo@example.com": "viewer"}
    assert auth.oidc_role(roles, "ann@example.com") == "analyst"
    assert auth.oidc_role(roles, " ANN@example.COM ") == "analyst"
    assert auth.oidc_role(roles, "bo@example.com") == "viewer"
    assert auth.oidc_role(roles, "eve@example.com") == "viewer"      # anyone else signed in reads
    assert auth.oidc_role(roles, None) == "viewer"
    with pytest.raises(InputError, match="expected viewer or analyst"):
        auth.oidc_role({"ann@example.com": "admin"}, "bo@example.com")


def test_a_key_that_cannot_be_made_is_one_clear_message(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="cannot be read or made .*KAM_SESSION_KEY_FILE"):
        auth.session_key(blocker / "kam_session.key")
