"""Logins to the admin app: server-side sessions behind a random cookie token.

A session ends when its owner logs out, after ``IDLE`` without a request, after ``LONGEST``
in any case, or when the account is disabled. Each carries its own CSRF secret.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from botschaft.services.accounts import UserView, view_of
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.accounts import AppSession, User

IDLE = timedelta(hours=12)  # a working day with a long lunch
LONGEST = timedelta(days=14)
# Writing "last used" on every request would make every page view a write; a minute is
# precise enough for "online" and for the idle timeout.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedSession:
    token: str  # for the cookie; only its hash is stored
    csrf_secret: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    session_id: int
    user: UserView
    csrf_secret: str


def start_session(ctx: Context, user: UserView) -> IssuedSession:
    """A new session for someone who just proved who they are."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        session.add(AppSession(token_sha256=_digest(token), user_id=user.id, csrf_secret=csrf,
                               created_at=now, last_used_at=now, expires_at=now + LONGEST))
        row = session.get(User, user.id)
        if row is not None:
            row.last_seen_at = now
        record_audit(session, user.id, "user.logged_in", f"user:{user.id}", None, at=now)
    return IssuedSession(token, csrf, now + LONGEST)


def resolve_session(ctx: Context, token: str) -> SignedIn | None:
    """The live session behind a cookie token, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    now = ctx.clock.now()
    with ctx.db.read() as session:
        found = session.execute(
            select(AppSession, User).join(User, User.id == AppSession.user_id)
            .where(AppSession.token_sha256 == _digest(token))
        ).first()
    if found is None:
        return None
    row, user = found
    if user.disabled_at is not None or now >= row.expires_at or now >= row.last_used_at + IDLE:
        return None
    if now - row.last_used_at >= _TOUCH_EVERY:
        with ctx.db.write() as session:
            stored = session.get(AppSession, row.id)
            if stored is not None:
                stored.last_used_at = now
            person = session.get(User, user.id)
            if person is not None:
                person.last_seen_at = now
                user = person
    return SignedIn(row.id, view_of(user), row.csrf_secret)


def end_session(ctx: Context, token: str) -> None:
    """Log out: the session is gone; an unknown token changes nothing."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.scalar(select(AppSession).where(AppSession.token_sha256 == _digest(token)))
        if row is None:
            return
        session.delete(row)
        record_audit(session, row.user_id, "user.logged_out", f"user:{row.user_id}", None,
                     at=now)


def remove_expired_sessions(ctx: Context) -> int:
    """Delete sessions past their end (the scheduler may call this); returns how many."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        result = session.execute(
            delete(AppSession).where(
                (AppSession.expires_at <= now) | (AppSession.last_used_at <= now - IDLE)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
