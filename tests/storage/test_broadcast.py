from __future__ import annotations

import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.storage import broadcast, contact_fields, signup
from botschaft.storage.broadcast import (
    Audience,
    Campaign,
    CampaignSkip,
    Delivery,
    bump_counters,
    bump_skips,
    skip_pending_of,
)
from botschaft.storage.models import Base

from conftest import START


def test_the_migrations_create_exactly_the_tables_the_models_describe(ctx: Context) -> None:
    assert broadcast and contact_fields and signup  # their tables are in Base.metadata
    with ctx.db.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert differences == []


def _campaign(ctx: Context) -> int:
    with ctx.db.write() as session:
        audience = Audience(name=f"Alle {secrets.token_hex(3)}", rule={}, created_at=START,
                            updated_at=START)
        session.add(audience)
        session.flush()
        campaign = Campaign(
            name="Wochenangebot", status="draft", channel="whatsapp", purpose="marketing",
            audience_id=audience.id, content={"kind": "text", "text": "Hallo"},
            track_links=True, time_zone="Europe/Berlin", created_at=START, updated_at=START,
        )
        session.add(campaign)
        session.flush()
        return campaign.id


def test_counters_move_by_deltas(ctx: Context) -> None:
    campaign_id = _campaign(ctx)
    with ctx.db.write() as session:
        bump_counters(session, campaign_id, sent=3, delivered=2)
        bump_counters(session, campaign_id, sent=1, failed=1, read=0)
    with ctx.db.read() as session:
        campaign = session.get_one(Campaign, campaign_id)
        assert (campaign.sent, campaign.delivered, campaign.read, campaign.failed) == (4, 2, 0, 1)


def test_an_unknown_counter_is_refused(ctx: Context) -> None:
    campaign_id = _campaign(ctx)
    with pytest.raises(ValueError, match="opened"), ctx.db.write() as session:
        bump_counters(session, campaign_id, opened=1)


def test_skips_are_counted_per_reason_and_in_total(ctx: Context, contact: ContactView) -> None:
    campaign_id = _campaign(ctx)
    with ctx.db.write() as session:
        bump_skips(session, campaign_id, {"no_consent": 2, "withdrawn": 1})
        bump_skips(session, campaign_id, {"withdrawn": 4, "erased": 0})
    with ctx.db.read() as session:
        rows = session.execute(
            select(CampaignSkip.reason, CampaignSkip.count)
            .where(CampaignSkip.campaign_id == campaign_id).order_by(CampaignSkip.reason)
        ).all()
        assert [tuple(r) for r in rows] == [("no_consent", 2), ("withdrawn", 5)]
        assert session.get_one(Campaign, campaign_id).skipped == 7


def test_a_persons_pending_deliveries_are_skipped_in_active_campaigns_only(
    ctx: Context, contact: ContactView
) -> None:
    running, done = _campaign(ctx), _campaign(ctx)
    with ctx.db.write() as session:
        session.execute(update(Campaign).where(Campaign.id == running).values(status="running"))
        session.execute(update(Campaign).where(Campaign.id == done).values(status="done"))
        for campaign_id in (running, done):
            session.add(Delivery(campaign_id=campaign_id, contact_id=contact.id,
                                 channel="whatsapp", state="queued", attempts=0,
                                 created_at=START))
    with ctx.db.write() as session:
        assert skip_pending_of(session, contact.id, "whatsapp", "withdrawn") == {running: 1}
    with ctx.db.read() as session:
        states = dict(session.execute(select(Delivery.campaign_id, Delivery.state)).all())
        assert states == {running: "skipped", done: "queued"}
        assert session.get_one(Campaign, running).skipped == 1
