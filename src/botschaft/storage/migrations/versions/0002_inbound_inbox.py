"""Inbound events (durable webhook intake), conversations, messages, API tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("channel_identities") as batch:
        batch.add_column(sa.Column("last_inbound_at", UTCDateTime))
    op.create_table(
        "inbound_events",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("handled_at", UTCDateTime),
    )
    op.create_index("ix_inbound_events_state", "inbound_events", ["state", "id"])
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_message_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("contact_id", "channel", name="uq_conversation"),
    )
    op.create_index("ix_conversations_last_message_at", "conversations", ["last_message_at"])
    op.create_table(
        "messages",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("purpose_kind", sa.String(24)),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("payload", sa.Text),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("skip_reason", sa.String(32)),
        sa.Column("error_code", sa.String(32)),
        sa.Column("error_detail", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("status_at", UTCDateTime),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_provider_id", "messages", ["channel", "provider_message_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )


def downgrade() -> None:
    for table in ("api_tokens", "messages", "conversations", "inbound_events"):
        op.drop_table(table)
    with op.batch_alter_table("channel_identities") as batch:
        batch.drop_column("last_inbound_at")
