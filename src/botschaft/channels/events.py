"""Neutral inbound events, built from provider payloads at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from botschaft.domain.channels import ChannelKind


class InboundKind(StrEnum):
    TEXT = "text"
    BUTTON = "button"  # a tap on a reply button, quick reply or postback
    LIST_REPLY = "list_reply"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class MediaRef:
    """Metadata of an attachment; the bytes are fetched on demand through the channel."""

    provider_media_id: str
    mime_type: str
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: ChannelKind
    account: str  # our side: WhatsApp phone_number_id, Telegram bot id, Messenger page id
    provider_message_id: str
    sender: str  # their side: E.164 number, chat id, page-scoped id, visitor id
    sent_at: datetime
    kind: InboundKind
    text: str | None = None
    payload: str | None = None  # the button / postback / callback id
    sender_name: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    shared_contacts: tuple[str, ...] = ()
    reply_to: str | None = None  # provider id of the message this answers
    start_token: str | None = None  # an opt-in token carried by a deep link (t.me ?start=)

    @property
    def dedupe_key(self) -> str:
        return f"{self.channel.value}:msg:{self.provider_message_id}"


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        """Statuses arrive out of order; a lower rank never replaces a higher one."""
        return {"sent": 1, "delivered": 2, "read": 3, "failed": 4}[self.value]


@dataclass(frozen=True)
class ProviderError:
    code: str
    title: str
    details: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    channel: ChannelKind
    account: str
    provider_message_id: str
    status: DeliveryStatus
    at: datetime
    recipient: str
    errors: tuple[ProviderError, ...] = ()
    callback_data: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"{self.channel.value}:status:{self.provider_message_id}:{self.status.value}"


class PreferenceValue(StrEnum):
    STOP = "stop"
    RESUME = "resume"


@dataclass(frozen=True)
class PreferenceChange:
    """The person stopped or resumed a category of messages inside the messenger app."""

    channel: ChannelKind
    account: str
    sender: str
    category: str
    value: PreferenceValue
    at: datetime
    detail: str | None = None

    @property
    def dedupe_key(self) -> str:
        return (
            f"{self.channel.value}:pref:{self.sender}:{self.category}:{self.value.value}"
            f":{int(self.at.timestamp())}"
        )


@dataclass(frozen=True)
class IgnoredEvent:
    """A well-formed update of a kind we do not handle; kept for the log, never acted on."""

    channel: ChannelKind
    description: str
    key: str = field(default="")

    @property
    def dedupe_key(self) -> str:
        return f"{self.channel.value}:ignored:{self.key}" if self.key else ""


Event = InboundMessage | StatusUpdate | PreferenceChange | IgnoredEvent
