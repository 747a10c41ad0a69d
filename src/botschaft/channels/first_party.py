"""Channels Botschaft carries itself: the sandbox phone and the website chat.

Their messages never leave this server: the outbound row in the database *is* the delivery,
and the phone page or the chat widget reads it from there. Sending therefore only hands out
an id, and nothing can fail on the way.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta

from botschaft.channels.base import Capabilities, WebhookRejected
from botschaft.channels.events import Event, MediaRef
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.outcomes import PermanentFailure, SendOutcome, Sent
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import NotFound

_FIRST_PARTY_MEDIA = frozenset({"image", "document", "audio", "video"})


class FirstPartyChannel:
    """The ``Channel`` for the sandbox and webchat: delivery is the stored message itself."""

    def __init__(self, kind: ChannelKind, capabilities: Capabilities, id_prefix: str) -> None:
        self.kind = kind
        self.capabilities = capabilities
        self._prefix = id_prefix

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        raise WebhookRejected(f"The {self.kind.value} channel takes no webhooks.")

    def parse(self, body: bytes) -> list[Event]:
        raise WebhookRejected(f"The {self.kind.value} channel takes no webhooks.")

    async def send(self, message: OutboundMessage) -> SendOutcome:
        if message.template is not None and not self.capabilities.templates:
            return PermanentFailure("template", f"{self.kind.value} has no templates")
        return Sent(f"{self._prefix}.{secrets.token_urlsafe(12)}")

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        raise NotFound("First-party channels keep attachments as links, not provider media.")

    async def close(self) -> None:
        return None


def sandbox_channel() -> FirstPartyChannel:
    # The sandbox plays a WhatsApp phone, rules included, so journeys tried there hold on
    # the real thing: 24-hour window, templates outside it, three buttons.
    return FirstPartyChannel(
        ChannelKind.SANDBOX,
        Capabilities(
            service_window=timedelta(hours=24), agent_window=None, templates=True,
            max_buttons=3, max_text_length=4096, media_kinds=_FIRST_PARTY_MEDIA,
        ),
        "sbx",
    )


def webchat_channel() -> FirstPartyChannel:
    return FirstPartyChannel(
        ChannelKind.WEBCHAT,
        Capabilities(
            service_window=None, agent_window=None, templates=False, max_buttons=10,
            max_text_length=4096, media_kinds=_FIRST_PARTY_MEDIA,
        ),
        "web",
    )
