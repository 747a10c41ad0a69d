"""Provider webhooks: verify, parse, store durably, answer; handling happens in the lane.

Decisions per provider, for a request that passed verification but cannot be read
(not JSON, an unknown shape): WhatsApp, Messenger and Telegram all get 200 and the body is
kept as a dead letter. Only the provider can produce a verified body, so a 4xx would not
stop a sender of garbage; it would make Meta retry for up to seven days and finally switch
the subscription off, and make Telegram hold back every later update behind this one.
Unverified requests get 401 or 403 and change nothing.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from botschaft.channels.base import MalformedWebhook
from botschaft.channels.messenger import MessengerChannel
from botschaft.channels.registry import Channels
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import NotFound
from botschaft.services.context import Context
from botschaft.services.intake import IntakeQueue, IntakeResult, store_unreadable

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("/whatsapp", response_class=PlainTextResponse)
def whatsapp_handshake(request: Request) -> PlainTextResponse:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    return _handshake(request, ChannelKind.WHATSAPP)


@router.get("/messenger", response_class=PlainTextResponse)
def messenger_handshake(request: Request) -> PlainTextResponse:
    """Meta's subscription check for the Messenger webhook."""
    return _handshake(request, ChannelKind.MESSENGER)


def _handshake(request: Request, kind: ChannelKind) -> PlainTextResponse:
    adapter = _channels(request).get(kind)
    if not isinstance(adapter, WhatsAppChannel | MessengerChannel):
        raise NotFound(f"The {kind.value} channel has no verification handshake.")
    return PlainTextResponse(adapter.handshake(dict(request.query_params)))


async def whatsapp_events(request: Request) -> Response:
    """Signed WhatsApp Cloud API events (messages, statuses, marketing preferences)."""
    return await _receive(request, ChannelKind.WHATSAPP)


async def messenger_events(request: Request) -> Response:
    """Signed Messenger Platform events."""
    return await _receive(request, ChannelKind.MESSENGER)


async def telegram_events(request: Request) -> Response:
    """Telegram updates, authenticated by X-Telegram-Bot-Api-Secret-Token."""
    return await _receive(request, ChannelKind.TELEGRAM)


# The event endpoints are the hottest path of the server and take nothing but the raw
# body, so they are plain Starlette routes: FastAPI's dependency solving and validation
# would cost about a third of each request and add nothing here (bench/webhooks.py).
for _path, _endpoint in (
    ("/whatsapp", whatsapp_events),
    ("/messenger", messenger_events),
    ("/telegram", telegram_events),
):
    router.add_route(router.prefix + _path, _endpoint, methods=["POST"],
                     include_in_schema=False)


async def _receive(request: Request, kind: ChannelKind) -> Response:
    adapter = _channels(request).get(kind)
    body = await request.body()
    adapter.verify(request.headers, body)  # raises 401/403 before anything is read
    ctx: Context = request.app.state.ctx
    try:
        events = adapter.parse(body)
    except MalformedWebhook as exc:
        digest = hashlib.sha256(body).hexdigest()
        await run_in_threadpool(store_unreadable, ctx, kind, digest, body, exc.message)
        return JSONResponse({"stored": 0, "unreadable": exc.message})
    queue: IntakeQueue = request.app.state.intake_queue
    result: IntakeResult = await queue.store(events)
    if result.stored:
        request.app.state.inbound_lane.wake()
    return JSONResponse({"stored": result.stored, "duplicates": result.duplicates})


def _channels(request: Request) -> Channels:
    channels: Channels = request.app.state.channels
    return channels
