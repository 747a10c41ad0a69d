"""Status reports for single messages (replies, confirmations): forward only.

The counterpart of ``delivery_status`` for rows of ``messages``; what an unreachable
person means for their records is decided here for both the send's answer and a later
``failed`` status.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.events import DeliveryStatus, StatusUpdate
from botschaft.channels.outcomes import Unreachability
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentSource
from botschaft.services.consent import withdraw_in
from botschaft.services.context import Context
from botschaft.services.inbox_feed import announce
from botschaft.services.status_errors import unreachability_of
from botschaft.storage.models import ChannelIdentity, Conversation, Message

_KNOWN = {status.value for status in DeliveryStatus}


def advance_message(session: Session, ctx: Context, row: Message, event: StatusUpdate) -> None:
    """Move the outbound message on by ``event``; a lower rank never replaces a higher one."""
    current = DeliveryStatus(row.status) if row.status in _KNOWN else None
    # Statuses arrive out of order: "read" may come before "delivered". Never go back.
    if current is not None and current.rank >= event.status.rank:
        return
    row.status, row.status_at = event.status.value, event.at
    announce(session, ctx, row.conversation_id)  # the ticks of an open thread move
    if event.status is DeliveryStatus.FAILED and event.errors:
        first = event.errors[0]
        row.error_code, row.error_detail = first.code, first.details or first.title
        why = unreachability_of(event.channel, first.code)
        if why is not None:
            apply_unreachable(session, ctx, row, why)


def apply_unreachable(
    session: Session, ctx: Context, row: Message, why: Unreachability
) -> None:
    """What a provider's "cannot reach this person" means for the person's records."""
    conversation_contact = session.get_one(Conversation, row.conversation_id).contact_id
    channel = ChannelKind(row.channel)
    if why is Unreachability.OPTED_OUT:
        # WhatsApp 131050: the person stopped marketing inside the app. That is their
        # withdrawal, and the ledger must say so.
        withdraw_in(
            session, ctx, conversation_contact, channel, ConsentSource.PROVIDER,
            purposes=[MARKETING],
            note=f"the provider refused message #{row.id} with {row.error_code}",
        )
        return
    identity = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.contact_id == conversation_contact,
            ChannelIdentity.channel == channel.value,
        )
    )
    if identity is not None and identity.unreachable_at is None:
        identity.unreachable_at = ctx.clock.now()
