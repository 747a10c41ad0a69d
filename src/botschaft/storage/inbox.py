"""Tables of the team inbox: notes, canned responses, labels, attachments, the change feed.

New tables only (a conversation's assignee is ``conversations.assignee_id``, the admin
app's); agents are its users (``users.id``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botschaft.storage.models import Base, Conversation
from botschaft.storage.types import UTCDateTime

_MESSAGE_ID = BigInteger().with_variant(Integer, "sqlite")


class InboxNote(Base):
    """An internal note in a conversation: for the team, never sent to the person."""

    __tablename__ = "inbox_notes"
    __table_args__ = (Index("ix_inbox_notes_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedResponse(Base):
    """A prepared answer, typed as ``/shortcut`` in the composer."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Label(Base):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    color: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationLabel(Base):
    __tablename__ = "conversation_labels"
    __table_args__ = (Index("ix_conversation_labels_label", "label_id", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"),
                                                 primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"),
                                          primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A file in a conversation, its bytes under ``<data_dir>/attachments``.

    Agents' uploads get ``token``: the unguessable address a provider fetches the file
    from (WhatsApp and Messenger take media by link). Inbound media are downloaded from the
    provider on first view and kept here.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_message", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int | None] = mapped_column(_MESSAGE_ID, ForeignKey("messages.id"))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))  # relative to <data_dir>/attachments
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxEvent(Base):
    """The inbox's change feed: one row per change a live view must show (a note, a new
    status, an assignment, labels). Views follow it by id, across processes."""

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(_MESSAGE_ID, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# "Mine, newest first" walks this index in order instead of sorting every conversation the
# agent ever had (an index only: the conversations table itself is not changed).
Index("ix_conversations_assignee_activity", Conversation.assignee_id,
      Conversation.last_message_at, Conversation.id)
