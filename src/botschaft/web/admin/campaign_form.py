"""The "new campaign" form of the app: its fields turned into a ``CampaignSpec`` whose
content is the JSON ``domain.campaign.parse_content`` reads, the same the API takes.

One form serves every kind: text, media (with a caption), text with up to three buttons,
or an approved template (name, language, one parameter per line, its text for the preview
and the lint). Fields of the other kinds are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botschaft.domain.campaign import MEDIA_KINDS, ContentKind
from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.i18n import translate
from botschaft.services.campaigns import CampaignSpec

BUTTON_FIELDS = ("button_1", "button_2", "button_3")
FIELDS = ("name", "channel", "audience_id", "kind", "text", "media_kind", "media_url",
          *BUTTON_FIELDS, "template_name", "template_language", "template_params",
          "template_text", "track_links")


class CampaignFormInvalid(BotschaftError):
    code = "campaign_form_invalid"
    status = 422


@dataclass(frozen=True)
class CampaignForm:
    values: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def read_campaign_form(form: dict[str, str]) -> CampaignForm:
    """The posted fields as typed (a refused form comes back filled in)."""
    values = {name: form.get(name, "").strip() for name in FIELDS}
    # A checkbox left empty is not sent at all.
    values["track_links"] = "yes" if form.get("track_links") == "yes" else ""
    return CampaignForm(values)


def new_form() -> CampaignForm:
    return CampaignForm({"kind": ContentKind.TEXT.value, "track_links": "yes",
                         "media_kind": "image"})


def spec_of(form: CampaignForm, language: str) -> CampaignSpec:
    """The spec the form describes; ``CampaignFormInvalid`` says what to fix."""
    name = form.get("name")
    if not name or len(name) > 200:
        raise _invalid(language, "app.campaigns.error_name")
    try:
        channel = ChannelKind(form.get("channel"))
    except ValueError:
        raise _invalid(language, "app.campaigns.error_channel") from None
    audience = form.get("audience_id")
    if not audience.isdigit():
        raise _invalid(language, "app.campaigns.error_audience")
    return CampaignSpec(name=name, channel=channel, audience_id=int(audience),
                        content=content_of(form, language),
                        track_links=form.get("track_links") == "yes")


def content_of(form: CampaignForm, language: str) -> dict[str, Any]:
    try:
        kind = ContentKind(form.get("kind"))
    except ValueError:
        raise _invalid(language, "app.campaigns.error_kind") from None
    text = form.get("text")
    if kind in (ContentKind.TEXT, ContentKind.BUTTONS) and not text:
        raise _invalid(language, "app.campaigns.error_text")
    if kind is ContentKind.TEXT:
        return {"kind": kind.value, "text": text}
    if kind is ContentKind.MEDIA:
        media_kind = form.get("media_kind") or "image"
        if media_kind not in MEDIA_KINDS:
            raise _invalid(language, "app.campaigns.error_media_kind")
        if not form.get("media_url").startswith(("https://", "http://")):
            raise _invalid(language, "app.campaigns.error_media_url")
        return {"kind": kind.value, "text": text or None,
                "media": {"kind": media_kind, "url": form.get("media_url")}}
    if kind is ContentKind.BUTTONS:
        titles = [form.get(name) for name in BUTTON_FIELDS if form.get(name)]
        if not titles:
            raise _invalid(language, "app.campaigns.error_buttons")
        return {"kind": kind.value, "text": text,
                "buttons": [{"id": f"b{n}", "title": title}
                            for n, title in enumerate(titles, start=1)]}
    if not form.get("template_name") or not form.get("template_language"):
        raise _invalid(language, "app.campaigns.error_template")
    params = [line.strip() for line in form.get("template_params").splitlines() if line.strip()]
    return {"kind": kind.value, "template": {
        "name": form.get("template_name"), "language": form.get("template_language"),
        "params": params, "text": form.get("template_text") or None}}


def _invalid(language: str, key: str) -> CampaignFormInvalid:
    return CampaignFormInvalid(translate(language, key))
