"""/c/<code>: tracked links record the click and redirect; unknown ones get a page."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from botschaft.domain.channels import ChannelKind
from botschaft.services.campaign_content import prepare_campaign, recipient_fields, render_for
from botschaft.services.campaigns import start_campaign
from botschaft.services.consent_texts import publish_consent_text
from botschaft.storage.broadcast import Campaign, Click, Delivery
from broadcasts import audience, campaign, subscriber
from web_app import RunningApp

from factories import marketing_text

OFFER = "https://shop.example/angebot?woche=10"
TRACKED = re.compile(r"http://[^\s/]+(/c/([A-Za-z0-9]+)\?d=([0-9]+\.[A-Za-z0-9_-]+))")


@pytest.fixture
def sent_text(running_app: RunningApp) -> tuple[int, str]:
    """A started Telegram campaign and the text its one delivery would carry."""
    ctx = running_app.ctx
    text = publish_consent_text(ctx, marketing_text())
    subscriber(ctx, text, "4242", "Anna Berg", channel=ChannelKind.TELEGRAM)
    campaign_id = campaign(ctx, audience(ctx), {
        "kind": "text", "text": f"Botschaft: Angebote der Woche: {OFFER}. Bis bald!"},
        channel=ChannelKind.TELEGRAM)
    start_campaign(ctx, campaign_id, "de")
    prepared = prepare_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
        fields = recipient_fields(session, [delivery.contact_id], prepared.attribute_keys)
    message = render_for(prepared, fields[delivery.contact_id], to="4242",
                         delivery_id=delivery.id)
    assert message.text is not None
    return campaign_id, message.text


def test_a_click_is_recorded_with_its_delivery_and_redirects(
    running_app: RunningApp, sent_text: tuple[int, str]
) -> None:
    campaign_id, text = sent_text
    assert OFFER not in text and text.count("/c/") == 1
    assert text.endswith(". Bis bald!\n\n" + text.split("\n\n")[-1])  # the footer follows
    link = TRACKED.search(text)
    assert link is not None
    with httpx.Client(base_url=running_app.base_url) as browser:
        answer = browser.get(link.group(1), follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == OFFER
    with running_app.ctx.db.read() as session:
        click = session.scalars(select(Click)).one()
        delivery = session.scalars(select(Delivery)).one()
        assert (click.campaign_id, click.delivery_id) == (campaign_id, delivery.id)
        assert session.get_one(Campaign, campaign_id).clicked == 1


def test_a_forged_delivery_reference_still_leads_on_but_names_no_one(
    running_app: RunningApp, sent_text: tuple[int, str]
) -> None:
    link = TRACKED.search(sent_text[1])
    assert link is not None
    forged = link.group(1).replace(f"d={link.group(3)}", "d=1.AAAAAAAAAAA")
    with httpx.Client(base_url=running_app.base_url) as browser:
        assert browser.get(forged, follow_redirects=False).status_code == 302
    with running_app.ctx.db.read() as session:
        assert session.scalars(select(Click.delivery_id)).one() is None


def test_an_unknown_link_gets_a_page_in_the_readers_language(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        german = browser.get("/c/nixda", headers={"Accept-Language": "de"})
        english = browser.get("/c/nixda", headers={"Accept-Language": "en"})
    assert german.status_code == 404 and english.status_code == 404
    assert "Diesen Link gibt es nicht" in german.text
    assert "This link does not exist" in english.text
    assert german.headers["content-type"].startswith("text/html")


def test_links_stay_as_they_are_when_tracking_is_off(running_app: RunningApp) -> None:
    ctx = running_app.ctx
    text = publish_consent_text(ctx, marketing_text())
    subscriber(ctx, text, "4343", channel=ChannelKind.TELEGRAM)
    campaign_id = campaign(ctx, audience(ctx), {"kind": "text", "text": f"Botschaft: {OFFER}"},
                           channel=ChannelKind.TELEGRAM, track_links=False)
    start_campaign(ctx, campaign_id, "de")
    prepared = prepare_campaign(ctx, campaign_id)
    with ctx.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
        fields = recipient_fields(session, [delivery.contact_id], ())
    rendered = render_for(prepared, fields[delivery.contact_id], to="4343",
                          delivery_id=delivery.id)
    assert rendered.text is not None and OFFER in rendered.text and "/c/" not in rendered.text
