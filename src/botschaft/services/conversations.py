"""The team inbox's conversations: the filtered list, one thread's header, and its changes.

Every change (status, assignment, labels) is one function that writes the row, the inbox's
change feed (``inbox_events``, which live views follow) and the audit row in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import ReplyOptions, reply_options
from botschaft.domain.consent import ConsentState
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.context import Context
from botschaft.services.inbox_feed import Actor, changed
from botschaft.services.recipients import recipient_for
from botschaft.storage.accounts import User
from botschaft.storage.inbox import ConversationLabel, Label
from botschaft.storage.models import ChannelIdentity, Contact, Conversation, Message


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting for the person
    RESOLVED = "resolved"


UNASSIGNED = 0  # the assignee filter's value for "nobody"


class InvalidFilter(BotschaftError):
    code = "inbox_filter_invalid"
    status = 422


@dataclass(frozen=True)
class InboxFilter:
    channel: ChannelKind | None = None
    status: Status | None = None
    assignee: int | None = None  # an agent's id, UNASSIGNED, or None for everyone
    label: int | None = None
    # Keyset: the (last_message_at, id) of the last row of the previous page.
    before: tuple[datetime, int] | None = None
    limit: int = 50


@dataclass(frozen=True)
class LabelView:
    id: int
    name: str
    color: str


@dataclass(frozen=True)
class ConversationRow:
    id: int
    contact_id: int
    contact_name: str | None
    channel: str
    address: str | None
    status: str
    last_message_at: datetime
    assignee_id: int | None
    labels: tuple[LabelView, ...]
    preview: str | None  # the last message's text
    preview_direction: str | None
    waiting: bool  # the last message came from the person


@dataclass(frozen=True)
class Page:
    rows: list[ConversationRow]
    # The cursor for the next page; None on the last page.
    next: tuple[datetime, int] | None


def list_page(ctx: Context, flt: InboxFilter) -> Page:
    """Conversations, newest activity first, filtered and keyset-paged (never OFFSET)."""
    if not 1 <= flt.limit <= 200:
        raise InvalidFilter("A page holds 1 to 200 conversations.")
    query = (
        select(Conversation, Contact.display_name, ChannelIdentity.address)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(ChannelIdentity, (ChannelIdentity.contact_id == Conversation.contact_id)
                   & (ChannelIdentity.channel == Conversation.channel))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(flt.limit + 1)
    )
    if flt.channel is not None:
        query = query.where(Conversation.channel == flt.channel.value)
    if flt.status is not None:
        query = query.where(Conversation.status == flt.status.value)
    if flt.assignee == UNASSIGNED:
        query = query.where(Conversation.assignee_id.is_(None))
    elif flt.assignee is not None:
        query = query.where(Conversation.assignee_id == flt.assignee)
    if flt.label is not None:
        query = query.where(exists().where(
            ConversationLabel.conversation_id == Conversation.id,
            ConversationLabel.label_id == flt.label,
        ))
    if flt.before is not None:
        at, last_id = flt.before
        query = query.where(
            (Conversation.last_message_at < at)
            | ((Conversation.last_message_at == at) & (Conversation.id < last_id))
        )
    with ctx.db.read() as session:
        found = session.execute(query).all()
        page, more = found[: flt.limit], len(found) > flt.limit
        ids = [conversation.id for conversation, *_ in page]
        labels = _labels_of(session, ids)
        previews = _previews(session, ids)
        rows = [
            ConversationRow(
                c.id, c.contact_id, name, c.channel, address, c.status, c.last_message_at,
                c.assignee_id, labels.get(c.id, ()), *_preview_and_waiting(previews, c.id),
            )
            for c, name, address in page
        ]
    last = rows[-1] if rows else None
    cursor = (last.last_message_at, last.id) if more and last else None
    return Page(rows, cursor)


def _preview_and_waiting(
    previews: dict[int, tuple[str | None, str]], conversation_id: int
) -> tuple[str | None, str | None, bool]:
    text, direction = previews.get(conversation_id, (None, None))
    return text, direction, direction == "in"


def _labels_of(session: Session, ids: list[int]) -> dict[int, tuple[LabelView, ...]]:
    if not ids:
        return {}
    found: dict[int, list[LabelView]] = {}
    for conversation_id, label in session.execute(
        select(ConversationLabel.conversation_id, Label)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ConversationLabel.conversation_id.in_(ids))
        .order_by(Label.name)
    ).all():
        found.setdefault(conversation_id, []).append(LabelView(label.id, label.name, label.color))
    return {key: tuple(value) for key, value in found.items()}


def _previews(session: Session, ids: list[int]) -> dict[int, tuple[str | None, str]]:
    """The last message of each conversation: one indexed lookup per row of the page."""
    if not ids:
        return {}
    last_ids = (
        select(func.max(Message.id).label("id"))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Message.conversation_id, Message.text, Message.content_type, Message.direction)
        .join(last_ids, last_ids.c.id == Message.id)
    ).all()
    return {cid: (text if text else f"[{kind}]", direction)
            for cid, text, kind, direction in rows}


@dataclass(frozen=True)
class ConsentLine:
    purpose: str
    state: ConsentState


@dataclass(frozen=True)
class Thread:
    """A conversation's header: who, where, state, consent and what a reply may be."""

    row: ConversationRow
    language: str
    last_inbound_at: datetime | None
    consents: tuple[ConsentLine, ...]
    reply: ReplyOptions
    silenced: bool  # the person withdrew (STOP) and has not written since


