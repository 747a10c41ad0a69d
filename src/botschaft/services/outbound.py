"""The one path to a channel's ``send``: every outbound message passes the gate here.

The message row is written (``sending``) and committed before the provider is called, so a
crash in between leaves a visible, uncertain row rather than a silent duplicate later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.base import Capabilities
from botschaft.channels.messages import MessageTag, OutboundMessage
from botschaft.channels.outcomes import RecipientUnreachable, SendOutcome, Sent
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.domain.gate import (
    MessageFormat,
    MessageKind,
    Outbound,
    Skip,
    decide,
)
from botschaft.services.context import Context
from botschaft.services.early_statuses import apply_early_statuses_to_message
from botschaft.services.inbox import MessageView, conversation_for, view_of
from botschaft.services.inbox_feed import announce
from botschaft.services.message_status import apply_unreachable
from botschaft.services.recipients import recipient_for
from botschaft.storage.models import ChannelIdentity, Contact, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Author:
    kind: str  # bot | agent | system
    name: str | None = None


SYSTEM = Author("system")


async def send_message(
    ctx: Context,
    channels: Channels,
    *,
    contact_id: int,
    channel: ChannelKind,
    content: OutboundMessage,
    intent: Outbound,
    author: Author = SYSTEM,
) -> MessageView:
    """Ask the gate, record the message, send it if allowed, and record the outcome.

    Returns the stored message: ``skipped`` with the gate's reason, ``sent`` with the
    provider's id, or ``failed`` with the provider's code and text.
    """
    adapter = channels.get(channel)
    check_content(adapter.capabilities, channel, content)
    prepared = await asyncio.to_thread(
        lambda: _prepare(ctx, contact_id, channel, content=content, intent=intent,
                         author=author)
    )
    if isinstance(prepared, MessageView):
        return prepared  # the gate said no; the skipped row says why
    message_id, address = prepared
    outcome = await adapter.send(replace(content, to=address))
    return await asyncio.to_thread(_finish, ctx, message_id, outcome)


def _prepare(
    ctx: Context, contact_id: int, channel: ChannelKind, *, content: OutboundMessage,
    intent: Outbound, author: Author,
) -> MessageView | tuple[int, str]:
    """Decide and write the row in one transaction: (row id, address) to send, or the skip."""
    with ctx.db.write() as session:
        contact, identity = _identity(session, contact_id, channel)
        decision = decide(
            recipient_for(session, ctx, contact, identity),
            replace(intent, format=format_of(content)),
            ctx.settings.policy.policy(),
            ctx.clock.now(),
        )
        row = _new_row(session, ctx, contact, channel, content=content, intent=intent,
                       author=author)
        if isinstance(decision, Skip):
            row.status, row.skip_reason, row.error_detail = (
                "skipped", decision.reason.value, decision.detail,
            )
            log.info("outbound skipped", extra={"contact_id": contact_id,
                                                "channel": channel.value,
                                                "reason": decision.reason.value})
            return view_of(row)
        return row.id, identity.address


def _finish(ctx: Context, message_id: int, outcome: SendOutcome) -> MessageView:
    with ctx.db.write() as session:
        row = session.get_one(Message, message_id)
        _record_outcome(session, ctx, row, outcome)
        # A status the provider sent while its answer to the send was on the way.
        apply_early_statuses_to_message(session, ctx, row)
        return view_of(row)


def format_of(content: OutboundMessage) -> MessageFormat:
    """The form the gate judges: a template, a HUMAN_AGENT-tagged reply, or free text."""
    if content.template is not None:
        return MessageFormat.TEMPLATE
    if content.tag is MessageTag.HUMAN_AGENT:
        return MessageFormat.HUMAN_AGENT
    return MessageFormat.FREE_FORM


class UnsupportedContent(BotschaftError):
    code = "content_unsupported"
    status = 422


def check_content(capabilities: Capabilities, channel: ChannelKind, content: OutboundMessage
                  ) -> None:
    """Refuse, before anything is stored, what the channel cannot carry."""
    if content.text is not None and len(content.text) > capabilities.max_text_length:
        raise UnsupportedContent(
            f"{channel.value} takes at most {capabilities.max_text_length} characters"
            f" per message; this one has {len(content.text)}."
        )
    if len(content.buttons) > capabilities.max_buttons:
        raise UnsupportedContent(
            f"{channel.value} shows at most {capabilities.max_buttons} buttons;"
            f" this message has {len(content.buttons)}."
        )
    if content.template is not None and not capabilities.templates:
        raise UnsupportedContent(f"{channel.value} has no message templates.")
    if content.tag is not None and capabilities.agent_window is None:
        raise UnsupportedContent(f"{channel.value} has no {content.tag.value} tag.")
    if content.media is not None and content.media.kind not in capabilities.media_kinds:
        raise UnsupportedContent(f"{channel.value} cannot send {content.media.kind} files.")


def _identity(
    session: Session, contact_id: int, channel: ChannelKind
) -> tuple[Contact, ChannelIdentity]:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"There is no contact #{contact_id}.")
    identity = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.contact_id == contact_id, ChannelIdentity.channel == channel.value
        )
    )
    if identity is None:
        raise NotFound(f"Contact #{contact_id} has no {channel.value} identity.")
    return contact, identity


def _new_row(
    session: Session, ctx: Context, contact: Contact, channel: ChannelKind, *,
    content: OutboundMessage, intent: Outbound, author: Author,
) -> Message:
    now = ctx.clock.now()
    conversation = conversation_for(session, ctx, contact.id, channel)
    conversation.last_message_at = now
    extras = {
        key: value
        for key, value in asdict(content).items()
        if key in ("media", "template", "buttons", "reply_to", "tag") and value
    }
    if author.name:
        extras["author_name"] = author.name
    row = Message(
        conversation_id=conversation.id,
        channel=channel.value,
        direction="out",
        author=author.kind,
        purpose_kind=intent.kind.value,
        content_type=_content_type(content),
        text=content.text,
        payload=json.dumps(extras, ensure_ascii=False) if extras else None,
        status="sending",
        created_at=now,
    )
    session.add(row)
    session.flush()
    announce(session, ctx, conversation.id)
    return row


def _content_type(content: OutboundMessage) -> str:
    if content.template is not None:
        return "template"
    if content.media is not None:
        return content.media.kind
    return "buttons" if content.buttons else "text"


def _record_outcome(session: Session, ctx: Context, row: Message, outcome: SendOutcome) -> None:
    now = ctx.clock.now()
    row.status_at = now
    announce(session, ctx, row.conversation_id)
    if isinstance(outcome, Sent):
        row.status, row.provider_message_id = "sent", outcome.provider_message_id
        return
    row.status = "failed"
    row.error_code = outcome.code
    row.error_detail = outcome.detail
    log.warning("outbound failed", extra={"message_id": row.id, "channel": row.channel,
                                          "outcome": type(outcome).__name__,
                                          "code": outcome.code})
    if isinstance(outcome, RecipientUnreachable):
        apply_unreachable(session, ctx, row, outcome.why)


__all__ = ["SYSTEM", "Author", "MessageKind", "send_message"]
