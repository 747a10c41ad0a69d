"""Accounts of the admin app: the first owner, logging in, and managing the team.

Every change writes its audit row in the same transaction. Passwords are hashed with
argon2id; a setup link or a session token is random and only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botschaft.domain.accounts import (
    AccountError,
    EmailTaken,
    LastOwner,
    LoginFailed,
    SetupDone,
    SetupLinkInvalid,
    check_display_name,
    check_password,
    check_signature,
    normalise_email,
)
from botschaft.domain.errors import NotFound
from botschaft.domain.roles import Role
from botschaft.i18n import LANGUAGES
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.accounts import AppSession, User

SETUP_LINK_VALID = timedelta(days=7)


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    display_name: str
    role: Role
    language: str | None
    signature: str | None
    last_seen_at: datetime | None
    created_at: datetime
    disabled_at: datetime | None
    has_password: bool

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class CreatedUser:
    user: UserView
    setup_token: str | None  # for the one-time link; shown once, never stored


@cache
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
    return PasswordHasher()


@cache
def _unknown_user_hash() -> str:
    # Verified against when no such user exists, so that the answer takes as long.
    return _hasher().hash(secrets.token_urlsafe(16))


def owner_exists(ctx: Context) -> bool:
    with ctx.db.read() as session:
        return _owners(session) > 0


def setup_owner(
    ctx: Context, *, email: str, display_name: str, password: str, language: str | None = None
) -> UserView:
    """Create the first owner; refused once any owner exists (setup runs once)."""
    address = normalise_email(email)
    name = check_display_name(display_name)
    check_password(password, address)
    hashed = _hasher().hash(password)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if _owners(session) > 0:
            raise SetupDone("Botschaft is set up already: log in with the owner's account.")
        user = User(email=address, display_name=name, role=Role.OWNER.value,
                    password_hash=hashed, language=_language(language), created_at=now)
        session.add(user)
        session.flush()
        record_audit(session, user.id, "setup.owner_created", f"user:{user.id}",
                     {"email": address}, at=now)
        return view_of(user)


def authenticate(ctx: Context, email: str, password: str) -> UserView:
    """The active user with this address and password, or ``LoginFailed``.

    An unknown address costs the same argon2 verification as a wrong password, and the
    error is the same for every reason, so the answer does not tell which addresses exist.
    """
    try:
        address = normalise_email(email)
    except AccountError:
        address = ""
    with ctx.db.read() as session:
        user = session.scalar(select(User).where(User.email == address)) if address else None
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher().verify(stored or _unknown_user_hash(), password)
    except (VerificationError, InvalidHashError):
        stored = None
    if user is None or stored is None or user.disabled_at is not None:
        raise LoginFailed("The e-mail address or the password is wrong.")
    if _hasher().check_needs_rehash(stored):
        with ctx.db.write() as session:
            row = session.get(User, user.id)
            if row is not None:
                row.password_hash = _hasher().hash(password)
    return view_of(user)


def create_user(
    ctx: Context, actor_id: int, *, email: str, display_name: str, role: Role,
    password: str | None = None,
) -> CreatedUser:
    """Add a person to the team, with a first password or (when none) a one-time setup link."""
    address = normalise_email(email)
    name = check_display_name(display_name)
    if password is not None:
        check_password(password, address)
    hashed = _hasher().hash(password) if password is not None else None
    token = None if password is not None else secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if session.scalar(select(User.id).where(User.email == address)) is not None:
            raise EmailTaken(f"There is an account for {address} already.")
        user = User(email=address, display_name=name, role=role.value, password_hash=hashed,
                    created_at=now,
                    setup_token_sha256=_digest(token) if token else None,
                    setup_expires_at=now + SETUP_LINK_VALID if token else None)
        session.add(user)
        session.flush()
        record_audit(session, actor_id, "user.created", f"user:{user.id}",
                     {"email": address, "role": role.value,
                      "first_password": "setup_link" if token else "set"}, at=now)
        return CreatedUser(view_of(user), token)


def issue_setup_link(ctx: Context, actor_id: int, user_id: int) -> str:
    """A new one-time link for someone who forgot their password; an older link stops working.

    The current password stays valid until the link is used.
    """
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _user(session, user_id)
        user.setup_token_sha256 = _digest(token)
        user.setup_expires_at = now + SETUP_LINK_VALID
        record_audit(session, actor_id, "user.setup_link_issued", f"user:{user.id}", None,
                     at=now)
    return token


def user_for_setup_link(ctx: Context, token: str) -> UserView:
    """The person a setup link is for, while it is unused and unexpired."""
    with ctx.db.read() as session:
        return view_of(_setup_row(session, token, ctx.clock.now()))


def complete_setup_link(ctx: Context, token: str, password: str) -> UserView:
    """Set the first password through a setup link; the link is spent."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _setup_row(session, token, now)
        check_password(password, user.email)
        user.password_hash = _hasher().hash(password)
        user.setup_token_sha256 = None
        user.setup_expires_at = None
        record_audit(session, user.id, "user.password_set", f"user:{user.id}", None, at=now)
        return view_of(user)


