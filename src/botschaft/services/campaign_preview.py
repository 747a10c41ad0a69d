"""Seeing a campaign before it goes out: a preview per contact, and a test send.

The preview renders exactly what ``render_for`` would send that contact (links tracked,
footer below) and says what the gate would decide for them now. A test send goes through
``services/outbound.send_message`` like every other message, so the gate decides there too:
a test recipient needs the consent a real one needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from botschaft.channels.messages import Button, Media, OutboundMessage, Template
from botschaft.channels.registry import Channels
from botschaft.domain.campaign import ContentKind, parse_content
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.domain.gate import MessageFormat, MessageKind, Outbound, Skip, decide
from botschaft.services.campaign_content import prepare_campaign, recipient_fields, render_for
from botschaft.services.clicks import ensure_links
from botschaft.services.context import Context
from botschaft.services.inbox import MessageView
from botschaft.services.outbound import check_content, send_message
from botschaft.services.recipients import recipient_for
from botschaft.storage.broadcast import Campaign
from botschaft.storage.models import ChannelIdentity, Contact

MAX_TEST_RECIPIENTS = 10


class TooManyTestRecipients(BotschaftError):
    code = "test_recipients_too_many"
    status = 422


@dataclass(frozen=True)
class Preview:
    contact_id: int
    message: dict[str, Any]  # the OutboundMessage, as JSON
    decision: str  # "send", or the gate's skip reason
    detail: str | None


def preview_campaign(ctx: Context, campaign_id: int, contact_id: int) -> Preview:
    """What ``contact_id`` would get, and whether the gate would let it go now."""
    _make_links(ctx, campaign_id)
    prepared = prepare_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"There is no contact #{contact_id}.")
        identity = session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.contact_id == contact_id,
                                          ChannelIdentity.channel == prepared.channel.value)
        )
        if identity is None:
            raise NotFound(f"Contact #{contact_id} has no {prepared.channel.value} identity.")
        fields = recipient_fields(session, [contact_id], prepared.attribute_keys)[contact_id]
        message = render_for(prepared, fields, to=identity.address, delivery_id=None)
        purpose = session.get_one(Campaign, campaign_id).purpose
        decision = decide(
            recipient_for(session, ctx, contact, identity),
            Outbound(MessageKind.MARKETING, purpose, _format(message)),
            ctx.settings.policy.policy(),
            ctx.clock.now(),
        )
    if isinstance(decision, Skip):
        return Preview(contact_id, asdict(message), decision.reason.value, decision.detail)
    return Preview(contact_id, asdict(message), "send", None)


async def send_test(
    ctx: Context, channels: Channels, campaign_id: int, contact_ids: list[int]
) -> list[MessageView]:
    """Send the campaign to a few named contacts now, each through the gate."""
    if not contact_ids or len(contact_ids) > MAX_TEST_RECIPIENTS:
        raise TooManyTestRecipients(
            f"Name 1 to {MAX_TEST_RECIPIENTS} contacts for a test send."
        )
    _make_links(ctx, campaign_id)
    prepared = prepare_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        purpose = session.get_one(Campaign, campaign_id).purpose
        fields = recipient_fields(session, contact_ids, prepared.attribute_keys)
    missing = sorted(set(contact_ids) - set(fields))
    if missing:
        raise NotFound(f"There is no contact #{missing[0]}.")
    sent = []
    for contact_id in contact_ids:
        # The address is filled in by send_message from the contact's identity.
        message = render_for(prepared, fields[contact_id], to="", delivery_id=None)
        sent.append(
            await send_message(
                ctx, channels, contact_id=contact_id, channel=prepared.channel,
                content=message, intent=Outbound(MessageKind.MARKETING, purpose),
            )
        )
    return sent


def _make_links(ctx: Context, campaign_id: int) -> None:
    with ctx.db.write() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"There is no campaign #{campaign_id}.")
        ensure_links(session, ctx, campaign)


def _format(message: OutboundMessage) -> MessageFormat:
    return MessageFormat.TEMPLATE if message.template else MessageFormat.FREE_FORM



def check_fits(channels: Channels, channel: ChannelKind, content_data: dict[str, Any]) -> None:
    """Refuse content the channel cannot carry (too many buttons, no templates, a media kind
    it lacks, a text too long even before the footer), before the campaign is stored."""
    content = parse_content(content_data)
    sample = OutboundMessage(
        to="",
        text=content.text if content.kind is not ContentKind.MEDIA else None,
        media=(Media(content.media_kind or "image", content.media_url or "", content.text)
               if content.media_url else None),
        template=(Template(content.template.name, content.template.language)
                  if content.template else None),
        buttons=tuple(Button(b.id, b.title) for b in content.buttons),
    )
    check_content(channels.get(channel).capabilities, channel, sample)
