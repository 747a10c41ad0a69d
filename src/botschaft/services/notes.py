"""Internal notes: what agents tell each other inside a conversation; never sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.context import Context
from botschaft.services.inbox_feed import Actor, changed
from botschaft.storage.inbox import InboxNote
from botschaft.storage.models import Conversation

MAX_NOTE = 4000


class EmptyNote(BotschaftError):
    code = "note_empty"
    status = 422


@dataclass(frozen=True)
class NoteView:
    id: int
    conversation_id: int
    author_name: str
    text: str
    created_at: datetime


def add_note(ctx: Context, actor: Actor, conversation_id: int, text: str) -> NoteView:
    """Keep a note in the conversation for the team. Nothing reaches the person."""
    text = text.strip()
    if not text:
        raise EmptyNote("A note needs some text.")
    if len(text) > MAX_NOTE:
        raise EmptyNote(f"A note holds at most {MAX_NOTE} characters; this one has {len(text)}.")
    with ctx.db.write() as session:
        if session.get(Conversation, conversation_id) is None:
            raise NotFound(f"There is no conversation #{conversation_id}.")
        note = InboxNote(conversation_id=conversation_id, author_id=actor.id,
                         author_name=actor.name, text=text, created_at=ctx.clock.now())
        session.add(note)
        session.flush()
        changed(session, ctx, actor, conversation_id, kind="conversation.note_added",
                detail={"note": note.id})
        return NoteView(note.id, conversation_id, note.author_name, note.text, note.created_at)


def notes_of(ctx: Context, conversation_id: int) -> list[NoteView]:
    with ctx.db.read() as session:
        rows = session.scalars(
            select(InboxNote).where(InboxNote.conversation_id == conversation_id)
            .order_by(InboxNote.id)
        ).all()
        return [NoteView(r.id, r.conversation_id, r.author_name, r.text, r.created_at)
                for r in rows]
