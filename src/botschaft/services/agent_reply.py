"""An agent answers in the inbox: text (with /shortcuts expanded and the signature), files,
or an approved template once the window has closed. Every message goes through
``outbound.send_message``, so the gate decides; the author is the agent.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from botschaft.channels.messages import (
    Media,
    MessageTag,
    OutboundMessage,
    Template,
    TemplateComponent,
    TemplateParameter,
)
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import ReplyMode, expand_shortcuts, signature_for, signed
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services import attachments, canned, conversations
from botschaft.services.context import Context
from botschaft.services.inbox import MessageView, get_conversation
from botschaft.services.inbox_feed import Actor
from botschaft.services.outbound import Author, send_message
from botschaft.settings import ReplyTemplate

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


class EmptyReply(BotschaftError):
    code = "reply_empty"
    status = 422


@dataclass(frozen=True)
class Reply:
    text: str = ""
    attachment_ids: tuple[int, ...] = ()
    template: str | None = None  # the name of an approved template (outside the window)


def templates_for(ctx: Context, channels: Channels, channel: ChannelKind) -> list[ReplyTemplate]:
    """The approved templates the composer may offer on ``channel`` (none where the channel
    has no templates)."""
    if not channels.get(channel).capabilities.templates:
        return []
    return list(ctx.settings.inbox.templates)


def rendered_template(template: ReplyTemplate, values: dict[str, str]) -> tuple[str, list[str]]:
    """The template's text as the person reads it, and its body parameters in order."""
    params = [values.get(name, "") or "-" for name in template.parameters]

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return _PLACEHOLDER.sub(fill, template.text), params


async def send_reply(
    ctx: Context, channels: Channels, actor: Actor, conversation_id: int, reply: Reply
) -> list[MessageView]:
    """Send the agent's reply; returns the stored messages (text first, then each file).

    A message the gate refuses is stored ``skipped`` with the reason, never sent.
    """
    if actor.id is None:
        raise EmptyReply("Only an agent replies in the inbox.")
    channel_kind = await asyncio.to_thread(_channel_of, ctx, conversation_id)
    adapter = channels.get(channel_kind)
    head = await asyncio.to_thread(conversations.thread, ctx, conversation_id,
                                   templates=adapter.capabilities.templates)
    files = await asyncio.to_thread(attachments.uploads, ctx, conversation_id,
                                    list(reply.attachment_ids))
    author = Author("agent", actor.name)
    intent = Outbound(MessageKind.SERVICE)
    if reply.template is not None:
        content = _template_message(ctx, channels, channel_kind, head, actor=actor,
                                    name=reply.template)
        return [await send_message(ctx, channels, contact_id=head.row.contact_id,
                                   channel=channel_kind, content=content, intent=intent,
                                   author=author)]
    text = await asyncio.to_thread(_final_text, ctx, actor, reply.text)
    if not text and not files:
        raise EmptyReply("A reply needs a text or a file.")
    tag = MessageTag.HUMAN_AGENT if head.reply.mode is ReplyMode.HUMAN_AGENT else None
    sent: list[MessageView] = []
    if text:
        sent.append(await send_message(
            ctx, channels, contact_id=head.row.contact_id, channel=channel_kind,
            content=OutboundMessage(to="", text=text, tag=tag), intent=intent, author=author))
    for file in files:
        media = Media(kind=file.kind, url=attachments.public_url(ctx, file),
                      filename=file.filename if file.kind == "document" else None)
        message = await send_message(
            ctx, channels, contact_id=head.row.contact_id, channel=channel_kind,
            content=OutboundMessage(to="", media=media, tag=tag), intent=intent, author=author)
        await asyncio.to_thread(attachments.link_to_message, ctx, file.id, message.id)
        sent.append(message)
    return sent


def _channel_of(ctx: Context, conversation_id: int) -> ChannelKind:
    return ChannelKind(get_conversation(ctx, conversation_id).channel)


def _final_text(ctx: Context, actor: Actor, typed: str) -> str:
    """What goes out: shortcuts expanded (also without JavaScript), then signed."""
    text = expand_shortcuts(typed.strip(), canned.canned_map(ctx)).strip()
    if not text or actor.id is None:
        return text
    return signed(text, signature_for(actor.signature, actor.name))


def _template_message(
    ctx: Context, channels: Channels, channel: ChannelKind, head: conversations.Thread, *,
    actor: Actor, name: str,
) -> OutboundMessage:
    offered = {t.name: t for t in templates_for(ctx, channels, channel)}
    template = offered.get(name)
    if template is None:
        raise NotFound(f"There is no approved template {name!r} for {channel.value}.")
    values = {"contact_name": head.row.contact_name or "", "agent_name": actor.name,
              "business_name": ctx.settings.business.name}
    text, params = rendered_template(template, values)
    components = (TemplateComponent("body", tuple(TemplateParameter(text=p) for p in params)),
                  ) if params else ()
    # The text rides along for the inbox and the sandbox phone; WhatsApp gets the template.
    return OutboundMessage(to="", text=text,
                           template=Template(template.name, template.language, components))
