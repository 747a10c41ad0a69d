"""The inbox's change feed and who made a change: what live views follow.

A change of a conversation writes one ``inbox_events`` row in the transaction of the change
itself, so a view that sees the row sees the change. New messages and their delivery ticks
are followed in ``messages`` directly.

Every such write also ``announce``s the conversation on the ``inbox`` topic, in the same
transaction: live views wait for that instead of polling, and read the database when woken.
The announcement goes through ``storage.notifier.publish_in`` with the session that writes,
not through a ``Notifier`` handed to the use case: on PostgreSQL it is a ``pg_notify`` that
every process hears after commit, so a worker, a CLI command or another ``serve`` process
wakes this one's streams without holding a notifier; on SQLite it reaches the notifiers of
this process (no other process can listen). So ``Context`` stays as it is, and code that
runs without any notifier (commands, tests) publishes all the same, at the cost of one
statement per write on PostgreSQL and nothing when nobody listens on SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.inbox import InboxEvent
from botschaft.storage.models import Message
from botschaft.storage.notifier import publish_in

# Payload: a conversation id. Views read the database when woken; the id lets a view of one
# conversation ignore the others.
INBOX_TOPIC = "inbox"


@dataclass(frozen=True)
class Actor:
    """The agent who acts (``id`` None: Botschaft itself, e.g. the on-duty rotation)."""

    id: int | None
    name: str
    signature: str | None = None  # under the agent's replies; None: the default one


def changed(
    session: Session, ctx: Context, actor: Actor, conversation_id: int, *, kind: str,
    detail: Mapping[str, Any],
) -> None:
    """Record, in the caller's transaction, that ``actor`` changed ``conversation_id``: a
    row of the change feed and one of the audit log (``kind`` is the audit action)."""
    now = ctx.clock.now()
    session.add(InboxEvent(conversation_id=conversation_id, kind=kind, at=now))
    record_audit(session, actor.id, kind, f"conversation:{conversation_id}", detail, at=now)
    announce(session, ctx, conversation_id)


def announce(session: Session, ctx: Context, conversation_id: int) -> None:
    """Wake the live views of ``conversation_id`` once the caller's transaction commits:
    after a message was stored or its status changed, or the conversation changed."""
    publish_in(ctx.db, session, INBOX_TOPIC, str(conversation_id))


@dataclass(frozen=True)
class Mark:
    """How far a view has seen: the last message and the last inbox event."""

    message_id: int
    event_id: int


# Outbound statuses that may still change (a tick to come); read and failed are final.
_OPEN_STATUSES = ("sending", "sent", "delivered")


def open_statuses(ctx: Context, conversation_id: int) -> dict[int, str]:
    """The outbound messages of a conversation whose ticks may still change, newest 200."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(Message.id, Message.status)
            .where(Message.conversation_id == conversation_id, Message.direction == "out",
                   Message.status.in_(_OPEN_STATUSES))
            .order_by(Message.id.desc()).limit(200)
        ).all()
    return {message_id: status for message_id, status in rows}


def current_mark(ctx: Context) -> Mark:
    with ctx.db.read() as session:
        return Mark(
            session.scalar(select(func.coalesce(func.max(Message.id), 0))) or 0,
            session.scalar(select(func.coalesce(func.max(InboxEvent.id), 0))) or 0,
        )


def changes_since(ctx: Context, mark: Mark) -> tuple[Mark, set[int]]:
    """The conversations with a new message or event since ``mark``, and the new mark."""
    with ctx.db.read() as session:
        messages = session.execute(
            select(Message.id, Message.conversation_id).where(Message.id > mark.message_id)
            .order_by(Message.id).limit(1000)
        ).all()
        events = session.execute(
            select(InboxEvent.id, InboxEvent.conversation_id)
            .where(InboxEvent.id > mark.event_id).order_by(InboxEvent.id).limit(1000)
        ).all()
    touched = {cid for _, cid in messages} | {cid for _, cid in events}
    return (
        Mark(messages[-1][0] if messages else mark.message_id,
             events[-1][0] if events else mark.event_id),
        touched,
    )
