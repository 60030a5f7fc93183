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


# --- a sign-in that survives a reload (issue 27, item 9) -------------------------------------
# After a password sign-in the browser keeps a signed, expiring token in a cookie; a reload or
# a direct link reads it back instead of asking for the password again. The token names the
# user and a fingerprint of their password hash (a changed password or a removed user ends every
# session), carries its own expiry, and is signed with a key kept beside the sign-in settings
# (`.streamlit/kam_session.key`, made on first use, ignored by git). Signing out revokes the
# token on the server too, so a copy of the cookie is worthless afterwards.

SESSION_COOKIE = "kam_session"
SESSION_HOURS_ENV = "KAM_SESSION_HOURS"
SESSION_KEY_ENV = "KAM_SESSION_KEY_FILE"
DEFAULT_SESSION_HOURS = 12.0
_SALT = "kam-analytics-session"


def session_hours(environ: Mapping | None = None) -> float:
    """How long a sign-in lasts: $KAM_SESSION_HOURS, default 12 (a working day)."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get(SESSION_HOURS_ENV, "")).strip()
    if not raw:
        return DEFAULT_SESSION_HOURS
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 24 * 90:
        raise InputError(f"${SESSION_HOURS_ENV} is {raw!r}; expected a number of hours above 0 and at most 2160 (90 days)")
    return hours


def session_key_file(default: os.PathLike | str, environ: Mapping | None = None):
    """Where the signing key lives: $KAM_SESSION_KEY_FILE, else `default` (the app passes
    `.streamlit/kam_session.key`, beside secrets.toml)."""
    from pathlib import Path

    environ = os.environ if environ is None else environ
    return Path(environ.get(SESSION_KEY_ENV) or default)


def session_key(path: os.PathLike | str) -> bytes:
    """The signing key at `path`, made (32 random bytes, readable by its owner only) when the
    file is missing. Two processes starting together agree: the first writer wins."""
    from pathlib import Path

    path = Path(path)
    try:
        return _session_key(path)
    except OSError as exc:
        raise InputError(f"the sign-in key {path} cannot be read or made ({exc.strerror or exc}); "
                         f"set ${SESSION_KEY_ENV} to a file in a folder the app may write") from None


def _session_key(path):
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = b""
    if len(key) >= 32:
        return key
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:            # another process made it meanwhile (or a short file: redo)
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
        path.unlink()
        return _session_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(fresh + b"\n")
    return fresh


def _fingerprint(user: User) -> str:
    import hashlib

    return hashlib.sha256(b"kam-session:" + user.password_hash).hexdigest()[:24]


def _serializer(key: bytes):
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(key, salt=_SALT)


def make_session(key: bytes, user: User, hours: float = DEFAULT_SESSION_HOURS, now: float | None = None) -> str:
    """A signed token for `user`, valid `hours` from `now` (seconds since the epoch)."""
    import secrets
    import time

    now = time.time() if now is None else now
    return _serializer(key).dumps({"u": user.name, "h": _fingerprint(user), "exp": int(now + hours * 3600),
                                   "n": secrets.token_urlsafe(12)})


def _claims(key: bytes, token: str | None) -> dict | None:
    from itsdangerous import BadData

    if not token or len(token) > 4096:
        return None
    try:
        claims = _serializer(key).loads(token)
    except BadData:
        return None
    if not isinstance(claims, dict) or not all(isinstance(claims.get(k), t) for k, t in
                                               (("u", str), ("h", str), ("exp", int), ("n", str))):
        return None
    return claims


def read_session(key: bytes, token: str | None, users: dict[str, User], revoked_file=None,
                 now: float | None = None) -> User | None:
    """The user a token signs in, or None when it is missing, forged or altered, expired,
    revoked, or names a user who is gone or whose password has changed since."""
    import time

    claims = _claims(key, token)
    if claims is None:
        return None
    now = time.time() if now is None else now
    if claims["exp"] <= now:
        return None
    user = users.get(claims["u"])
    if user is None or claims["h"] != _fingerprint(user):
        return None
    if revoked_file is not None and claims["n"] in _revoked(revoked_file, now):
        return None
    return user


def session_seconds_left(key: bytes, token: str | None, now: float | None = None) -> int:
    import time

    claims = _claims(key, token)
    now = time.time() if now is None else now
    return max(0, int(claims["exp"] - now)) if claims else 0


def _revoked(path, now: float) -> set[str]:
    from pathlib import Path

    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return set()
    out = set()
    for line in lines:
        nonce, _, exp = line.partition(" ")
        if exp.isdigit() and int(exp) > now:
            out.add(nonce)
    return out


def revoke_session(key: bytes, token: str | None, path, now: float | None = None) -> None:
    """Sign-out: the token's nonce is written to the revocation list at `path` until the token
    would have expired anyway (expired entries are dropped on each write)."""
    import time
    from pathlib import Path

    claims = _claims(key, token)
    if claims is None:
        return
    now = time.time() if now is None else now
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)   # one short write: safe beside other processes
    with os.fdopen(fd, "a") as f:
        f.write(f"{claims['n']} {claims['exp']}\n")
    lines = path.read_text().splitlines()
    if len(lines) > 500:                # drop the entries whose tokens have expired anyway
        keep = [ln for ln in lines if ln.partition(" ")[2].isdigit() and int(ln.partition(" ")[2]) > now]
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(ln + "\n" for ln in keep))
        os.replace(tmp, path)


def oidc_role(roles: Mapping, email: str | None) -> str:
    """The role of an identity-provider user: [kam_oidc_roles] by e-mail (case ignored), else
    viewer."""
    wanted = (email or "").strip().casefold()
    for mail, role in (roles or {}).items():
        if role not in ROLES:
            raise InputError(f".streamlit/secrets.toml [kam_oidc_roles]: {mail!r} has the role {role!r}; "
                             "expected viewer or analyst")
        if wanted and str(mail).strip().casefold() == wanted:
            return role
    return "viewer"
