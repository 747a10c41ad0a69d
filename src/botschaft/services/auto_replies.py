"""Auto-replies in the inbound lane: the away message, the greeting, the receipt.

Runs in the transaction that stores a person's message, after the keywords had their say
(a STOP, START or HELP has its own answer and never gets an auto-reply). It asks
``domain.auto_reply`` which reply the message calls for, notes the choice (so the next
message in the same batch sees it) and returns the reply; the lane sends it after the
commit through ``outbound.send_message``, so the gate decides like for every other message.
A STOP later in the same batch therefore still holds an away message back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botschaft.domain.auto_reply import AutoReplyKind, ReplyHistory, choose_auto_reply
from botschaft.domain.business_hours import next_opening
from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageKind
from botschaft.i18n import pick_language
from botschaft.services.auto_reply_texts import fill, load_setup
from botschaft.services.business_hours import load_hours
from botschaft.services.chat_consent import Reply
from botschaft.services.context import Context
from botschaft.storage.business import AutoReplySent
from botschaft.storage.models import Contact, Conversation, Message


def auto_replies_for(
    session: Session, ctx: Context, contact: Contact, conversation: Conversation,
    message: Message, *, opened: bool,
) -> list[Reply]:
    """The auto-reply a person's (non-keyword) message calls for, as a reply to send.

    ``opened``: the message opened or reopened the conversation (``response_time``).
    """
    now = ctx.clock.now()
    setup = load_setup(session)
    if not setup.enabled:
        return []
    hours = load_hours(session, ctx)
    history = ReplyHistory(
        first_message_of_contact=_first_message_of(session, contact.id, message.id),
        opens_request=opened,
        last_away_at=_last(session, conversation.id, AutoReplyKind.AWAY),
        last_receipt_at=_last(session, conversation.id, AutoReplyKind.RECEIPT),
        greeted=_greeted(session, contact.id),
        last_agent_reply_at=_last_agent_reply(session, conversation.id),
    )
    kind = choose_auto_reply(setup.enabled, hours, history, now)
    if kind is None:
        return []
    session.add(AutoReplySent(kind=kind.value, contact_id=contact.id,
                              conversation_id=conversation.id, chosen_at=now))
    language = pick_language(contact.language, ctx.settings.default_language)
    opens = next_opening(hours, now) if hours is not None else None
    text = fill(ctx, setup.text(kind, language), language, name=contact.display_name,
                opens=opens)
    return [Reply(contact.id, ChannelKind(conversation.channel), text, MessageKind.SERVICE)]


def _first_message_of(session: Session, contact_id: int, message_id: int) -> bool:
    earlier = session.scalar(
        select(Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.contact_id == contact_id, Message.direction == "in",
               Message.id != message_id)
        .limit(1)
    )
    return earlier is None


def _last(session: Session, conversation_id: int, kind: AutoReplyKind) -> datetime | None:
    return session.scalar(
        select(func.max(AutoReplySent.chosen_at)).where(
            AutoReplySent.conversation_id == conversation_id, AutoReplySent.kind == kind.value
        )
    )


def _greeted(session: Session, contact_id: int) -> bool:
    return session.scalar(
        select(AutoReplySent.id).where(AutoReplySent.contact_id == contact_id,
                                       AutoReplySent.kind == AutoReplyKind.GREETING.value)
        .limit(1)
    ) is not None


def _last_agent_reply(session: Session, conversation_id: int) -> datetime | None:
    return session.scalar(
        select(Message.created_at)
        .where(Message.conversation_id == conversation_id, Message.direction == "out",
               Message.author == "agent")
        .order_by(Message.id.desc())
        .limit(1)
    )
