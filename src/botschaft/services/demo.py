"""Sample data for `botschaft demo`: a travel agency on the sandbox channel.

Everything is made through the product's own paths (consent ledger, webhook intake, the
inbound lane, the outbound gate), so the demo shows what real use leaves behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.domain.consent_text import ConsentTextDraft
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText, publish_consent_text
from botschaft.services.context import Context
from botschaft.services.inbound import handle_pending
from botschaft.services.intake import store_events
from botschaft.services.outbound import Author, send_message
from botschaft.storage.models import ChannelIdentity, Contact

ANNA, BEN, CARLA = "+4915111111111", "+4915122222222", "+4915133333333"


@dataclass(frozen=True)
class DemoData:
    created: bool
    numbers: tuple[str, ...]


def consent_text_drafts(company: str) -> list[ConsentTextDraft]:
    common = {"key": "newsletter", "consent_purpose": MARKETING,
              "privacy_policy_url": "https://reisebuero.example/datenschutz"}
    return [
        ConsentTextDraft(
            language="de",
            company=f"{company}, Hauptstraße 1, 10115 Berlin",
            purpose="Reiseangebote, Last-Minute-Deals und Reisetipps per Messenger",
            data_categories="Telefonnummer, Name, Zeitpunkt und Inhalt Ihrer Einwilligung",
            recipients="Meta Platforms Ireland Ltd. als Betreiber von WhatsApp",
            frequency="höchstens zwei Nachrichten pro Woche",
            withdrawal="Jederzeit mit der Nachricht STOP oder über den Link in jeder Nachricht",
            **common,
        ),
        ConsentTextDraft(
            language="en",
            company=f"{company}, Hauptstraße 1, 10115 Berlin, Germany",
            purpose="Travel offers, last-minute deals and travel tips by messenger",
            data_categories="Phone number, name, time and content of your consent",
            recipients="Meta Platforms Ireland Ltd. as the operator of WhatsApp",
            frequency="at most two messages a week",
            withdrawal="At any time by writing STOP or through the link in every message",
            **common,
        ),
    ]


async def seed_demo(ctx: Context, channels: Channels) -> DemoData:
    """Create the demo's contacts, consents and conversations once; later runs keep them."""
    numbers = (ANNA, BEN, CARLA)
    if _exists(ctx, ANNA):
        return DemoData(False, numbers)
    texts = [publish_consent_text(ctx, draft)
             for draft in consent_text_drafts(ctx.settings.business.name)]
    await _writes(ctx, channels, ANNA, "Anna Müller",
                  "Hallo! Ist die Mallorca-Reise im Mai noch frei?")
    anna = _contact_id(ctx, ANNA)
    await send_message(
        ctx, channels, contact_id=anna, channel=ChannelKind.SANDBOX,
        content=OutboundMessage(
            to="", text="Hallo Anna, ja: vom 12. bis 19. Mai sind noch zwei Plätze frei. - Jana"
        ),
        intent=Outbound(MessageKind.SERVICE), author=Author("agent", "Jana"),
    )
    _subscribe(ctx, anna, texts[0], confirmed=True)

    await _writes(ctx, channels, BEN, "Ben Schulz", "Was kostet der Flughafentransfer?")
    ben = _contact_id(ctx, BEN)
    _subscribe(ctx, ben, texts[0], confirmed=True)
    await _writes(ctx, channels, BEN, "Ben Schulz", "STOP")

    await _writes(ctx, channels, CARLA, "Carla Rossi", "Hello, do you have offers for Italy?")
    _subscribe(ctx, _contact_id(ctx, CARLA), texts[1], confirmed=False)
    return DemoData(True, numbers)


async def _writes(ctx: Context, channels: Channels, number: str, name: str, text: str) -> None:
    event = InboundMessage(
        channel=ChannelKind.SANDBOX, account="sandbox",
        provider_message_id=f"sbx-in.{secrets.token_urlsafe(12)}", sender=number,
        sent_at=ctx.clock.now(), kind=InboundKind.TEXT, text=text, sender_name=name,
    )
    store_events(ctx, [event])
    while await handle_pending(ctx, channels):
        pass


def _subscribe(ctx: Context, contact_id: int, text: PublishedText, *, confirmed: bool) -> None:
    record_consent(ctx, ConsentRecord(
        contact_id, ChannelKind.SANDBOX, MARKETING, ConsentEventKind.REQUESTED,
        ConsentSource.WEB_FORM, consent_text_id=text.id, ip="203.0.113.10",
        user_agent="Mozilla/5.0 (demo)",
    ))
    if confirmed:
        record_consent(ctx, ConsentRecord(
            contact_id, ChannelKind.SANDBOX, MARKETING, ConsentEventKind.CONFIRMED,
            ConsentSource.KEYWORD, evidence="START",
        ))


def _exists(ctx: Context, number: str) -> bool:
    with ctx.db.read() as session:
        return session.scalar(
            select(ChannelIdentity.id).where(
                ChannelIdentity.channel == ChannelKind.SANDBOX.value,
                ChannelIdentity.address == number,
            )
        ) is not None


def _contact_id(ctx: Context, number: str) -> int:
    with ctx.db.read() as session:
        found = session.scalar(
            select(Contact.id).join(ChannelIdentity).where(
                ChannelIdentity.channel == ChannelKind.SANDBOX.value,
                ChannelIdentity.address == number,
            )
        )
    if found is None:
        raise LookupError(f"demo contact {number} was not created")
    return found
