from __future__ import annotations

from botschaft.domain.channels import ChannelKind
from botschaft.services.campaign_content import prepare_campaign, recipient_fields, render_for
from botschaft.services.clicks import ensure_links
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contact_fields import declare_attribute, set_attributes
from botschaft.services.context import Context
from botschaft.storage.broadcast import Campaign
from broadcasts import TEMPLATE, audience, campaign, subscriber


def _render(ctx: Context, campaign_id: int, contact_id: int, delivery_id: int | None = 7):
    with ctx.db.write() as session:
        ensure_links(session, ctx, session.get_one(Campaign, campaign_id))
    prepared = prepare_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        fields = recipient_fields(session, [contact_id], prepared.attribute_keys)
    return render_for(prepared, fields[contact_id], to="+4915100000501", delivery_id=delivery_id)


def test_a_template_gets_its_parameters_personalised_and_no_footer(
    ctx: Context, text_version: PublishedText
) -> None:
    anna = subscriber(ctx, text_version, "+4915100000501", "Anna Berg")
    message = _render(ctx, campaign(ctx, audience(ctx), TEMPLATE), anna.id)
    assert message.text is None and message.template is not None
    assert (message.template.name, message.template.language) == ("wochenangebot", "de")
    assert message.template.components[0].parameters[0].text == "Anna"
    assert message.to == "+4915100000501"


def test_text_gets_declared_fields_and_the_footer_in_the_contacts_language(
    ctx: Context, text_version: PublishedText
) -> None:
    declare_attribute(ctx, "stadt", "Stadt", "Angebote der Filiale")
    ben = subscriber(ctx, text_version, "4711", "Ben Kurz", channel=ChannelKind.TELEGRAM,
                     language="en")
    set_attributes(ctx, ben.id, {"stadt": "Hamburg"})
    campaign_id = campaign(ctx, audience(ctx), {
        "kind": "buttons", "text": "Hi {{ first_name }} in {{ stadt }}, from Botschaft",
        "buttons": [{"id": "ja", "title": "Ja, bitte"}]}, channel=ChannelKind.TELEGRAM)
    message = _render(ctx, campaign_id, ben.id)
    assert message.text is not None
    body, footer = message.text.split("\n\n")
    assert body == "Hi Ben in Hamburg, from Botschaft"
    assert footer.startswith("Unsubscribe: write STOP.") and "/p/" in footer
    assert [(b.id, b.title) for b in message.buttons] == [("ja", "Ja, bitte")]


def test_media_carries_the_personalised_caption(ctx: Context,
                                                text_version: PublishedText) -> None:
    cem = subscriber(ctx, text_version, "4712", "Cem Ay", channel=ChannelKind.TELEGRAM)
    campaign_id = campaign(ctx, audience(ctx), {
        "kind": "media", "media": {"kind": "image", "url": "https://shop.example/flyer.jpg"},
        "text": "Der Flyer für {{ first_name }}"}, channel=ChannelKind.TELEGRAM)
    message = _render(ctx, campaign_id, cem.id)
    assert message.media is not None
    assert message.media.url == "https://shop.example/flyer.jpg"
    assert message.media.caption is not None
    assert message.media.caption.startswith("Der Flyer für Cem\n\nAbmelden: STOP schreiben")


def test_each_delivery_gets_its_own_signed_reference_on_the_same_short_code(
    ctx: Context, text_version: PublishedText
) -> None:
    dora = subscriber(ctx, text_version, "4713", "Dora Lang", channel=ChannelKind.TELEGRAM)
    campaign_id = campaign(ctx, audience(ctx), {
        "kind": "text", "text": "Botschaft: https://shop.example/a und https://shop.example/b."},
        channel=ChannelKind.TELEGRAM)
    first, second = (_render(ctx, campaign_id, dora.id, d).text or "" for d in (7, 8))
    assert "shop.example" not in first.split("\n\n")[0]
    assert first.count("/c/") == 2 and first.split("\n\n")[0].endswith(".")
    assert first != second and first.split("?d=")[0] == second.split("?d=")[0]
