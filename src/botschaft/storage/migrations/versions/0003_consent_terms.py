"""Consent terms: the preference page's pause and frequency choices, kept in the ledger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch copy: copying the ledger would drop its
    # append-only triggers on SQLite.
    op.add_column("consent_events", sa.Column("terms", sa.Text))


def downgrade() -> None:
    op.drop_column("consent_events", "terms")
