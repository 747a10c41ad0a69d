"""Tables of the business settings kept in the database: hours, auto-replies, the rotation.

These are the owner's settings, edited in the app (listmonk's split: infrastructure in the
config file, business in the database). The time zone and the holiday country and state
are infrastructure settings (``BOTSCHAFT_BUSINESS__*``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

# The rotation names users; importing their table here puts it in the metadata (and with
# it the target of conversations.assignee_id) wherever these tables are used.
from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime


class WeeklyHours(Base):
    """One row: the week's opening intervals. No row: hours not set, always open."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # {"0": ["09:00-12:30", "13:30-18:00"], ...}: weekday (0 = Monday) to intervals.
    week: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClosedDate(Base):
    """A day the business is closed on besides the public holidays."""

    __tablename__ = "business_closed_dates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    note: Mapped[str] = mapped_column(String(200), default="")


class AutoReply(Base):
    """One kind of auto-reply (away, greeting, receipt): on or off."""

    __tablename__ = "auto_replies"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AutoReplyText(Base):
    """The owner's wording of one kind in one language; absent: the catalogue's default."""

    __tablename__ = "auto_reply_texts"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class AutoReplySent(Base):
    """An auto-reply chosen for a person's message: what the repetition rules look back on.

    Written in the transaction that handles the message, so a second message in the same
    batch already sees it. Whether the gate then let it go is the outbound row's business.
    """

    __tablename__ = "auto_replies_sent"
    __table_args__ = (
        Index("ix_auto_replies_sent_conversation", "conversation_id", "kind", "chosen_at"),
        Index("ix_auto_replies_sent_contact", "contact_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestOpening(Base):
    """A person's message that opened or reopened a conversation: the start of a request.

    The response-time badge measures from these to the first agent reply after each.
    """

    __tablename__ = "request_openings"
    __table_args__ = (Index("ix_request_openings_opened_at", "opened_at"),)

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DutyWeek(Base):
    """Who is on duty in one ISO week; wins over the weekday plan."""

    __tablename__ = "duty_weeks"

    iso_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    iso_week: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class DutyWeekday(Base):
    """Who is on duty on a weekday (0 = Monday), every week."""

    __tablename__ = "duty_weekdays"

    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
