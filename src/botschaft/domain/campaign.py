"""A campaign's status and the content it sends, as plain values.

Content JSON (stored in ``campaigns.content``, taken by the API)::

    {"kind": "text", "text": "Hallo {{ first_name }}, ..."}
    {"kind": "media", "media": {"kind": "image", "url": "https://..."}, "text": "caption"}
    {"kind": "buttons", "text": "...", "buttons": [{"id": "ja", "title": "Ja, bitte"}]}
    {"kind": "template", "template": {"name": "wochenangebot", "language": "de",
     "params": ["{{ first_name }}"], "text": "the approved body, as people see it"}}

``text`` and template ``params`` may use personalisation (``{{ first_name | default("") }}``).
A template's ``text`` is what the provider shows; it is used for the preview and the lint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botschaft.domain.errors import BotschaftError


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


# Which status each action may leave from.
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
STARTABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
CANCELLABLE = frozenset(
    {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING,
     CampaignStatus.PAUSED}
)


class ContentKind(StrEnum):
    TEXT = "text"
    MEDIA = "media"
    BUTTONS = "buttons"
    TEMPLATE = "template"


MEDIA_KINDS = ("image", "audio", "video", "document")


class CampaignInvalid(BotschaftError):
    code = "campaign_invalid"
    status = 422


class CampaignStateConflict(BotschaftError):
    code = "campaign_state_conflict"
    status = 409


@dataclass(frozen=True)
class ButtonSpec:
    id: str
    title: str


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    params: tuple[str, ...] = ()
    text: str | None = None


@dataclass(frozen=True)
class CampaignContent:
    kind: ContentKind
    text: str | None = None
    media_kind: str | None = None
    media_url: str | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    template: TemplateSpec | None = None

    @property
    def shown_text(self) -> str:
        """What the recipient reads (before personalisation), for the lint and links."""
        if self.template is not None:
            return self.template.text or ""
        return self.text or ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.text is not None:
            data["text"] = self.text
        if self.media_url is not None:
            data["media"] = {"kind": self.media_kind, "url": self.media_url}
        if self.buttons:
            data["buttons"] = [{"id": b.id, "title": b.title} for b in self.buttons]
        if self.template is not None:
            data["template"] = {
                "name": self.template.name, "language": self.template.language,
                "params": list(self.template.params), "text": self.template.text,
            }
        return data


def parse_content(data: object) -> CampaignContent:
    """The content ``data`` describes, or ``CampaignInvalid`` saying what is missing."""
    if not isinstance(data, Mapping):
        raise CampaignInvalid("A campaign's content is a JSON object with a kind.")
    try:
        kind = ContentKind(data.get("kind", ""))
    except ValueError:
        raise CampaignInvalid("The content's kind is text, media, buttons or template.") from None
    text = _optional_text(data, "text")
    if kind is ContentKind.TEXT:
        if not text:
            raise CampaignInvalid("A text campaign needs its text.")
        return CampaignContent(kind, text=text)
    if kind is ContentKind.MEDIA:
        media = data.get("media")
        if not isinstance(media, Mapping) or not _is_url(media.get("url")):
            raise CampaignInvalid("A media campaign needs media with an https:// url.")
        media_kind = media.get("kind", "image")
        if media_kind not in MEDIA_KINDS:
            raise CampaignInvalid(f"Media is one of {', '.join(MEDIA_KINDS)}.")
        return CampaignContent(kind, text=text, media_kind=media_kind, media_url=media["url"])
    if kind is ContentKind.BUTTONS:
        if not text:
            raise CampaignInvalid("A campaign with buttons needs the text above them.")
        return CampaignContent(kind, text=text, buttons=_buttons(data.get("buttons")))
    return CampaignContent(kind, template=_template(data.get("template")))


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CampaignInvalid(f"The content's {key} is text.")
    return value.strip() or None


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _buttons(data: object) -> tuple[ButtonSpec, ...]:
    if not isinstance(data, list) or not data:
        raise CampaignInvalid("Give the buttons as a list of {id, title}.")
    buttons = []
    for item in data:
        if not (isinstance(item, Mapping) and isinstance(item.get("title"), str)
                and item["title"].strip()):
            raise CampaignInvalid("Each button needs a title.")
        title = item["title"].strip()
        buttons.append(ButtonSpec(str(item.get("id") or title.lower())[:64], title))
    if len({b.id for b in buttons}) != len(buttons):
        raise CampaignInvalid("Two buttons have the same id.")
    return tuple(buttons)


def _template(data: object) -> TemplateSpec:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise CampaignInvalid("A template campaign names the approved template (name, language).")
    language = data.get("language")
    if not isinstance(language, str) or not language.strip():
        raise CampaignInvalid("A template campaign names the template's language, e.g. de.")
    params = data.get("params") or []
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise CampaignInvalid("A template's params are a list of texts.")
    shown = data.get("text")
    if shown is not None and not isinstance(shown, str):
        raise CampaignInvalid("A template's text is the approved body as text.")
    return TemplateSpec(data["name"].strip(), language.strip(), tuple(params), shown or None)
