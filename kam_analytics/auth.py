"""Who may change data (issue 10): optional sign-in with two roles. Viewers read every page;
analysts may also import, undo, restore, remove a person and change settings. With no users
configured the app runs open (everyone an analyst), as on a laptop, and says so.

Users come from `.streamlit/secrets.toml`:

    [kam_users.ann]
    password_hash = "$2b$12$..."      # python -m kam_analytics hash-password
    role = "analyst"

or from the environment, `KAM_USERS="ann:analyst:$2b$12$...;bo:viewer:$2b$12$..."`. Only
bcrypt hashes are stored, never a password. (OIDC sign-in through Streamlit's st.login is
the other option for a team with an identity provider; README "Sign-in".)"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Mapping

from .errors import InputError

ROLES = ("viewer", "analyst")
ENV = "KAM_USERS"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: bytes


def _user(name: str, role: str, hashed: str, where: str) -> User:
    if role not in ROLES:
        raise InputError(f"{where}: user {name!r} has the role {role!r}; expected viewer or analyst")
    if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
        raise InputError(f"{where}: user {name!r} has no bcrypt password_hash (it must start with $2b$); make one "
                         "with `python -m kam_analytics hash-password` - a plain password is never stored")
    return User(name, role, hashed.encode())


def load_users(secrets: Mapping | None = None, environ: Mapping | None = None) -> dict[str, User]:
    """The configured users: secrets.toml's [kam_users] table, else $KAM_USERS; {} when
    neither is set (the app runs open)."""
    environ = os.environ if environ is None else environ
    users: dict[str, User] = {}
    table = (secrets or {}).get("kam_users") or {}
    for name, entry in table.items():
        entry = dict(entry)
        users[name] = _user(name, str(entry.get("role", "viewer")), str(entry.get("password_hash", "")),
                            ".streamlit/secrets.toml [kam_users]")
    if not users and environ.get(ENV):
        for item in environ[ENV].split(";"):
            if not item.strip():
                continue
            parts = item.strip().split(":", 2)
            if len(parts) != 3:
                raise InputError(f"${ENV}: expected name:role:bcrypt-hash entries separated by ';', got {item[:20]!r}…")
            users[parts[0]] = _user(parts[0], parts[1], parts[2], f"${ENV}")
    return users


def check(users: dict[str, User], name: str, password: str) -> User | None:
    """The user when the password matches its bcrypt hash, else None (same answer, and about
    the same time, for an unknown name)."""
    import bcrypt

    user = users.get(name.strip())
    hashed = user.password_hash if user else _dummy()
    ok = bcrypt.checkpw(password.encode(), hashed)
    return user if (user and ok) else None


def hash_password(password: str, rounds: int = 12) -> str:
    import bcrypt

    if len(password) < 8:
        raise InputError("a password needs at least 8 characters")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


@cache
def _dummy() -> bytes:
    """A hash to check unknown names against, so that they take as long as known ones."""
    import bcrypt

    return bcrypt.hashpw(os.urandom(16), bcrypt.gensalt(12))


def may_change_data(role: str | None) -> bool:
    return role == "analyst"
