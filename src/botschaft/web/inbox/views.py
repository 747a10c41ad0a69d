"""What the inbox's templates show, built from the services' views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import Request

from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import ReplyMode
from botschaft.domain.errors import BotschaftError
from botschaft.i18n import translate
from botschaft.services import attachments, canned, conversations, inbox, notes
from botschaft.services.accounts import UserView, list_users
from botschaft.services.agent_reply import rendered_template, templates_for
from botschaft.services.app_sessions import SignedIn
from botschaft.services.context import Context
from botschaft.services.conversations import UNASSIGNED, InboxFilter, Status

# Ticks as messengers draw them: one grey, two grey, two blue.
TICKS = {"sending": "◷", "sent": "✓", "delivered": "✓✓", "read": "✓✓"}


class BadFilter(BotschaftError):
    code = "inbox_filter_invalid"
    status = 422


@dataclass(frozen=True)
class Item:
    """One line of the thread: a message or an internal note, in time order."""

    kind: str  # in | out | note
    at: datetime
    message: inbox.MessageView | None = None
    note: notes.NoteView | None = None
    attachment: attachments.AttachmentView | None = None
    media_url: str | None = None  # where the agent opens the file
    media_kind: str | None = None
    author: str | None = None

    @property
    def file_name(self) -> str | None:
        return self.attachment.filename if self.attachment else None

    @property
    def file_type(self) -> str:
        """A short badge for the file: its extension, else its kind."""
        name = self.file_name or ""
        extension = name.rsplit(".", 1)[-1] if "." in name else (self.media_kind or "file")
        return extension[:4].upper()

    @property
    def file_size(self) -> str:
        size = self.attachment.size if self.attachment else 0
        if size < 1024:
            return f"{size} B"
        if size < 1024 * 1024:
            return f"{size / 1024:.0f} KB"
        return f"{size / 1048576:.1f} MB"


def inbox_filter(request: Request, who: SignedIn) -> InboxFilter:
    """The list's filter from the query string; a wrong value is a 422 page, not a 500."""
    query = request.query_params
    try:
        channel = ChannelKind(query["channel"]) if query.get("channel") else None
        status = Status(query["status"]) if query.get("status") else None
        assignee_text = query.get("assignee", "")
        assignee = {"": None, "me": who.user.id, "none": UNASSIGNED}.get(assignee_text)
        if assignee is None and assignee_text:
            assignee = int(assignee_text)
        label = int(query["label"]) if query.get("label") else None
        before = _cursor(query.get("before", ""))
    except (ValueError, KeyError):
        raise BadFilter("A filter of the inbox has a value it does not know.") from None
    return InboxFilter(channel=channel, status=status, assignee=assignee, label=label,
                       before=before)


def _cursor(text: str) -> tuple[datetime, int] | None:
    if not text:
        return None
    at, _, last = text.rpartition("_")
    return datetime.fromisoformat(at), int(last)


def cursor_text(cursor: tuple[datetime, int] | None) -> str:
    return f"{cursor[0].isoformat()}_{cursor[1]}" if cursor else ""


def list_context(ctx: Context, request: Request, who: SignedIn, language: str
                 ) -> dict[str, Any]:
    flt = inbox_filter(request, who)
    page = conversations.list_page(ctx, flt)
    agents = [u for u in list_users(ctx) if u.active]
    filters = {k: v for k, v in request.query_params.items()
               if k in ("channel", "status", "assignee", "label") and v}
    return {
        "page": page, "filters": filters, "list_query": urlencode(filters),
        "older_query": urlencode({**filters, "before": cursor_text(page.next)}),
        "next_cursor": cursor_text(page.next), "agents": {a.id: a for a in agents},
        "agent_list": agents, "short_time": short_time(ctx, language),
        "labels": canned.labels(ctx), "channels": list(ChannelKind),
        "statuses": [s.value for s in Status],
    }


def thread_context(
    ctx: Context, channels: Channels, who: SignedIn, conversation_id: int, language: str
) -> dict[str, Any]:
    channel = ChannelKind(inbox.get_conversation(ctx, conversation_id).channel)
    templates = templates_for(ctx, channels, channel)
    head = conversations.thread(ctx, conversation_id, templates=bool(templates))
    now = ctx.clock.now()
    values = {"contact_name": head.row.contact_name or "", "agent_name": who.user.display_name,
              "business_name": ctx.settings.business.name}
    return {
        "head": head, "items": thread_items(ctx, conversation_id),
        "mode": head.reply.mode.value, "modes": ReplyMode,
        "remaining": remaining_text(language, head.reply.remaining(now)),
        "window_open": head.reply.window_ends_at is not None and now < head.reply.window_ends_at,
        "templates": [(t.name, rendered_template(t, values)[0]) for t in templates],
        "canned": canned.canned_responses(ctx), "ticks": TICKS,
        "label_ids": {label.id for label in head.row.labels},
    }


def thread_items(ctx: Context, conversation_id: int) -> list[Item]:
    messages = inbox.latest_messages(ctx, conversation_id)
    since = messages[0].created_at if messages else None
    files = attachments.attachments_of(ctx, [m.id for m in messages])
    items = [_message_item(m, files.get(m.id)) for m in messages]
    items += [Item("note", n.created_at, note=n, author=n.author_name)
              for n in notes.notes_of(ctx, conversation_id)
              if since is None or n.created_at >= since]
    return sorted(items, key=lambda item: item.at)


def _message_item(message: inbox.MessageView, file: attachments.AttachmentView | None) -> Item:
    payload = message.payload or {}
    name = payload.get("author_name")
    author = name if isinstance(name, str) else None
    media = payload.get("media")
    media_url = media_kind = None
    if message.direction == "in" and isinstance(media, dict):
        media_url = f"/app/inbox/messages/{message.id}/media"
        media_kind = attachments.media_kind(str(media.get("mime_type") or ""))
    elif file is not None:
        media_url, media_kind = f"/app/inbox/files/{file.id}", file.kind
    return Item(message.direction, message.created_at, message=message, attachment=file,
                media_url=media_url, media_kind=media_kind, author=author)


def remaining_text(language: str, left: timedelta | None) -> str | None:
    if left is None:
        return None
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    if days >= 2:
        return translate(language, "app.inbox.left_days", days=days, hours=rest // 60)
    return translate(language, "app.inbox.left_hours", hours=minutes // 60, minutes=rest % 60)


def short_time(ctx: Context, language: str) -> Callable[[datetime], str]:
    """A list's time: the clock time today, the day otherwise (as mail programs do)."""
    zone = ZoneInfo(ctx.settings.default_time_zone)
    today = ctx.clock.now().astimezone(zone).date()

    def short(moment: datetime) -> str:
        local = moment.astimezone(zone)
        if local.date() == today:
            return format_time(local, "HH:mm", locale=language)
        return format_date(local, "d. MMM" if language == "de" else "d MMM", locale=language)

    return short


def agent_name(agents: dict[int, UserView], agent_id: int | None) -> str | None:
    found = agents.get(agent_id) if agent_id is not None else None
    return found.display_name if found else None
