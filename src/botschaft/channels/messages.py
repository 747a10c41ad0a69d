"""Neutral outbound messages, rendered into provider payloads by each adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True)
class Media:
    kind: str  # image | audio | video | document
    url: str
    caption: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class TemplateParameter:
    text: str | None = None
    image_url: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class TemplateComponent:
    type: str  # header | body | button
    parameters: tuple[TemplateParameter, ...] = ()
    sub_type: str | None = None  # quick_reply | url, for buttons
    index: int | None = None


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    components: tuple[TemplateComponent, ...] = ()


class MessageTag(StrEnum):
    HUMAN_AGENT = "HUMAN_AGENT"  # Messenger: an agent's reply up to 7 days after


@dataclass(frozen=True)
class OutboundMessage:
    """Exactly one of text, media or template is set; buttons go with text."""

    to: str
    text: str | None = None
    media: Media | None = None
    template: Template | None = None
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    reply_to: str | None = None
    tag: MessageTag | None = None
    callback_data: str | None = None  # echoed back in status updates where supported
