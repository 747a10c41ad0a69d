"""Deliveries left ``sending``: marked before their request, with no outcome recorded.

A worker that crashed (or was killed) between marking a batch ``sending`` and recording the
provider's answers leaves such rows. Whether the provider got each request is unknown, and
a duplicate marketing message is worse than a missing one, so they are reported here and
sent again only when an operator says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from botschaft.domain.errors import NotFound
from botschaft.services.context import Context
from botschaft.storage.broadcast import Campaign, Delivery

# A row ``sending`` for longer than this has no live request behind it any more: a request
# times out long before (the channels' HTTP timeouts are seconds).
IN_FLIGHT_GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class UncertainDelivery:
    delivery_id: int
    contact_id: int
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class Uncertain:
    campaign_id: int
    count: int
    examples: list[UncertainDelivery]  # the first few, oldest claim first


def uncertain_deliveries(ctx: Context, campaign_id: int, *, older_than: timedelta = IN_FLIGHT_GRACE,
                         examples: int = 20) -> Uncertain:
    """Rows of the campaign ``sending`` since before ``now - older_than``."""
    cutoff = ctx.clock.now() - older_than
    condition = (Delivery.campaign_id == campaign_id, Delivery.state == "sending",
                 Delivery.claimed_at <= cutoff)
    with ctx.db.read() as session:
        if session.get(Campaign, campaign_id) is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        count = session.scalar(select(func.count(Delivery.id)).where(*condition)) or 0
        rows = session.execute(
            select(Delivery.id, Delivery.contact_id, Delivery.claimed_by, Delivery.claimed_at)
            .where(*condition).order_by(Delivery.claimed_at, Delivery.id).limit(examples)
        ).all()
    return Uncertain(campaign_id, count, [UncertainDelivery(*row) for row in rows])


def resend_uncertain(ctx: Context, campaign_id: int, *,
                     older_than: timedelta = IN_FLIGHT_GRACE) -> int:
    """On an operator's word: put the uncertain rows back in the queue; returns how many.

    A running campaign sends them again; the people may then get the message twice.
    """
    cutoff = ctx.clock.now() - older_than
    with ctx.db.write() as session:
        if session.get(Campaign, campaign_id) is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        moved = session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.state == "sending",
                   Delivery.claimed_at <= cutoff)
            .values(state="queued", not_before=None, claimed_by=None,
                    error_detail="sent again on an operator's request; the earlier attempt"
                                 " may have reached the person")
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(moved, "rowcount", 0) or 0)
        if count:
            session.execute(
                update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "done")
                .values(status="running", finished_at=None, updated_at=ctx.clock.now())
            )
    return count
