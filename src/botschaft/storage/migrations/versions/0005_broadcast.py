"""Broadcast engine: tags, declared attributes, audiences, campaigns, deliveries, links, clicks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from botschaft.storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    # New tables only: the ledger's tables are not touched (a batch copy of consent_events
    # would drop its append-only triggers on SQLite).
    _contact_fields()
    op.create_table(
        "audiences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("rule", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    _campaigns()
    _deliveries()
    _links()


def _contact_fields() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id"), primary_key=True),
    )
    op.create_index("ix_contact_tags_tag", "contact_tags", ["tag_id", "contact_id"])
    op.create_table(
        "attribute_definitions",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "contact_attributes",
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("key", sa.String(64), sa.ForeignKey("attribute_definitions.key"),
                  primary_key=True),
        sa.Column("value", sa.String(500), nullable=False),
    )
    op.create_index("ix_contact_attributes_value", "contact_attributes", ["key", "value"])


def _campaigns() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("audience_id", sa.Integer, sa.ForeignKey("audiences.id"), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("track_links", sa.Boolean, nullable=False),
        sa.Column("scheduled_at", UTCDateTime),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0")
          for name in ("planned_count", "sent", "delivered", "read", "failed", "clicked",
                       "skipped")),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status", "scheduled_at"])
    op.create_table(
        "campaign_skips",
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    )


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", _BIG_ID, primary_key=True),
        # No foreign keys: see storage/broadcast.Delivery (planning speed).
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("contact_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(200)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("skip_reason", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", UTCDateTime),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("error_code", sa.String(32)),
        sa.Column("error_detail", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("status_at", UTCDateTime),
        sa.UniqueConstraint("campaign_id", "contact_id", name="uq_delivery_contact"),
    )
    op.create_index("ix_deliveries_claim", "deliveries", ["campaign_id", "state", "id"])
    op.create_index("ix_deliveries_contact", "deliveries", ["contact_id", "state"])
    op.create_index(
        "ix_deliveries_provider_id", "deliveries", ["channel", "provider_message_id"],
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        sqlite_where=sa.text("provider_message_id IS NOT NULL"),
    )


def _links() -> None:
    op.create_table(
        "short_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("campaign_id", "url", name="uq_short_link_url"),
    )
    op.create_table(
        "clicks",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("short_links.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("delivery_id", sa.BigInteger),
        sa.Column("clicked_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_clicks_link", "clicks", ["link_id", "clicked_at"])
    op.create_index("ix_clicks_delivery", "clicks", ["delivery_id"])


def downgrade() -> None:
    for table in ("clicks", "short_links", "deliveries", "campaign_skips", "campaigns",
                  "audiences", "contact_attributes", "attribute_definitions", "contact_tags",
                  "tags"):
        op.drop_table(table)
