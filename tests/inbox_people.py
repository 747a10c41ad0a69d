"""People writing to the business in service tests: through the real intake and lane."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime

from botschaft.channels.events import InboundKind, InboundMessage, MediaRef
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.inbox import conversation_id_for_address
from botschaft.services.intake import store_events


def writes(
    ctx: Context, channels: Channels, number: str, text: str | None = "Hallo", *,
    channel: ChannelKind = ChannelKind.SANDBOX, name: str | None = "Anna Müller",
    media: MediaRef | None = None, at: datetime | None = None,
) -> int:
    """``number`` writes ``text``; returns the conversation's id once the lane handled it."""
    event = InboundMessage(
        channel=channel, account="sandbox", provider_message_id=secrets.token_hex(8),
        sender=number, sent_at=at or ctx.clock.now(),
        kind=InboundKind.IMAGE if media else InboundKind.TEXT, text=text, sender_name=name,
        media=media,
    )
    store_events(ctx, [event])
    asyncio.run(handle_pending(ctx, channels))
    found = conversation_id_for_address(ctx, channel, number)
    assert found is not None
    return found
