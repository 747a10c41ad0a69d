"""Sign-up pages (/join/<slug>) and the opt-in requests made on them or in chats.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: the ledger's tables are not touched (a batch copy of consent_events
    # would drop its append-only triggers on SQLite).
    op.create_table(
        "signup_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("consent_text_key", sa.String(100), nullable=False),
        sa.Column("consent_text_ids", sa.JSON, nullable=False),
        sa.Column("whatsapp_template", sa.String(512), nullable=False),
        sa.Column("business_number", sa.String(32)),
        sa.Column("click_to_chat", sa.Boolean, nullable=False),
        sa.Column("keyword_default", sa.Boolean, nullable=False),
        sa.Column("requests_per_number", sa.Integer, nullable=False),
        sa.Column("number_period_hours", sa.Integer, nullable=False),
        sa.Column("submissions_per_ip", sa.Integer, nullable=False),
        sa.Column("ip_period_minutes", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "opt_in_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("signup_pages.id")),
        sa.Column("channel", sa.String(32)),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("consent_text_id", sa.Integer, sa.ForeignKey("consent_texts.id"),
                  nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("settled_at", UTCDateTime),
    )
    op.create_index("ix_opt_in_requests_ip", "opt_in_requests", ["ip", "created_at"])
    op.create_index(
        "ix_opt_in_requests_contact", "opt_in_requests", ["contact_id", "channel", "state"]
    )


def downgrade() -> None:
    op.drop_table("opt_in_requests")
    op.drop_table("signup_pages")
