"""Status reports that arrive before the provider id is stored; the gate's message index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An index, no change of the table: the gate's "last STOP confirmation" lookup.
    op.create_index("ix_messages_kind", "messages",
                    ["conversation_id", "purpose_kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_kind", "messages")
