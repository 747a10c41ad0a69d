"""Files of the inbox: agents open every file signed in; providers fetch what we send."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from botschaft.channels.registry import Channels
from botschaft.services import attachments
from botschaft.services.attachments import AttachmentView
from botschaft.web.admin.auth import Ctx, app_router
from botschaft.web.inbox.pages import Agent

public_router = APIRouter(tags=["inbox"], include_in_schema=False)
# Shown in the page itself; anything else is downloaded, never run in our origin.
_INLINE = ("image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "audio/mpeg",
           "audio/ogg", "audio/mp4", "audio/aac")

router = app_router(tags=["inbox"])


def _file_response(view: AttachmentView, path: Path, download: bool) -> Response:
    inline = view.mime_type in _INLINE and not download
    disposition = "inline" if inline else "attachment"
    return FileResponse(
        path, media_type=view.mime_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(view.filename)}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.get("/inbox/files/{attachment_id}", response_model=None)
async def agent_file(request: Request, ctx: Ctx, _who: Agent, attachment_id: int) -> Response:
    view, path = await run_in_threadpool(attachments.attachment_file, ctx, attachment_id)
    return _file_response(view, path, "download" in request.query_params)


@router.get("/inbox/messages/{message_id}/media", response_model=None)
async def inbound_media(request: Request, ctx: Ctx, _who: Agent, message_id: int) -> Response:
    """What a person sent: fetched from the provider once, then served from the data dir."""
    channels: Channels = request.app.state.channels
    view = await attachments.inbound_media(ctx, channels, message_id)
    _, path = await run_in_threadpool(attachments.attachment_file, ctx, view.id)
    return _file_response(view, path, "download" in request.query_params)


@public_router.get("/media/{token}", response_model=None)
async def provider_fetch(ctx: Ctx, token: str) -> Response:
    """A file an agent sent, by its unguessable link: WhatsApp and Messenger fetch it here."""
    view, path = await run_in_threadpool(attachments.public_file, ctx, token)
    return _file_response(view, path, download=False)
