"""A campaign's results: what happened to its deliveries, from counters, not from counting.

``campaign_summary`` reads the campaign's counters and its per-reason skip counters, plus one
query for the people who withdrew within 48 hours of their message, which starts from the
few withdrawals in the ledger since the campaign began, not from its million deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.consent import MARKETING, ConsentEventKind
from botschaft.domain.errors import NotFound
from botschaft.services.context import Context
from botschaft.storage.broadcast import Campaign, CampaignSkip, Delivery
from botschaft.storage.models import ConsentEvent

OPT_OUT_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class CampaignSummary:
    campaign_id: int
    name: str
    status: str
    targeted: int  # deliveries planned, sent or not
    skipped: dict[str, int]  # by reason, largest first
    sent: int
    delivered: int
    read: int
    clicked: int
    failed: int
    pending: int  # neither sent, failed nor skipped yet (queued, deferred or being sent)
    opted_out_48h: int
    started_at: datetime | None
    finished_at: datetime | None


def campaign_summary(ctx: Context, campaign_id: int) -> CampaignSummary:
    with ctx.db.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        skips = session.execute(
            select(CampaignSkip.reason, CampaignSkip.count)
            .where(CampaignSkip.campaign_id == campaign_id, CampaignSkip.count > 0)
            .order_by(CampaignSkip.count.desc(), CampaignSkip.reason)
        ).all()
        skipped = dict(skips)
        opted_out = _opted_out(session, campaign) if campaign.started_at else 0
        return CampaignSummary(
            campaign_id=campaign.id, name=campaign.name, status=campaign.status,
            targeted=campaign.planned_count, skipped=skipped, sent=campaign.sent,
            delivered=campaign.delivered, read=campaign.read, clicked=campaign.clicked,
            failed=campaign.failed,
            pending=max(0, campaign.planned_count - campaign.sent - campaign.failed
                        - campaign.skipped),
            opted_out_48h=opted_out, started_at=campaign.started_at,
            finished_at=campaign.finished_at,
        )


def _opted_out(session: Session, campaign: Campaign) -> int:
    """People who withdrew marketing on the campaign's channel within 48 h of their message."""
    rows = session.execute(
        select(ConsentEvent.contact_id, ConsentEvent.occurred_at, Delivery.sent_at)
        .join(Delivery, (Delivery.contact_id == ConsentEvent.contact_id)
              & (Delivery.campaign_id == campaign.id))
        .where(
            ConsentEvent.kind == ConsentEventKind.WITHDRAWN.value,
            ConsentEvent.purpose == MARKETING,
            ConsentEvent.channel == campaign.channel,
            ConsentEvent.occurred_at >= campaign.started_at,
            Delivery.sent_at.is_not(None),
        )
    ).all()
    people = {
        contact_id
        for contact_id, withdrawn_at, sent_at in rows
        if sent_at is not None and sent_at <= withdrawn_at < sent_at + OPT_OUT_WINDOW
    }
    return len(people)
