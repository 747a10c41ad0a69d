"""Business hours, closed dates, auto-replies, request openings and the duty rotation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only; nothing existing is altered.
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "business_closed_dates",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("note", sa.String(200), nullable=False),
    )
    op.create_table(
        "auto_replies",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "auto_reply_texts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "auto_replies_sent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("chosen_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_auto_replies_sent_conversation", "auto_replies_sent",
                    ["conversation_id", "kind", "chosen_at"])
    op.create_index("ix_auto_replies_sent_contact", "auto_replies_sent", ["contact_id", "kind"])
    op.create_table(
        "request_openings",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_request_openings_opened_at", "request_openings", ["opened_at"])
    op.create_table(
        "duty_weeks",
        sa.Column("iso_year", sa.Integer, primary_key=True),
        sa.Column("iso_week", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    )
    op.create_table(
        "duty_weekdays",
        sa.Column("weekday", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    )


def downgrade() -> None:
    for table in ("duty_weekdays", "duty_weeks", "request_openings", "auto_replies_sent",
                  "auto_reply_texts", "auto_replies", "business_closed_dates",
                  "business_hours"):
        op.drop_table(table)
