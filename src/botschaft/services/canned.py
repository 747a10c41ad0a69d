"""Canned responses (typed as ``/shortcut``) and labels: the inbox's workspace-wide
settings that agents manage in the UI."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from botschaft.domain.composer import check_shortcut
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.services.conversations import LabelView
from botschaft.services.inbox_feed import Actor
from botschaft.storage.inbox import CannedResponse, ConversationLabel, Label

MAX_CANNED = 2000
LABEL_COLORS = ("slate", "blue", "green", "amber", "red", "violet")
_LABEL_NAME = re.compile(r"[^\x00-\x1f]{1,64}")


class InvalidInboxSetting(BotschaftError):
    code = "inbox_setting_invalid"
    status = 422


class Taken(BotschaftError):
    code = "inbox_name_taken"
    status = 409


@dataclass(frozen=True)
class CannedView:
    id: int
    shortcut: str
    text: str


def canned_responses(ctx: Context) -> list[CannedView]:
    with ctx.db.read() as session:
        rows = session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut)).all()
        return [CannedView(r.id, r.shortcut, r.text) for r in rows]


def canned_map(ctx: Context) -> dict[str, str]:
    return {c.shortcut: c.text for c in canned_responses(ctx)}


def save_canned(ctx: Context, actor: Actor, shortcut: str, text: str,
                canned_id: int | None = None) -> CannedView:
    """Create a canned response, or change ``canned_id``'s; a shortcut is unique."""
    name, text = check_shortcut(shortcut), text.strip()
    if not text or len(text) > MAX_CANNED:
        raise InvalidInboxSetting(f"A canned response needs 1 to {MAX_CANNED} characters.")
    now = ctx.clock.now()
    try:
        with ctx.db.write() as session:
            if canned_id is None:
                row = CannedResponse(shortcut=name, text=text, created_at=now, updated_at=now)
                session.add(row)
            else:
                found = session.get(CannedResponse, canned_id)
                if found is None:
                    raise NotFound(f"There is no canned response #{canned_id}.")
                row = found
                row.shortcut, row.text, row.updated_at = name, text, now
            session.flush()
            record_audit(session, actor.id, "canned.saved", f"canned:{row.id}",
                         {"shortcut": name}, at=now)
            return CannedView(row.id, row.shortcut, row.text)
    except IntegrityError:
        raise Taken(f"The shortcut /{name} exists already.") from None


def delete_canned(ctx: Context, actor: Actor, canned_id: int) -> None:
    with ctx.db.write() as session:
        session.execute(delete(CannedResponse).where(CannedResponse.id == canned_id))
        record_audit(session, actor.id, "canned.deleted", f"canned:{canned_id}",
                     at=ctx.clock.now())


def labels(ctx: Context) -> list[LabelView]:
    with ctx.db.read() as session:
        rows = session.scalars(select(Label).order_by(Label.name)).all()
        return [LabelView(r.id, r.name, r.color) for r in rows]


def create_label(ctx: Context, actor: Actor, name: str, color: str = "slate") -> LabelView:
    name = name.strip()
    if not _LABEL_NAME.fullmatch(name):
        raise InvalidInboxSetting("A label's name has 1 to 64 characters.")
    if color not in LABEL_COLORS:
        raise InvalidInboxSetting(f"A label's colour is one of {', '.join(LABEL_COLORS)}.")
    try:
        with ctx.db.write() as session:
            row = Label(name=name, color=color, created_at=ctx.clock.now())
            session.add(row)
            session.flush()
            record_audit(session, actor.id, "label.created", f"label:{row.id}",
                         {"name": name}, at=row.created_at)
            return LabelView(row.id, row.name, row.color)
    except IntegrityError:
        raise Taken(f"The label {name!r} exists already.") from None


def delete_label(ctx: Context, actor: Actor, label_id: int) -> None:
    with ctx.db.write() as session:
        record_audit(session, actor.id, "label.deleted", f"label:{label_id}",
                     at=ctx.clock.now())
        session.execute(delete(ConversationLabel).where(ConversationLabel.label_id == label_id))
        session.execute(delete(Label).where(Label.id == label_id))
