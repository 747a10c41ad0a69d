"""Status webhooks for campaign deliveries: delivered, read, failed; never backwards.

The counters move by delta in the same transaction as the delivery (``bump_counters``), so
``delivered`` counts rows reported delivered or read and ``read`` rows reported read.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botschaft.channels.events import DeliveryStatus, StatusUpdate
from botschaft.channels.outcomes import Deferred
from botschaft.channels.whatsapp_errors import outcome_for_error
from botschaft.domain.channels import ChannelKind
from botschaft.services.context import Context
from botschaft.services.delivery_effects import apply_unreachable_to
from botschaft.services.status_errors import unreachability_of
from botschaft.storage.broadcast import Campaign, Delivery, bump_counters

log = logging.getLogger(__name__)

# Where a delivery stands, as a status rank; ``sending`` is below every report.
_RANK = {"sending": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


def apply_delivery_status(session: Session, ctx: Context, event: StatusUpdate) -> bool:
    """Move the delivery with this provider id on; False if no delivery has that id."""
    row = session.scalar(
        select(Delivery).where(Delivery.channel == event.channel.value,
                               Delivery.provider_message_id == event.provider_message_id)
        .with_for_update()
    )
    if row is None:
        return False
    bump_counters(session, row.campaign_id, **advance_delivery(session, ctx, row, event))
    return True


def advance_delivery(session: Session, ctx: Context, row: Delivery, event: StatusUpdate
                     ) -> dict[str, int]:
    """Move ``row`` on by ``event``, never backwards; the campaign counters' deltas to add.

    The caller adds the deltas, so a batch of statuses costs one counter UPDATE per campaign.
    """
    current = _RANK.get(row.state)
    if current is None or current >= event.status.rank:
        return {}  # out of order, or already final: never go back
    if event.status is DeliveryStatus.FAILED:
        return _failed(session, ctx, row, event)
    row.state, row.status_at = event.status.value, event.at
    return {"delivered": 1 if current < 2 else 0,
            "read": 1 if event.status is DeliveryStatus.READ else 0}


def _failed(session: Session, ctx: Context, row: Delivery, event: StatusUpdate
            ) -> dict[str, int]:
    first = event.errors[0] if event.errors else None
    code = first.code if first else None
    detail = (first.details or first.title) if first else "the provider reported a failure"
    if event.channel is ChannelKind.WHATSAPP and code is not None:
        outcome = outcome_for_error(code, detail or "")
        if isinstance(outcome, Deferred):
            # 131049: Meta did not deliver, to keep a person's marketing in bounds. Nothing
            # reached the person, so the delivery waits a day instead of failing.
            row.state, row.not_before = "queued", ctx.clock.now() + outcome.retry_after
            row.error_code, row.error_detail = code, detail
            row.attempts = max(0, row.attempts - 1)
            # A campaign that looked finished has one more delivery waiting again.
            session.execute(
                update(Campaign).where(Campaign.id == row.campaign_id, Campaign.status == "done")
                .values(status="running", finished_at=None, updated_at=ctx.clock.now())
            )
            return {"sent": -1}
    was_delivered = row.state in ("delivered", "read")
    row.state, row.status_at = "failed", event.at
    row.error_code, row.error_detail = code, detail
    why = unreachability_of(event.channel, code) if code else None
    apply_unreachable_to(session, ctx, row.contact_id, event.channel, why,
                         note=f"delivery #{row.id} failed with {code}")
    return {"failed": 1, "delivered": -1 if was_delivered else 0}
