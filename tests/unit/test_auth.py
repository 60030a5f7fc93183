"""Who may change data (issue 10): users from secrets.toml or $KAM_USERS, bcrypt hashes only,
two roles."""

import bcrypt
import pytest

from kam_analytics import auth
from kam_analytics.errors import InputError

# rounds=4: the cheapest bcrypt cost, so the tests stay fast; the app's hashes use 12
ANN = bcrypt.hashpw(b"ann-password", bcrypt.gensalt(4)).decode()
BO = bcrypt.hashpw(b"bo-password", bcrypt.gensalt(4)).decode()


def test_no_configuration_means_open():
    assert auth.load_users({}, {}) == {}


def test_users_from_secrets_and_from_the_environment():
    users = auth.load_users({"kam_users": {"ann": {"password_hash": ANN, "role": "analyst"},
                                           "bo": {"password_hash": BO, "role": "viewer"}}}, {})
    assert {n: u.role for n, u in users.items()} == {"ann": "analyst", "bo": "viewer"}
    env = auth.load_users({}, {"KAM_USERS": f"ann:analyst:{ANN};bo:viewer:{BO}"})
    assert env == users


def test_the_password_is_checked_against_the_hash():
    users = auth.load_users({}, {"KAM_USERS": f"ann:analyst:{ANN};bo:viewer:{BO}"})
    assert auth.check(users, "ann", "ann-password").role == "analyst"
    assert auth.check(users, " bo ", "bo-password").role == "viewer"
    assert auth.check(users, "ann", "bo-password") is None
    assert auth.check(users, "nobody", "ann-password") is None
    assert auth.may_change_data("analyst") and not auth.may_change_data("viewer") and not auth.may_change_data(None)


def test_a_plain_password_or_an_unknown_role_is_refused():
    with pytest.raises(InputError, match="never stored"):
        auth.load_users({"kam_users": {"ann": {"password_hash": "hunter22", "role": "analyst"}}}, {})
    with pytest.raises(InputError, match="expected viewer or analyst"):
        auth.load_users({}, {"KAM_USERS": f"ann:admin:{ANN}"})
    with pytest.raises(InputError, match="name:role:bcrypt-hash"):
        auth.load_users({}, {"KAM_USERS": "ann-analyst"})


def test_hash_password_makes_a_bcrypt_hash_that_checks():
    hashed = auth.hash_password("long enough", rounds=4)
    assert hashed.startswith("$2b$04$") and "long enough" not in hashed
    assert bcrypt.checkpw(b"long enough", hashed.encode())
    with pytest.raises(InputError, match="at least 8"):
        auth.hash_password("short")
