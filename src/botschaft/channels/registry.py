"""The channel adapters of this installation, built from the settings."""

from __future__ import annotations

from botschaft.channels.base import Channel
from botschaft.channels.first_party import sandbox_channel, webchat_channel
from botschaft.channels.messenger import MessengerChannel
from botschaft.channels.telegram import Clock, TelegramChannel
from botschaft.channels.whatsapp import WhatsAppChannel
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import NotFound
from botschaft.settings import Settings


class Channels:
    """Adapters by kind. Provider channels exist only when switched on in the settings."""

    def __init__(self, adapters: dict[ChannelKind, Channel]) -> None:
        self._adapters = adapters

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Channels:
        adapters: dict[ChannelKind, Channel] = {
            ChannelKind.SANDBOX: sandbox_channel(),
            ChannelKind.WEBCHAT: webchat_channel(),
        }
        if settings.whatsapp.enabled:
            adapters[ChannelKind.WHATSAPP] = WhatsAppChannel(settings.whatsapp)
        if settings.telegram.enabled:
            adapters[ChannelKind.TELEGRAM] = TelegramChannel(settings.telegram, clock=clock)
        if settings.messenger.enabled:
            adapters[ChannelKind.MESSENGER] = MessengerChannel(settings.messenger)
        return cls(adapters)

    def get(self, kind: ChannelKind) -> Channel:
        adapter = self._adapters.get(kind)
        if adapter is None:
            raise NotFound(
                f"The {kind.value} channel is not switched on"
                f" (BOTSCHAFT_{kind.value.upper()}__ENABLED)."
            )
        return adapter

    def enabled(self) -> list[ChannelKind]:
        return list(self._adapters)

    async def close(self) -> None:
        for adapter in self._adapters.values():
            await adapter.close()
