"""Tables of the web opt-in: sign-up pages and the opt-in requests made on them or in chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime


class SignupPage(Base):
    """A page at ``/join/<slug>``: its channels, purpose, pinned consent texts and limits."""

    __tablename__ = "signup_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    channels: Mapped[list[str]] = mapped_column(JSON)  # ChannelKind values, in display order
    purpose: Mapped[str] = mapped_column(String(64))
    consent_text_key: Mapped[str] = mapped_column(String(100))
    # {"de": 3, "en": 4}: the published versions the page shows, pinned at creation so that
    # what a visitor saw is known exactly.
    consent_text_ids: Mapped[dict[str, int]] = mapped_column(JSON)
    whatsapp_template: Mapped[str] = mapped_column(String(512))
    business_number: Mapped[str | None] = mapped_column(String(32))
    click_to_chat: Mapped[bool] = mapped_column(Boolean)
    keyword_default: Mapped[bool] = mapped_column(Boolean)
    requests_per_number: Mapped[int] = mapped_column(Integer)
    number_period_hours: Mapped[int] = mapped_column(Integer)
    submissions_per_ip: Mapped[int] = mapped_column(Integer)
    ip_period_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean)


class OptInRequest(Base):
    """One person's way in, waiting for their own word in the chat.

    ``web_form``: a number was typed on a page; the ledger holds ``requested`` and the double
    opt-in message went out. ``page_agreement``: a visitor agreed without a number; ``code``
    ties their first chat message to this agreement (its time, IP and text). ``keyword``: a
    person wrote START and was sent the consent text; their next opt-in word agrees to it.
    """

    __tablename__ = "opt_in_requests"
    __table_args__ = (
        Index("ix_opt_in_requests_ip", "ip", "created_at"),
        Index("ix_opt_in_requests_contact", "contact_id", "channel", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # web_form | page_agreement | keyword
    page_id: Mapped[int | None] = mapped_column(ForeignKey("signup_pages.id"))
    channel: Mapped[str | None] = mapped_column(String(32))  # known once the person writes
    purpose: Mapped[str] = mapped_column(String(64))
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("consent_texts.id"))
    language: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    state: Mapped[str] = mapped_column(String(16))  # open | redeemed | expired | cancelled
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
