"""The one interface every channel adapter implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from botschaft.channels.events import Event, MediaRef
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.outcomes import PermanentFailure, SendOutcome
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError


class WebhookRejected(BotschaftError):
    """Missing or wrong signature or secret: nothing is stored, nothing changes."""

    code = "webhook_unauthorised"
    status = 401


class WebhookForbidden(WebhookRejected):
    code = "webhook_forbidden"
    status = 403


class MalformedWebhook(BotschaftError):
    code = "webhook_malformed"
    status = 400


class MediaUnavailable(BotschaftError):
    """An attachment could not be downloaded: expired, unknown, refused, too large, or the
    network failed."""

    code = "media_unavailable"
    status = 502


@dataclass(frozen=True)
class Capabilities:
    service_window: timedelta | None  # None: the provider has no window
    agent_window: timedelta | None  # e.g. Messenger's HUMAN_AGENT tag, 7 days
    templates: bool
    max_buttons: int
    max_text_length: int
    media_kinds: frozenset[str]


class Channel(Protocol):
    kind: ChannelKind
    capabilities: Capabilities

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``WebhookRejected`` unless the request is authentic (raw bytes as received)."""

    def parse(self, body: bytes) -> list[Event]:
        """Turn a verified webhook body into neutral events; ``MalformedWebhook`` if unusable."""

    async def send(self, message: OutboundMessage) -> SendOutcome:
        """Send one message; every provider answer maps to a neutral outcome, never raises
        for provider errors or network failures."""

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """Download an attachment's bytes and MIME type on demand."""

    async def close(self) -> None:
        """Release the HTTP session."""


# A message as the one request its provider takes: the API method ("" where the provider
# has a single send endpoint) and the JSON body, encoded.
Wire = tuple[str, bytes]


@runtime_checkable
class WireChannel(Channel, Protocol):
    """A channel whose send is one JSON request, split in two: ``encode`` (pure, may run in
    another process, as the dispatcher's claiming does) and ``send_wire`` (the request).
    ``send(m)`` is the same as ``send_wire(encode(m))``."""

    def encode(self, message: OutboundMessage) -> Wire | PermanentFailure:
        """The request for ``message``, or why the provider cannot carry it."""

    async def send_wire(self, wire: Wire) -> SendOutcome:
        """Make the request; like ``send``, every answer and failure becomes an outcome."""


# The header of an encoded body (``Wire``), posted as bytes rather than aiohttp's ``json=``.
JSON_CONTENT = {"Content-Type": "application/json"}


async def send_encoded(channel: WireChannel, message: OutboundMessage) -> SendOutcome:
    """``send`` of a ``WireChannel``: encode, then post (or say why it cannot be carried)."""
    wire = channel.encode(message)
    if isinstance(wire, PermanentFailure):
        return wire
    return await channel.send_wire(wire)
