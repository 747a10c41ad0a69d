"""The tables. Each model is plain data; rules live in domain/, use cases in services/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    # The person's last message on this channel: opens the service window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
    terms: Mapped[str | None] = mapped_column(Text)  # JSON: pause until, per period
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


class InboundEvent(Base):
    """A webhook event, stored before the provider gets its 200 and handled afterwards.

    ``dedupe_key`` makes a provider's retry of the same message a no-op. Events whose
    handling failed stay here with state ``failed`` and the error: the dead-letter place.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (Index("ix_inbound_events_state", "state", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(Base):
    """One thread per contact and channel in the team inbox."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("contact_id", "channel", name="uq_conversation"),
        Index("ix_conversations_assignee", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The agent who looks after it; None: nobody yet.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contact: Mapped[Contact] = relationship()


class Message(Base):
    """A message in or out. Outbound rows are written before sending (at most once)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_provider_id", "channel", "provider_message_id"),
        # What the gate asks on every decision: the last STOP confirmation of a conversation.
        Index("ix_messages_kind", "conversation_id", "purpose_kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    author: Mapped[str] = mapped_column(String(16))  # contact | bot | agent | system
    purpose_kind: Mapped[str | None] = mapped_column(String(24))  # gate MessageKind, outbound
    content_type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)  # JSON: media, buttons, template
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The other table modules, so that Base.metadata always knows every table: conversations
# name their assignee in users, and the schema check compares the whole metadata.
from botschaft.storage import (  # noqa: E402
    accounts,  # noqa: F401
    broadcast,  # noqa: F401
    business,  # noqa: F401
    contact_fields,  # noqa: F401
    early_statuses,  # noqa: F401
    inbox,  # noqa: F401
    signup,  # noqa: F401
)