def change_role(ctx: Context, actor_id: int, user_id: int, role: Role) -> UserView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _user(session, user_id)
        before = Role(user.role)
        if before is role:
            return view_of(user)
        if before is Role.OWNER and _owners(session) <= 1:
            raise LastOwner("The last owner cannot lose the owner's role: make another first.")
        user.role = role.value
        record_audit(session, actor_id, "user.role_changed", f"user:{user.id}",
                     {"from": before.value, "to": role.value}, at=now)
        return view_of(user)


def disable_user(ctx: Context, actor_id: int, user_id: int) -> UserView:
    """Lock a person out at once: their sessions end; their name stays on what they wrote."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _user(session, user_id)
        if user.disabled_at is not None:
            return view_of(user)
        if user.role == Role.OWNER.value and _owners(session) <= 1:
            raise LastOwner("The last owner cannot be disabled.")
        user.disabled_at = now
        session.query(AppSession).filter(AppSession.user_id == user.id).delete()
        record_audit(session, actor_id, "user.disabled", f"user:{user.id}", None, at=now)
        return view_of(user)


def enable_user(ctx: Context, actor_id: int, user_id: int) -> UserView:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _user(session, user_id)
        if user.disabled_at is not None:
            user.disabled_at = None
            record_audit(session, actor_id, "user.enabled", f"user:{user.id}", None, at=now)
        return view_of(user)


def update_profile(
    ctx: Context, user_id: int, *, display_name: str, language: str | None, signature: str,
) -> UserView:
    """A person's own name, language (None: the browser's) and reply signature."""
    name = check_display_name(display_name)
    cleaned = check_signature(signature)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        user = _user(session, user_id)
        changes = {
            field: value for field, value in
            (("display_name", name), ("language", _language(language)), ("signature", cleaned))
            if getattr(user, field) != value
        }
        for field, value in changes.items():
            setattr(user, field, value)
        if changes:
            record_audit(session, user.id, "user.profile_changed", f"user:{user.id}",
                         {"fields": sorted(changes)}, at=now)
        return view_of(user)


def change_password(ctx: Context, user_id: int, current: str, new: str) -> None:
    """Replace one's own password; the current one must be right. Other sessions end."""
    with ctx.db.read() as session:
        user = _user(session, user_id)
    authenticate(ctx, user.email, current)
    check_password(new, user.email)
    hashed = _hasher().hash(new)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = _user(session, user_id)
        row.password_hash = hashed
        record_audit(session, user_id, "user.password_changed", f"user:{user_id}", None, at=now)


def list_users(ctx: Context) -> list[UserView]:
    """Everyone, the active first, then by name."""
    with ctx.db.read() as session:
        rows = session.scalars(select(User).order_by(User.disabled_at.is_not(None),
                                                     User.display_name, User.id))
        return [view_of(r) for r in rows]


def get_user(ctx: Context, user_id: int) -> UserView:
    with ctx.db.read() as session:
        return view_of(_user(session, user_id))


def view_of(row: User) -> UserView:
    return UserView(
        id=row.id, email=row.email, display_name=row.display_name, role=Role(row.role),
        language=row.language, signature=row.signature, last_seen_at=row.last_seen_at,
        created_at=row.created_at, disabled_at=row.disabled_at,
        has_password=row.password_hash is not None,
    )


def _owners(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(User)
        .where(User.role == Role.OWNER.value, User.disabled_at.is_(None))
    ) or 0


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user #{user_id}.")
    return user


def _setup_row(session: Session, token: str, now: datetime) -> User:
    user = session.scalar(select(User).where(User.setup_token_sha256 == _digest(token)))
    if (user is None or user.setup_expires_at is None or user.setup_expires_at <= now
            or user.disabled_at is not None):
        raise SetupLinkInvalid("This setup link is used, expired or unknown: ask the owner"
                               " for a new one.")
    return user


def _language(language: str | None) -> str | None:
    return language if language in LANGUAGES else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
