"""Tables of the admin app: the people who log in, their sessions, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime


class User(Base):
    """A person of the business: owner, marketer or agent. Never deleted, only disabled."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # owner | marketer | agent
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None: not set yet
    language: Mapped[str | None] = mapped_column(String(8))  # de | en | None: the browser's
    signature: Mapped[str | None] = mapped_column(String(100))  # under the agent's replies
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A one-time link to choose the first password; only its SHA-256 is kept.
    setup_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AppSession(Base):
    """A login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "app_sessions"
    __table_args__ = (Index("ix_app_sessions_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what: written in the same transaction as the change it records."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(64))  # "user.created", "consent.withdrawn"
    target: Mapped[str | None] = mapped_column(String(200))  # "user:3", "contact:17"
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
