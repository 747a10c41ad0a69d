"""What a provider's "cannot reach this person" about a campaign delivery means for the
person's records (the counterpart of ``message_status.apply_unreachable`` for messages)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.outcomes import Unreachability
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentSource
from botschaft.services.consent import withdraw_in
from botschaft.services.context import Context
from botschaft.storage.models import ChannelIdentity


def apply_unreachable_to(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind,
    why: Unreachability | None, *, note: str,
) -> None:
    """Record a provider opt-out (131050) as a withdrawal, or mark the identity unreachable."""
    if why is None:
        return
    if why is Unreachability.OPTED_OUT:
        # The person stopped marketing inside the app: that is their withdrawal.
        withdraw_in(session, ctx, contact_id, channel, ConsentSource.PROVIDER,
                    purposes=[MARKETING], note=note)
        return
    identity = session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.contact_id == contact_id,
                                      ChannelIdentity.channel == channel.value)
    )
    if identity is not None and identity.unreachable_at is None:
        identity.unreachable_at = ctx.clock.now()
