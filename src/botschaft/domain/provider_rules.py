"""What a provider refuses for reasons of its own, known before anything is sent."""

from __future__ import annotations

from botschaft.domain.channels import ChannelKind
from botschaft.domain.gate import MessageFormat, MessageKind

# WhatsApp refuses marketing templates to +1 (US) numbers since 1 April 2025 (AWS End User
# Messaging Social documentation, relaying Meta); sending them only burns quota.
US_MARKETING_TEMPLATE = "us_marketing_template"


def provider_refusal(
    channel: ChannelKind, address: str, kind: MessageKind, fmt: MessageFormat
) -> str | None:
    """The skip reason of a message the provider is known to refuse, or None."""
    if (
        channel is ChannelKind.WHATSAPP
        and kind is MessageKind.MARKETING
        and fmt is MessageFormat.TEMPLATE
        and address.removeprefix("+").startswith("1")
    ):
        return US_MARKETING_TEMPLATE
    return None
