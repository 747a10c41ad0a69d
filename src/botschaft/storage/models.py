"""The tables. Each model is plain data; rules live in domain/, use cases in services/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from botschaft.storage.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="contact", order_by="ChannelIdentity.id"
    )


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_identity_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship(back_populates="identities")


class ConsentText(Base):
    """Immutable: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "consent_texts"
    __table_args__ = (
        UniqueConstraint("key", "language", "version", name="uq_consent_text_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    consent_purpose: Mapped[str] = mapped_column(String(64))
    intro: Mapped[str] = mapped_column(Text)
    company: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(Text)
    withdrawal: Mapped[str] = mapped_column(Text)
    privacy_policy_url: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentEvent(Base):
    """The append-only consent ledger; ``seq`` is gapless and set under the chain-head lock."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_subject", "contact_id", "channel", "purpose", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_text_id: Mapped[int | None] = mapped_column(ForeignKey("consent_texts.id"))
    text_hash: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # Personal data, covered by the chain through the salted ``personal_digest``.
    address: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    salt: Mapped[str | None] = mapped_column(String(32))
    personal_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """One row: the last ledger row's seq and hash. Locking it serialises appends."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
