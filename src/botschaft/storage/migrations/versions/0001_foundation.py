"""Foundation: contacts, identities, consent texts, the consent ledger and its chain head.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Tables whose rows may never change or disappear once written.
_APPEND_ONLY = ("consent_events", "consent_texts")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("erased_at", UTCDateTime),
    )
    op.create_table(
        "channel_identities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("unreachable_at", UTCDateTime),
        sa.UniqueConstraint("channel", "address", name="uq_identity_address"),
    )
    op.create_index("ix_channel_identities_contact_id", "channel_identities", ["contact_id"])
    op.create_table(
        "consent_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("consent_purpose", sa.String(64), nullable=False),
        sa.Column("intro", sa.Text, nullable=False),
        sa.Column("company", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("data_categories", sa.Text, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("frequency", sa.Text, nullable=False),
        sa.Column("withdrawal", sa.Text, nullable=False),
        sa.Column("privacy_policy_url", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("key", "language", "version", name="uq_consent_text_version"),
    )
    op.create_index("ix_consent_texts_sha256", "consent_texts", ["sha256"])
    op.create_table(
        "consent_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("consent_text_id", sa.Integer, sa.ForeignKey("consent_texts.id")),
        sa.Column("text_hash", sa.String(64)),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("address", sa.String(200)),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("evidence", sa.Text),
        sa.Column("salt", sa.String(32)),
        sa.Column("personal_digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_consent_events_subject",
        "consent_events",
        ["contact_id", "channel", "purpose", "seq"],
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    for table in _APPEND_ONLY:
        _forbid_changes(table)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        _allow_changes(table)
    for table in (
        "ledger_head", "consent_events", "consent_texts", "channel_identities", "contacts"
    ):
        op.drop_table(table)


def _forbid_changes(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
