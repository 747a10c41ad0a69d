"""Sign-up journeys end to end over HTTP with the sandbox phone: page, chat, ledger, proof."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentStatus
from botschaft.domain.errors import NotFound
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.evidence import Proof, consent_proof
from botschaft.services.outbound import send_message
from signup_visitor import Visitor, code_on, create_page, publish_texts
from web_app import RunningApp, wait_for

NUMBER = "+4915123456789"


@pytest.fixture
def app(running_app: RunningApp) -> RunningApp:
    publish_texts(running_app.ctx)
    with running_app.client() as client:
        create_page(client, click_to_chat=True)
    return running_app


def _write(app: RunningApp, text: str, number: str = NUMBER) -> None:
    with app.client() as client:
        answer = client.post("/sandbox/api/messages", json={"number": number, "text": text})
    assert answer.status_code == 202, answer.text


def _phone(app: RunningApp, number: str = NUMBER) -> list[dict]:
    """What the phone shows: its messages, without those the gate held back."""
    with app.client() as client:
        found = client.get("/sandbox/api/messages", params={"number": number}).json()
    return [m for m in found if m["status"] != "skipped"]


def _received(app: RunningApp, count: int, number: str = NUMBER) -> list[dict]:
    """Wait until the phone got ``count`` messages from the business; return them."""
    def enough() -> list[dict] | None:
        out = [m for m in _phone(app, number) if m["direction"] == "out"]
        return out if len(out) >= count else None

    return wait_for(enough)  # type: ignore[no-any-return]


def _proof(app: RunningApp, number: str = NUMBER) -> Proof:
    return consent_proof(app.ctx, f"sandbox:{number}")


def _story(proof: Proof) -> list[tuple[str, str]]:
    return [(e.kind, e.source) for e in proof.events]


def _marketing(proof: Proof) -> ConsentStatus:
    states = {(s.channel, s.purpose): s.state.status for s in proof.states}
    return states.get(("sandbox", MARKETING), ConsentStatus.NONE)


def _send_marketing(app: RunningApp, contact_id: int) -> str:
    sending = send_message(
        app.ctx, Channels.from_settings(app.ctx.settings), contact_id=contact_id,
        channel=ChannelKind.SANDBOX, content=OutboundMessage(to="", text="Nur heute: Malle!"),
        intent=Outbound(MessageKind.MARKETING, MARKETING),
    )
    return asyncio.run(sending).status


def test_form_then_start_then_stop_is_the_whole_consent_story(app: RunningApp) -> None:
    visitor = Visitor(app.base_url)
    thanks = visitor.submit("angebote", number="0151 23456789")
    assert thanks.status_code == 200
    assert "+4915123456789" in thanks.text and "Fast geschafft" in thanks.text

    [request] = _received(app, 1)
    assert "antworte innerhalb von 48 Stunden mit START" in request["text"]
    assert request["payload"]["template"]["name"] == "double_opt_in"
    proof = _proof(app)
    requested = proof.events[0]
    assert (requested.kind, requested.source) == ("requested", "web_form")
    assert (requested.ip, requested.user_agent) == (visitor.ip, visitor.user_agent)
    assert requested.text is not None and requested.text.matches_hash
    assert requested.text.language == "de"

    _write(app, "START")
    welcome = _received(app, 2)[1]
    assert "Deine Anmeldung ist bestätigt" in welcome["text"]
    assert "der Verwendung deiner Daten für Werbung jederzeit widersprechen" in welcome["text"]
    assert f"{app.ctx.settings.effective_public_url}/p/" in welcome["text"]
    assert _marketing(_proof(app)) is ConsentStatus.ACTIVE

    _write(app, "STOP")
    assert "Du bist abgemeldet" in _received(app, 3)[2]["text"]
    contact_id = _proof(app).contact.id
    assert _send_marketing(app, contact_id) == "skipped"
    with app.client() as client:
        conversation = client.get("/api/v1/conversations", params={"channel": "sandbox"}).json()
        agent = client.post(f"/api/v1/conversations/{conversation[0]['id']}/messages",
                            json={"text": "Schade, dass du gehst!"}).json()
    assert agent["status"] == "skipped"
    assert len([m for m in _phone(app) if m["direction"] == "out"]) == 3

    proof = _proof(app)
    assert _story(proof) == [("requested", "web_form"), ("confirmed", "web_form"),
                             ("withdrawn", "keyword")]
    confirmed = proof.events[1]
    assert confirmed.evidence == "START" and confirmed.provider_message_id
    assert confirmed.text is not None and confirmed.text.id == requested.text.id
    assert all(e.row_intact for e in proof.events)
    assert _marketing(proof) is ConsentStatus.WITHDRAWN


def test_start_after_the_request_expired_confirms_nothing(app: RunningApp) -> None:
    Visitor(app.base_url).submit("angebote", number=NUMBER)
    _received(app, 1)
    app.ctx.clock.advance(timedelta(hours=49))  # type: ignore[attr-defined]

    _write(app, "START")
    offer = _received(app, 2)[1]

    assert "Einverstanden? Dann antworte" in offer["text"]
    assert [e.kind for e in _proof(app).events] == ["requested"]
    assert _marketing(_proof(app)) is ConsentStatus.EXPIRED


def test_start_with_the_code_from_the_page_records_the_agreement_and_confirms_it(
    app: RunningApp,
) -> None:
    visitor = Visitor(app.base_url, ip="198.51.100.23")
    shown = visitor.submit("angebote", via="chat")
    assert shown.status_code == 200
    code = code_on(shown)
    assert not _proof_exists(app)

    app.ctx.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    _write(app, f"START {code}")
    assert "Deine Anmeldung ist bestätigt" in _received(app, 1)[0]["text"]

    proof = _proof(app)
    assert _story(proof) == [("requested", "qr"), ("confirmed", "qr")]
    requested, confirmed = proof.events
    assert (requested.ip, requested.user_agent) == ("198.51.100.23", visitor.user_agent)
    assert confirmed.occurred_at - requested.occurred_at == timedelta(minutes=3)
    assert confirmed.evidence == f"START {code}"
    assert _marketing(proof) is ConsentStatus.ACTIVE


def test_a_code_works_once(app: RunningApp) -> None:
    code = code_on(Visitor(app.base_url).submit("angebote", via="chat"))
    _write(app, f"START {code}")
    _received(app, 1)

    _write(app, f"START {code}", number="+4915199999999")
    offer = _received(app, 1, number="+4915199999999")[0]

    assert "Einverstanden?" in offer["text"]
    assert [e.kind for e in _proof(app, "+4915199999999").events] == []


def test_start_without_a_request_sends_the_consent_text_and_only_the_second_start_subscribes(
    app: RunningApp,
) -> None:
    _write(app, "start")
    offer = _received(app, 1)[0]
    assert "Reisebüro Sonnenschein GmbH" in offer["text"]
    assert "https://sonnenschein.example/datenschutz" in offer["text"]
    assert not _proof_exists(app)

    _write(app, "JA")
    assert "Deine Anmeldung ist bestätigt" in _received(app, 2)[1]["text"]
    proof = _proof(app)
    assert _story(proof) == [("granted", "keyword")]
    granted = proof.events[0]
    assert granted.evidence == "JA"
    assert granted.text is not None and granted.text.language == "de"


def test_a_question_opens_the_window_and_never_becomes_a_consent(app: RunningApp) -> None:
    _write(app, "Habt ihr noch Plätze nach Mallorca?")
    with app.client() as client:
        conversation = wait_for(lambda: client.get(
            "/api/v1/conversations", params={"channel": "sandbox"}).json())
        answer = client.post(f"/api/v1/conversations/{conversation[0]['id']}/messages",
                             json={"text": "Ja, ab 499 €."}).json()

    assert answer["status"] == "sent"
    assert not _proof_exists(app)
    assert _send_marketing(app, conversation[0]["contact_id"]) == "skipped"


def test_after_stop_only_a_new_confirmed_request_subscribes_again(app: RunningApp) -> None:
    visitor = Visitor(app.base_url)
    visitor.submit("angebote", number=NUMBER)
    _received(app, 1)
    _write(app, "START")
    _received(app, 2)
    _write(app, "STOP")
    _received(app, 3)
    app.ctx.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]

    visitor.submit("angebote", number=NUMBER)
    assert "antworte innerhalb" in _received(app, 4)[3]["text"]
    assert _marketing(_proof(app)) is ConsentStatus.PENDING
    _write(app, "START")
    _received(app, 5)

    assert [e.kind for e in _proof(app).events] == [
        "requested", "confirmed", "withdrawn", "requested", "confirmed"]
    assert _marketing(_proof(app)) is ConsentStatus.ACTIVE


def test_stop_cancels_the_consent_text_sent_in_the_chat(app: RunningApp) -> None:
    _write(app, "START")
    _received(app, 1)
    _write(app, "STOP")
    _received(app, 2)
    app.ctx.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]

    _write(app, "START")
    third = _received(app, 3)[2]

    assert "Einverstanden?" in third["text"]
    assert [e.kind for e in _proof(app).events] == ["withdrawn"]


def _proof_exists(app: RunningApp) -> bool:
    try:
        return bool(_proof(app).events)
    except NotFound:
        return False  # not even a contact yet


def test_consent_proof_on_the_command_line_tells_the_story_of_a_sign_up(
    app: RunningApp,
) -> None:
    visitor = Visitor(app.base_url, ip="198.51.100.7")
    visitor.submit("angebote", number=NUMBER)
    _received(app, 1)
    _write(app, "START")
    _received(app, 2)
    _write(app, "STOP")
    _received(app, 3)

    settings = app.ctx.settings
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOTSCHAFT_")}
    environ.update(BOTSCHAFT_DATABASE_URL=settings.effective_database_url,
                   BOTSCHAFT_DATA_DIR=str(settings.data_dir), COLUMNS="120")
    run = subprocess.run(
        [sys.executable, "-m", "botschaft", "consent", "proof", f"sandbox:{NUMBER}"],
        capture_output=True, text=True, env=environ, timeout=60, check=False,
    )

    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.index("#1 requested") < out.index("#2 confirmed") < out.index("#3 withdrawn")
    assert "IP 198.51.100.7" in out and "Firefox" in out
    assert "sign-up page /join/angebote" in out
    assert "Wrote:    'START'" in out and "Wrote:    'STOP'" in out
    assert "matches the recorded hash" in out and "ROW ALTERED" not in out
