"""The messengers Botschaft speaks, as the rest of the domain sees them."""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"
    WEBCHAT = "webchat"
    SANDBOX = "sandbox"

    @property
    def service_window_applies(self) -> bool:
        """Whether the provider refuses free-form messages outside a customer-care window.

        WhatsApp and Messenger do (24 h after the person's last message); a Telegram bot
        may write to anyone who started it; webchat and the sandbox are our own.
        """
        return self in (ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.SANDBOX)

    @property
    def human_agent_tag(self) -> bool:
        """Whether an agent's reply may carry the HUMAN_AGENT tag (Messenger: up to 7 days)."""
        return self is ChannelKind.MESSENGER

    @property
    def addresses_are_phone_numbers(self) -> bool:
        return self in (ChannelKind.WHATSAPP, ChannelKind.SANDBOX)
