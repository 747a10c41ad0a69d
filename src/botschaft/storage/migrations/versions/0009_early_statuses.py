"""Status reports that arrive before the provider id is stored; the gate's message index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_statuses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("provider_message_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", UTCDateTime, nullable=False),
        sa.Column("error_code", sa.String(32)),
        sa.Column("error_detail", sa.Text),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("channel", "provider_message_id", "status", name="uq_early_status"),
    )
    op.create_index("ix_early_statuses_received", "early_statuses", ["received_at"])
    # An index, no change of the table: the gate's "last STOP confirmation" lookup.
    op.create_index("ix_messages_kind", "messages",
                    ["conversation_id", "purpose_kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_kind", "messages")
    op.drop_table("early_statuses")
