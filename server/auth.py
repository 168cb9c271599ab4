"""Users, Argon2id passwords, expiring and revocable bearer tokens, and the login rate limit."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.clock import utc_now
from server.storage import ServerStore, Tx

ROLES = ("rep", "manager", "finance", "admin")
TOKEN_SECONDS = 12 * 3600          # a working day and a bit; then log in again
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_MAX_FAILURES = 5             # per email in the window; the sixth try is refused until it passes
MIN_PASSWORD = 8

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the email is unknown takes as long as a real check, so the
# answer's timing does not tell which emails exist.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class AuthError(Exception):
    """Refused: the message is safe to show (never says whether an email exists)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who is asking: the server's user row, as every authorization check sees it."""

    user_id: int
    email: str
    role: str
    rep_uid: str | None


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 suffices; the database never holds a usable token.
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_user(tx: Tx, email: str, password: str, role: str, rep_uid: str | None = None) -> int:
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if "@" not in email:
        raise ValueError(f"email: {email!r} is not an email address")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    if role == "rep" and not rep_uid:
        raise ValueError("rep_uid: a rep user must name the rep they are (their rows are what they see)")
    if tx.one("SELECT id FROM users WHERE email = ?", (email,)):
        raise ValueError(f"email: {email} already has an account")
    row = tx.one("INSERT INTO users (email, password_hash, role, rep_uid, created_at) VALUES (?, ?, ?, ?, ?) "
                 "RETURNING id", (email, _hasher.hash(password), role, rep_uid, utc_now()))
    return int(row["id"])


def login(store: ServerStore, email: str, password: str, *, now: float | None = None) -> tuple[str, float, Principal]:
    """Check the password; returns (token, expires_at epoch seconds, principal) or raises AuthError."""
    email = normalise_email(email)
    now = time.time() if now is None else now
    with store.transaction() as tx:
        failures = tx.one("SELECT count(*) AS n FROM login_failures WHERE email = ? AND at > ?",
                          (email, now - LOGIN_WINDOW_SECONDS))["n"]
        if failures >= LOGIN_MAX_FAILURES:
            raise AuthError("too many failed logins for this email; wait 15 minutes and try again", 429)
        user = tx.one("SELECT * FROM users WHERE email = ?", (email,))
    ok = False
    try:
        ok = _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user["disabled_at"]:
        with store.transaction() as tx:  # committed before refusing: the failure must count
            tx.execute("INSERT INTO login_failures (email, at) VALUES (?, ?)", (email, now))
        raise AuthError("wrong email or password")
    with store.transaction() as tx:
        tx.execute("DELETE FROM login_failures WHERE email = ?", (email,))
        token = secrets.token_urlsafe(32)
        expires = now + TOKEN_SECONDS
        tx.execute("INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                   (_token_hash(token), user["id"], utc_now(), expires))
    return token, expires, Principal(int(user["id"]), user["email"], user["role"], user["rep_uid"])


def authenticate(store: ServerStore, token: str, *, now: float | None = None) -> Principal:
    """The user a bearer token belongs to; AuthError when unknown, expired or revoked."""
    with store.transaction(write=False) as tx:
        return authenticate_in(tx, token, now=now)


def authenticate_in(tx: Tx, token: str, *, now: float | None = None) -> Principal:
    """authenticate() inside the caller's transaction, so a push or pull and its token check see one
    moment: a revoke that commits first refuses the request."""
    now = time.time() if now is None else now
    row = tx.one("SELECT t.expires_at, t.revoked_at, u.id, u.email, u.role, u.rep_uid, u.disabled_at "
                 "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", (_token_hash(token),))
    if row is None:
        raise AuthError("not logged in (unknown token); run `fieldatlas login`")
    if row["revoked_at"] or row["disabled_at"]:
        raise AuthError("this login was revoked; run `fieldatlas login` again")
    if row["expires_at"] <= now:
        raise AuthError("this login has expired; run `fieldatlas login` again")
    return Principal(int(row["id"]), row["email"], row["role"], row["rep_uid"])


def end_token(tx: Tx, token: str) -> None:
    """Sign out: this one token stops working (the user's other logins go on)."""
    tx.execute("UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
               (utc_now(), _token_hash(token)))


def revoke(tx: Tx, email: str) -> int:
    """Revoke every token of a user; returns how many were live."""
    user = tx.one("SELECT id FROM users WHERE email = ?", (normalise_email(email),))
    if user is None:
        raise LookupError(f"email: no user {email}")
    rows = tx.all("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING token_hash",
                  (utc_now(), user["id"]))
    return len(rows)
