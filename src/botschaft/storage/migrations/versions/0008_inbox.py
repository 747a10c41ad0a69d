"""The team inbox: notes, canned responses, labels, attachments, changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MESSAGE_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    # New tables only: conversations, messages and the ledger are not touched.
    op.create_table(
        "inbox_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_inbox_notes_conversation", "inbox_notes", ["conversation_id", "id"])
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shortcut", sa.String(32), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("color", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "conversation_labels",
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  primary_key=True),
        sa.Column("label_id", sa.Integer, sa.ForeignKey("labels.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_conversation_labels_label", "conversation_labels",
                    ["label_id", "conversation_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("message_id", _MESSAGE_ID, sa.ForeignKey("messages.id")),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("mime_type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_attachments_message", "attachments", ["message_id"])
    op.create_table(
        "inbox_events",
        sa.Column("id", _MESSAGE_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_inbox_events_conversation", "inbox_events", ["conversation_id", "id"])
    # An index, no change of the table: "mine, newest first" without sorting them all.
    op.create_index("ix_conversations_assignee_activity", "conversations",
                    ["assignee_id", "last_message_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_assignee_activity", "conversations")
    for table in ("inbox_events", "attachments", "conversation_labels", "labels",
                  "canned_responses", "inbox_notes"):
        op.drop_table(table)
