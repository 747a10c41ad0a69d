"""The admin app's accounts: users, sessions, the audit log, and a conversation's assignee.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("language", sa.String(8)),
        sa.Column("signature", sa.String(100)),
        sa.Column("last_seen_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("disabled_at", UTCDateTime),
        sa.Column("setup_token_sha256", sa.String(64), unique=True),
        sa.Column("setup_expires_at", UTCDateTime),
    )
    op.create_table(
        "app_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_app_sessions_user", "app_sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("detail", sa.JSON),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # SQLite adds a column with its REFERENCES clause in place; a batch copy of the table
    # would have to drop conversations while messages still point at it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users(id)")
    else:
        op.add_column("conversations", sa.Column("assignee_id", sa.Integer))
        op.create_foreign_key(
            "fk_conversations_assignee", "conversations", "users", ["assignee_id"], ["id"]
        )
    op.create_index("ix_conversations_assignee", "conversations", ["assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_assignee", "conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("assignee_id")
    op.drop_table("audit_log")
    op.drop_table("app_sessions")
    op.drop_table("users")
