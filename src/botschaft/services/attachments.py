"""Files in conversations: agents' uploads and the media people sent, kept under the data dir.

Uploads are stored before the reply goes, and each gets an unguessable token: WhatsApp and
Messenger take media by link, so ``/media/<token>`` serves an outbound file to whoever holds
the link (the provider), while agents read every file through the authenticated inbox.
Inbound media are fetched from the provider on first view and kept, because provider links
expire (WhatsApp's after minutes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.base import MediaUnavailable
from botschaft.channels.events import MediaRef
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.context import Context
from botschaft.services.inbox_feed import Actor
from botschaft.storage.inbox import Attachment
from botschaft.storage.models import Conversation, Message

_UNSAFE = re.compile(r"[^\w.\- ]+")
# What WhatsApp shows inline; anything else goes as a document, which every channel takes.
_INLINE = {"image": ("image/jpeg", "image/png"), "video": ("video/mp4", "video/3gpp"),
           "audio": ("audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg")}


class AttachmentRefused(BotschaftError):
    code = "attachment_refused"
    status = 413


@dataclass(frozen=True)
class AttachmentView:
    id: int
    conversation_id: int
    message_id: int | None
    direction: str
    token: str
    filename: str
    mime_type: str
    size: int
    kind: str  # image | audio | video | document
    created_at: datetime


def media_kind(mime_type: str) -> str:
    """The neutral media kind a file goes out as."""
    for kind, types in _INLINE.items():
        if mime_type in types:
            return kind
    return "document"


def store_upload(
    ctx: Context, actor: Actor, conversation_id: int, *, filename: str, mime_type: str,
    data: bytes,
) -> AttachmentView:
    """Keep an agent's file for a reply in ``conversation_id``; not sent yet."""
    limit = ctx.settings.inbox.max_attachment_mb * 1024 * 1024
    if not data:
        raise AttachmentRefused("The file is empty.")
    if len(data) > limit:
        raise AttachmentRefused(
            f"The file has {len(data) / 1048576:.1f} MB; replies take at most"
            f" {ctx.settings.inbox.max_attachment_mb} MB (BOTSCHAFT_INBOX__MAX_ATTACHMENT_MB)."
        )
    with ctx.db.write() as session:
        if session.get(Conversation, conversation_id) is None:
            raise NotFound(f"There is no conversation #{conversation_id}.")
        row = _keep(session, ctx, conversation_id, direction="out", filename=filename,
                    mime_type=mime_type, data=data, uploaded_by=actor.id)
        return _view(row)


def _keep(
    session: Session, ctx: Context, conversation_id: int, *, direction: str, filename: str,
    mime_type: str, data: bytes, uploaded_by: int | None, message_id: int | None = None,
) -> Attachment:
    token = secrets.token_urlsafe(24)
    relative = f"{ctx.clock.now():%Y%m}/{token}"
    path = attachments_dir(ctx) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    row = Attachment(
        conversation_id=conversation_id, message_id=message_id, direction=direction,
        token=token, filename=_safe_name(filename), mime_type=mime_type or
        "application/octet-stream", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        path=relative, uploaded_by=uploaded_by, created_at=ctx.clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def attachments_dir(ctx: Context) -> Path:
    return Path(ctx.settings.data_dir) / "attachments"


def _safe_name(filename: str) -> str:
    # Only the last path part, in characters every file system and header takes.
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    return name[:200] or "file"


def uploads(ctx: Context, conversation_id: int, ids: list[int]) -> list[AttachmentView]:
    """The agent's unsent uploads ``ids`` of this conversation, or ``NotFound``."""
    if not ids:
        return []
    with ctx.db.read() as session:
        rows = session.scalars(select(Attachment).where(
            Attachment.id.in_(ids), Attachment.conversation_id == conversation_id,
            Attachment.direction == "out", Attachment.message_id.is_(None))).all()
        if len(rows) != len(set(ids)):
            raise NotFound("An attached file is gone or was sent already; attach it again.")
        return [_view(r) for r in sorted(rows, key=lambda r: r.id)]


def link_to_message(ctx: Context, attachment_id: int, message_id: int) -> None:
    with ctx.db.write() as session:
        session.get_one(Attachment, attachment_id).message_id = message_id


def attachment_file(ctx: Context, attachment_id: int) -> tuple[AttachmentView, Path]:
    with ctx.db.read() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(f"There is no attachment #{attachment_id}.")
        return _view(row), attachments_dir(ctx) / row.path


def public_file(ctx: Context, token: str) -> tuple[AttachmentView, Path]:
    """An outbound file by its link token: what a provider fetches. Never inbound media."""
    with ctx.db.read() as session:
        row = session.scalar(select(Attachment).where(Attachment.token == token,
                                                      Attachment.direction == "out"))
        if row is None:
            raise NotFound("There is no such file.")
        return _view(row), attachments_dir(ctx) / row.path


def public_url(ctx: Context, attachment: AttachmentView) -> str:
    return f"{ctx.settings.effective_public_url}/media/{attachment.token}"


def attachments_of(ctx: Context, message_ids: list[int]) -> dict[int, AttachmentView]:
    if not message_ids:
        return {}
    with ctx.db.read() as session:
        rows = session.scalars(select(Attachment).where(
            Attachment.message_id.in_(message_ids))).all()
        return {r.message_id: _view(r) for r in rows if r.message_id is not None}


async def inbound_media(ctx: Context, channels: Channels, message_id: int) -> AttachmentView:
    """The file a person sent with ``message_id``: kept here, or fetched from the provider."""
    kept, ref, channel, conversation_id = await asyncio.to_thread(_inbound_ref, ctx, message_id)
    if kept is not None:
        return kept
    try:
        data, mime_type = await channels.get(channel).fetch_media(ref)
    except NotFound as exc:
        raise MediaUnavailable(exc.message) from None

    def keep() -> AttachmentView:
        with ctx.db.write() as session:
            row = _keep(session, ctx, conversation_id, direction="in",
                        filename=ref.filename or _name_for(ref, mime_type),
                        mime_type=mime_type or ref.mime_type, data=data, uploaded_by=None,
                        message_id=message_id)
            return _view(row)

    return await asyncio.to_thread(keep)


def _inbound_ref(
    ctx: Context, message_id: int
) -> tuple[AttachmentView | None, MediaRef, ChannelKind, int]:
    with ctx.db.read() as session:
        message = session.get(Message, message_id)
        media = json.loads(message.payload).get("media") if message and message.payload else None
        if message is None or message.direction != "in" or not media:
            raise NotFound(f"Message #{message_id} carries no file.")
        kept = session.scalar(select(Attachment).where(Attachment.message_id == message_id))
        ref = MediaRef(provider_media_id=str(media.get("id") or ""),
                       mime_type=str(media.get("mime_type") or "application/octet-stream"),
                       caption=media.get("caption"), filename=media.get("filename"),
                       url=media.get("url"))
        return (_view(kept) if kept else None, ref, ChannelKind(message.channel),
                message.conversation_id)


def _name_for(ref: MediaRef, mime_type: str) -> str:
    extension = (mime_type or ref.mime_type).split("/")[-1].split(";")[0] or "bin"
    return f"{ref.provider_media_id[:40] or 'file'}.{extension}"


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(row.id, row.conversation_id, row.message_id, row.direction,
                          row.token, row.filename, row.mime_type, row.size,
                          media_kind(row.mime_type), row.created_at)
