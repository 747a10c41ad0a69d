"""Test data for broadcasts: subscribers, audiences and campaigns that read like a shop's."""

from __future__ import annotations

from typing import Any

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.services.audiences import create_audience
from botschaft.services.campaigns import CampaignSpec, create_campaign
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context

TEMPLATE = {
    "kind": "template",
    "template": {
        "name": "wochenangebot", "language": "de", "params": ["{{ first_name }}"],
        "text": "Hallo {{1}}, das Angebot der Woche von Botschaft. Abmelden: STOP",
    },
}
TEXT = {"kind": "text", "text": "Hallo {{ first_name }}! Botschaft: https://shop.example/angebot"}


def person(
    ctx: Context, phone: str, name: str = "Anna Müller", *,
    channel: ChannelKind = ChannelKind.WHATSAPP, language: str = "de",
) -> ContactView:
    return create_contact(ctx, identities=[(channel, phone)], display_name=name,
                          language=language)


def record(ctx: Context, contact: ContactView | int, kind: ConsentEventKind,
           text: PublishedText | None, *, channel: ChannelKind = ChannelKind.WHATSAPP,
           purpose: str = MARKETING) -> None:
    needs_text = kind in (ConsentEventKind.GRANTED, ConsentEventKind.REQUESTED,
                          ConsentEventKind.IMPORTED)
    contact_id = contact if isinstance(contact, int) else contact.id
    record_consent(ctx, ConsentRecord(
        contact_id, channel, purpose, kind, ConsentSource.KEYWORD,
        consent_text_id=text.id if (needs_text and text) else None,
    ))


def subscriber(ctx: Context, text: PublishedText, phone: str, name: str = "Anna Müller", *,
               channel: ChannelKind = ChannelKind.WHATSAPP, language: str = "de"
               ) -> ContactView:
    contact = person(ctx, phone, name, channel=channel, language=language)
    record(ctx, contact, ConsentEventKind.GRANTED, text, channel=channel)
    return contact


def audience(ctx: Context, rule: dict[str, Any] | None = None, name: str = "Alle") -> int:
    return create_audience(ctx, name, rule or {}).id


def campaign(ctx: Context, audience_id: int, content: dict[str, Any] | None = None, *,
             channel: ChannelKind = ChannelKind.WHATSAPP, name: str = "Wochenangebot",
             track_links: bool = True) -> int:
    return create_campaign(ctx, CampaignSpec(
        name=name, channel=channel, audience_id=audience_id, content=content or TEMPLATE,
        track_links=track_links,
    )).id
