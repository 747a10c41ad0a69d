"""The sign-up page itself: what it shows, in which language, and what it refuses."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from botschaft.storage.models import ConsentEvent, Message
from botschaft.storage.signup import OptInRequest
from signup_visitor import Visitor, create_page, publish_texts
from web_app import RunningApp

NUMBER = "+4915123456789"


@pytest.fixture
def app(running_app: RunningApp) -> RunningApp:
    publish_texts(running_app.ctx)
    with running_app.client() as client:
        create_page(client, click_to_chat=True)
    return running_app


def _rows(app: RunningApp) -> tuple[int, int, int]:
    """Ledger rows, opt-in requests and messages: what a refused form must not add to."""
    with app.ctx.db.read() as session:
        return (session.scalar(select(func.count(ConsentEvent.seq))) or 0,
                session.scalar(select(func.count(OptInRequest.id))) or 0,
                session.scalar(select(func.count(Message.id))) or 0)


def test_the_page_shows_every_element_of_the_consent_text_before_the_form(
    app: RunningApp,
) -> None:
    html = Visitor(app.base_url).open("angebote").text
    form_at = html.index("<form")
    for element in ("Reisebüro Sonnenschein GmbH", "Angebote und Reisetipps per WhatsApp",
                    "Telefonnummer, Name, Zeitpunkt", "Meta Platforms Ireland",
                    "höchstens zwei Nachrichten pro Woche", "mit der Nachricht STOP",
                    "https://sonnenschein.example/datenschutz"):
        assert -1 < html.index(element) < form_at, element


def test_the_page_speaks_the_browsers_language_and_can_be_switched(app: RunningApp) -> None:
    german = Visitor(app.base_url, language="de-AT,de;q=0.9").open("angebote")
    english = Visitor(app.base_url, language="en-GB,en;q=0.8").open("angebote")
    chosen = Visitor(app.base_url, language="en-GB").open("angebote", lang="de")

    assert german.headers["content-language"] == "de"
    assert "Deine Einwilligung" in german.text and 'lang="de"' in german.text
    assert english.headers["content-language"] == "en"
    assert "Your consent" in english.text and "Offers and travel tips" in english.text
    assert chosen.headers["content-language"] == "de"


def test_a_language_without_a_consent_text_falls_back_to_one_the_page_has(
    running_app: RunningApp,
) -> None:
    from botschaft.services.consent_texts import publish_consent_text

    from factories import marketing_text

    publish_consent_text(running_app.ctx, marketing_text())  # German only
    with running_app.client() as client:
        create_page(client)
    page = Visitor(running_app.base_url, language="en-US,en").open("angebote")
    assert page.headers["content-language"] == "de"
    assert "hreflang" not in page.text  # one language: nothing to switch to


def test_the_page_needs_no_javascript_and_the_box_starts_unticked(app: RunningApp) -> None:
    page = Visitor(app.base_url).open("angebote")
    html = page.text

    assert "<script" not in html
    assert re.search(r'<form method="post" action="/join/angebote"', html)
    checkbox = re.search(r'<input type="checkbox"[^>]*>', html)
    assert checkbox is not None and "checked" not in checkbox.group(0)
    assert "script-src" not in page.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]


def test_the_embedded_view_may_be_framed_by_any_website(app: RunningApp) -> None:
    page = Visitor(app.base_url).open("angebote", embed="1")
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert 'action="/join/angebote?embed=1"' in page.text


def test_an_unknown_page_is_a_page_that_says_so(app: RunningApp) -> None:
    answer = Visitor(app.base_url).open("gibt-es-nicht")
    assert answer.status_code == 404
    assert "Diese Anmeldeseite gibt es nicht" in answer.text


def test_an_invalid_number_shows_the_form_again_with_the_reason(app: RunningApp) -> None:
    before = _rows(app)
    answer = Visitor(app.base_url).submit("angebote", number="0151 12")

    assert answer.status_code == 422
    assert "„0151 12“ ist keine gültige Telefonnummer" in answer.text
    assert 'value="0151 12"' in answer.text and 'aria-invalid="true"' in answer.text
    assert _rows(app) == before


def test_without_the_tick_nothing_is_recorded_or_sent(app: RunningApp) -> None:
    before = _rows(app)
    answer = Visitor(app.base_url).submit("angebote", number=NUMBER, agree=False)

    assert answer.status_code == 422
    assert "Bitte setze das Häkchen" in answer.text
    assert _rows(app) == before


def test_a_forged_or_old_form_is_refused_and_shown_anew(app: RunningApp) -> None:
    visitor = Visitor(app.base_url)
    token = visitor.token("angebote")
    forged = visitor.submit("angebote", number=NUMBER, token=token[:-2] + "xx")
    app.ctx.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    stale = visitor.submit("angebote", number=NUMBER, token=token)

    assert forged.status_code == 400 and stale.status_code == 400
    assert "Dieses Formular ist abgelaufen" in stale.text
    assert _rows(app)[0] == 0


def test_a_form_of_one_page_is_not_accepted_by_another(app: RunningApp) -> None:
    with app.client() as client:
        create_page(client, slug="zweite-seite")
    visitor = Visitor(app.base_url)
    answer = visitor.submit("zweite-seite", number=NUMBER, token=visitor.token("angebote"))
    assert answer.status_code == 400


def test_a_second_request_for_a_number_within_a_day_is_refused(app: RunningApp) -> None:
    first = Visitor(app.base_url, ip="203.0.113.1").submit("angebote", number=NUMBER)
    before = _rows(app)
    app.ctx.clock.advance(timedelta(hours=23))  # type: ignore[attr-defined]
    second = Visitor(app.base_url, ip="203.0.113.2").submit("angebote", number="0151/23456789")

    assert first.status_code == 200
    assert second.status_code == 429
    assert "in den letzten 24 Stunden schon eine Bestätigung" in second.text
    assert _rows(app) == before  # the stranger got no second message
    app.ctx.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert Visitor(app.base_url, ip="203.0.113.3").submit(
        "angebote", number=NUMBER).status_code == 200


def test_one_address_may_submit_only_so_many_forms_an_hour(app: RunningApp) -> None:
    with app.client() as client:
        create_page(client, slug="streng", submissions_per_ip=2)
    visitor = Visitor(app.base_url, ip="192.0.2.44", language="en")
    answers = [visitor.submit("streng", number=f"+49151000000{n:02d}") for n in range(3)]
    other = Visitor(app.base_url, ip="192.0.2.45").submit("streng", number="+4915100000099")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Too many sign-ups came from your connection" in answers[2].text
    assert other.status_code == 200
    app.ctx.clock.advance(timedelta(minutes=61))  # type: ignore[attr-defined]
    assert visitor.submit("streng", number="+4915100000077").status_code == 200


def test_a_subscribed_number_is_sent_nothing_and_the_page_does_not_tell(
    app: RunningApp,
) -> None:
    Visitor(app.base_url).submit("angebote", number=NUMBER)
    with httpx.Client(base_url=app.base_url) as client:
        client.post("/sandbox/api/messages", json={"number": NUMBER, "text": "START"})
    from web_app import wait_for

    # Settled once the ledger has requested + confirmed and the welcome went out after them:
    # the request, START and the welcome are three messages.
    wait_for(lambda: _rows(app)[0] == 2 and _rows(app)[2] == 3)
    before = _rows(app)
    again = Visitor(app.base_url, ip="203.0.113.99").submit("angebote", number=NUMBER)

    assert again.status_code == 200 and "Fast geschafft" in again.text
    assert _rows(app)[0] == before[0] and _rows(app)[2] == before[2]


def test_agreeing_without_a_number_shows_the_code_and_sends_nothing(app: RunningApp) -> None:
    answer = Visitor(app.base_url).submit("angebote", via="chat")

    assert answer.status_code == 200
    assert "Noch ein Schritt" in answer.text
    assert re.search(r"<code>START [A-Za-z0-9_-]{22}</code>", answer.text)
    assert _rows(app)[0] == 0 and _rows(app)[2] == 0
