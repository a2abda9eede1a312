"""Staff accounts, login sessions and login throttling.

Passwords are hashed with Argon2id (argon2-cffi). A session is 32 random bytes
in an HttpOnly cookie; the database keeps only its sha256, so a leaked table
cannot be replayed. Each session has its own CSRF token.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from webapp.staff import tables as t
from storage.time import aware, utcnow as now
from webapp.staff.audit import audit

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")

_hasher = PasswordHasher()


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user name is unknown, so that both cases take as long.
    return _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A reason shown to the person who asked (bad name, weak password, ...)."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_request_contacts(self) -> bool:
        """The front desk calls patients back: it may reveal a request's contact details
        (each reveal audit-logged). Reviewers of conversations keep masked data."""
        return self.role in ("admin", "desk")


@dataclass(frozen=True)
class Session:
    user: StaffUser
    csrf_token: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise AccountError("A user name has 2-100 letters, digits or . _ @ - and starts with a letter or digit.")
    return username


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"A password has at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def check_role(role: str) -> str:
    if role not in t.ROLES:
        raise AccountError("The role is reviewer, desk or admin.")
    return role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- accounts -------------------------------------------------------------------

def create_user(conn, username: str, password: str, role: str, actor: str,
                reset: bool = False, ip: Optional[str] = None) -> str:
    """Create an account (or, with ``reset``, set the password and role of an existing one)."""
    username = check_username(username)
    check_password(password)
    check_role(role)
    existing = conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first()
    if existing and not reset:
        raise AccountError(f"An account named {username} exists already.")
    if existing:
        conn.execute(t.users.update().where(t.users.c.id == existing.id).values(
            password_hash=hash_password(password), role=role, active=True))
        conn.execute(t.sessions.delete().where(t.sessions.c.user_id == existing.id))
        audit(conn, actor, "account_reset", f"user:{username}", f"role={role}", ip)
        return "updated"
    conn.execute(t.users.insert().values(
        username=username, password_hash=hash_password(password), role=role,
        active=True, created_at=now()))
    audit(conn, actor, "account_create", f"user:{username}", f"role={role}", ip)
    return "created"


def list_users(conn) -> List[sa.engine.Row]:
    return list(conn.execute(sa.select(t.users).order_by(t.users.c.username)))


def active_usernames(conn) -> List[str]:
    return [r.username for r in conn.execute(
        sa.select(t.users.c.username).where(t.users.c.active.is_(True)).order_by(t.users.c.username))]


def _active_admins(conn) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(t.users).where(
        t.users.c.role == "admin", t.users.c.active.is_(True))).scalar_one()


def update_user(conn, user_id: int, actor: StaffUser, role: Optional[str] = None,
                active: Optional[bool] = None, password: Optional[str] = None,
                ip: Optional[str] = None) -> None:
    row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
    if row is None:
        raise AccountError("No such account.")
    values = {}
    if role is not None:
        values["role"] = check_role(role)
    if active is not None:
        values["active"] = bool(active)
    if password is not None:
        values["password_hash"] = hash_password(check_password(password))
    loses_admin = row.role == "admin" and row.active and (
        values.get("role", "admin") != "admin" or values.get("active", True) is False)
    if loses_admin and _active_admins(conn) <= 1:
        raise AccountError("The last active admin cannot be demoted or deactivated.")
    if not values:
        return
    conn.execute(t.users.update().where(t.users.c.id == user_id).values(**values))
    if values.get("active") is False or "password_hash" in values or "role" in values:
        conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))
    detail = ", ".join(f"{k}={v}" for k, v in values.items() if k != "password_hash")
    if "password_hash" in values:
        detail = ", ".join(filter(None, [detail, "password changed"]))
    audit(conn, actor.username, "account_update", f"user:{row.username}", detail, ip)


def change_own_password(conn, user: StaffUser, current: str, new: str,
                        ip: Optional[str] = None) -> None:
    row = conn.execute(sa.select(t.users).where(t.users.c.id == user.id)).first()
    if row is None or not _verify(row.password_hash, current or ""):
        raise AccountError("The current password is wrong.")
    conn.execute(t.users.update().where(t.users.c.id == user.id).values(
        password_hash=hash_password(check_password(new))))
    audit(conn, user.username, "password_change", f"user:{user.username}", None, ip)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- logins -----------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    token: Optional[str] = None  # set on success
    throttled: bool = False


def login(conn, username: str, password: str, ip: str, settings) -> LoginResult:
    """Check a login; on success open a session and return its cookie value.

    Throttled attempts are refused before the password is checked, so guessing
    cannot continue while the limit holds.
    """
    name = (username or "").strip()[:100]
    key = name.lower()
    ip = (ip or "unknown")[:64]
    current = now()
    window_start = current - timedelta(minutes=settings.staff_login_window_minutes)
    conn.execute(t.login_failures.delete().where(t.login_failures.c.at < window_start))
    by_name = conn.execute(sa.select(sa.func.count()).select_from(t.login_failures).where(
        t.login_failures.c.username == key, t.login_failures.c.at >= window_start)).scalar_one()
    by_ip = conn.execute(sa.select(sa.func.count()).select_from(t.login_failures).where(
        t.login_failures.c.ip == ip, t.login_failures.c.at >= window_start)).scalar_one()
    if by_name >= settings.staff_login_max_failures or by_ip >= settings.staff_login_max_failures_ip:
        audit(conn, name or "-", "login_throttled", None, None, ip)
        return LoginResult(throttled=True)

    row = conn.execute(sa.select(t.users).where(t.users.c.username == name)).first() if name else None
    ok = _verify(row.password_hash if row else _dummy_hash(), (password or "")[:MAX_PASSWORD_LENGTH])
    if not (row and ok and row.active):
        conn.execute(t.login_failures.insert().values(username=key, ip=ip, at=current))
        audit(conn, name or "-", "login_failed", None, None, ip)
        return LoginResult()

    conn.execute(t.login_failures.delete().where(t.login_failures.c.username == key))
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(t.users.update().where(t.users.c.id == row.id).values(
            password_hash=hash_password(password)))
    conn.execute(t.users.update().where(t.users.c.id == row.id).values(last_login_at=current))
    conn.execute(t.sessions.delete().where(t.sessions.c.expires_at < current))
    token = secrets.token_urlsafe(32)
    conn.execute(t.sessions.insert().values(
        token_hash=token_hash(token), user_id=row.id, csrf_token=secrets.token_urlsafe(32),
        created_at=current, last_seen_at=current,
        expires_at=current + timedelta(minutes=settings.staff_session_minutes)))
    audit(conn, row.username, "login", None, None, ip)
    return LoginResult(token=token)


def load_session(conn, token: Optional[str], settings) -> Optional[Session]:
    """The session of a cookie value, or None when unknown, expired or idle too long."""
    if not token or len(token) > 200:
        return None
    key = token_hash(token)
    row = conn.execute(
        sa.select(t.sessions, t.users.c.username, t.users.c.role, t.users.c.active)
        .join(t.users, t.users.c.id == t.sessions.c.user_id)
        .where(t.sessions.c.token_hash == key)).first()
    if row is None:
        return None
    current = now()
    idle_limit = aware(row.last_seen_at) + timedelta(minutes=settings.staff_idle_minutes)
    if not row.active or current >= aware(row.expires_at) or current >= idle_limit:
        conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == key))
        return None
    # Writing on every request is needless; a minute's resolution is enough for idling.
    if current - aware(row.last_seen_at) > timedelta(seconds=60):
        conn.execute(t.sessions.update().where(t.sessions.c.token_hash == key).values(
            last_seen_at=current))
    return Session(StaffUser(row.user_id, row.username, row.role), row.csrf_token)


def logout(conn, token: Optional[str], user: StaffUser, ip: Optional[str]) -> None:
    if token:
        conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash(token)))
    audit(conn, user.username, "logout", None, None, ip)
