"""A withdrawal stops the person's pending campaign deliveries at once, in its transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botschaft.domain.consent import MARKETING
from botschaft.storage.broadcast import Campaign, Delivery, bump_skips


def skip_queued_deliveries(
    session: Session, contact_id: int, channel: str, purposes: Iterable[str], now: datetime
) -> int:
    """Mark ``skipped``/``withdrawn`` every queued delivery to this person on ``channel``
    whose campaign needs one of the withdrawn ``purposes``; returns how many.

    Campaign messages are marketing, so a marketing withdrawal stops every campaign on the
    channel; a withdrawn special purpose stops the campaigns sent under it. Deliveries
    already ``sending`` are in flight; nothing can call them back.
    """
    withdrawn = set(purposes)
    condition = [Delivery.contact_id == contact_id, Delivery.channel == channel,
                 Delivery.state == "queued"]
    if MARKETING not in withdrawn:
        condition.append(Delivery.campaign_id.in_(
            select(Campaign.id).where(Campaign.purpose.in_(withdrawn))
        ))
    rows = session.execute(
        update(Delivery).where(*condition)
        .values(state="skipped", skip_reason="withdrawn", status_at=now,
                error_detail="the person withdrew during the campaign")
        .returning(Delivery.campaign_id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    for campaign_id, count in Counter(rows).items():
        bump_skips(session, campaign_id, {"withdrawn": count})
    return len(rows)