def thread(ctx: Context, conversation_id: int, *, templates: bool) -> Thread:
    """One conversation's header; ``templates``: the channel carries provider templates."""
    with ctx.db.read() as session:
        conversation = _conversation(session, conversation_id)
        contact = conversation.contact
        identity = session.scalar(select(ChannelIdentity).where(
            ChannelIdentity.contact_id == contact.id,
            ChannelIdentity.channel == conversation.channel,
        ))
        labels = _labels_of(session, [conversation_id]).get(conversation_id, ())
        channel = ChannelKind(conversation.channel)
        last_inbound = identity.last_inbound_at if identity else None
        silenced = False
        consents: tuple[ConsentLine, ...] = ()
        if identity is not None:
            recipient = recipient_for(session, ctx, contact, identity)
            silenced = recipient.silenced()
            consents = tuple(ConsentLine(purpose, state)
                             for purpose, state in sorted(recipient.consents.items()))
        row = ConversationRow(
            conversation.id, contact.id, contact.display_name, conversation.channel,
            identity.address if identity else None, conversation.status,
            conversation.last_message_at, conversation.assignee_id, labels,
            *_preview_and_waiting(_previews(session, [conversation_id]), conversation_id),
        )
        options = reply_options(channel, last_inbound, ctx.settings.policy.policy(),
                                ctx.clock.now(), templates=templates)
        return Thread(row, contact.language, last_inbound, consents, options, silenced)


def set_status(ctx: Context, actor: Actor, conversation_id: int, status: Status) -> None:
    with ctx.db.write() as session:
        conversation = _conversation(session, conversation_id)
        if conversation.status == status.value:
            return
        before = conversation.status
        conversation.status = status.value
        changed(session, ctx, actor, conversation_id, kind="conversation.status",
                detail={"from": before, "to": status.value})


def assign(ctx: Context, actor: Actor, conversation_id: int, agent_id: int | None) -> None:
    """Give the conversation to ``agent_id``, or to nobody (None). This is the manual way;
    automatic assignment calls ``assign_in`` inside its own transaction."""
    with ctx.db.write() as session:
        assign_in(session, ctx, actor, conversation_id, agent_id)


def assign_in(
    session: Session, ctx: Context, actor: Actor, conversation_id: int, agent_id: int | None
) -> None:
    conversation = _conversation(session, conversation_id)
    if conversation.assignee_id == agent_id:
        return
    if agent_id is not None:
        agent = session.get(User, agent_id)
        if agent is None or agent.disabled_at is not None:
            raise NotFound(f"There is no active agent #{agent_id}.")
    before = conversation.assignee_id
    conversation.assignee_id = agent_id
    changed(session, ctx, actor, conversation_id, kind="conversation.assigned",
            detail={"from": before, "to": agent_id})


def set_labels(ctx: Context, actor: Actor, conversation_id: int, label_ids: set[int]) -> None:
    """The conversation carries exactly ``label_ids`` afterwards."""
    with ctx.db.write() as session:
        _conversation(session, conversation_id)
        known = set(session.scalars(select(Label.id).where(Label.id.in_(label_ids))).all())
        if known != label_ids:
            raise NotFound(f"There is no label #{min(label_ids - known)}.")
        current = set(session.scalars(select(ConversationLabel.label_id).where(
            ConversationLabel.conversation_id == conversation_id)).all())
        if current == label_ids:
            return
        session.execute(delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation_id,
            ConversationLabel.label_id.in_(current - label_ids)))
        now = ctx.clock.now()
        session.add_all(ConversationLabel(conversation_id=conversation_id, label_id=label,
                                          added_at=now) for label in label_ids - current)
        names = sorted(session.scalars(select(Label.name).where(Label.id.in_(label_ids))).all())
        changed(session, ctx, actor, conversation_id, kind="conversation.labels",
                detail={"labels": names})


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"There is no conversation #{conversation_id}.")
    return conversation
