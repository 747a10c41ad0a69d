"""A person on the sandbox phone and an agent on the API talk to each other."""

from __future__ import annotations

import httpx
import pytest

from botschaft.services.evidence import consent_proof
from web_app import RunningApp, wait_for


def _conversation(app: RunningApp) -> dict:
    with app.client() as client:
        found = client.get("/api/v1/conversations", params={"channel": "sandbox"}).json()
    return found[0] if found else {}


def test_a_phone_message_reaches_the_inbox_and_the_reply_reaches_the_phone(
    running_app: RunningApp,
) -> None:
    with running_app.client() as client:
        sent = client.post("/sandbox/api/messages",
                           json={"number": "0151 23456789", "text": "Hallo, habt ihr offen?",
                                 "name": "Anna"})
        assert sent.status_code == 202
        assert sent.json()["number"] == "+4915123456789"

        conversation = wait_for(lambda: _conversation(running_app))
        assert conversation["contact_name"] == "Anna"
        messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages").json()
        assert [(m["direction"], m["text"]) for m in messages] == [
            ("in", "Hallo, habt ihr offen?")
        ]

        reply = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                            json={"text": "Ja, bis 18 Uhr!"})
        assert reply.status_code == 201
        assert reply.json()["status"] == "sent"

        phone = client.get("/sandbox/api/messages", params={"number": "+4915123456789"}).json()
    assert [(m["direction"], m["text"]) for m in phone] == [
        ("in", "Hallo, habt ihr offen?"), ("out", "Ja, bis 18 Uhr!"),
    ]


def test_stop_on_the_phone_withdraws_and_is_confirmed_exactly_once(
    running_app: RunningApp,
) -> None:
    with running_app.client() as client:
        client.post("/sandbox/api/messages", json={"number": "+4915123456789", "text": "Stopp!"})
        phone = wait_for(lambda: [
            m for m in client.get("/sandbox/api/messages",
                                  params={"number": "+4915123456789"}).json()
            if m["direction"] == "out"
        ])
        assert phone[0]["text"].startswith("Botschaft: Du bist abgemeldet")

        conversation = _conversation(running_app)
        after_stop = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                                 json={"text": "Schade! Hier noch ein Angebot"})
    assert after_stop.json()["status"] == "skipped"
    assert after_stop.json()["skip_reason"] == "withdrawn"
    proof = consent_proof(running_app.ctx, "sandbox:+4915123456789")
    assert [(e.kind, e.source, e.evidence) for e in proof.events] == [
        ("withdrawn", "keyword", "Stopp!")
    ]


def test_the_api_needs_a_valid_token(running_app: RunningApp) -> None:
    with running_app.client() as client:
        client.headers["Authorization"] = "Bearer bsk_wrong"
        answer = client.get("/api/v1/conversations")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorised"


def test_an_invalid_phone_number_is_refused_quoting_it(running_app: RunningApp) -> None:
    with running_app.client() as client:
        answer = client.post("/sandbox/api/messages", json={"number": "12", "text": "hi"})
    assert answer.status_code == 422
    assert "'12'" in answer.json()["error"]["message"]


def test_a_switched_off_sandbox_answers_404(ctx, settings, clock) -> None:  # type: ignore[no-untyped-def]
    from botschaft.web.app import create_app
    from web_app import free_port, serve_in_thread

    app = create_app(settings.model_copy(update={"embedded_worker": False,
                                                 "sandbox_enabled": False}), clock=clock)
    port = free_port()
    server, thread = serve_in_thread(app, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            page = client.get("/sandbox")
            api = client.post("/sandbox/api/messages", json={"number": "+4915123456789",
                                                             "text": "hi"})
    finally:
        server.should_exit = True
        thread.join(10)
    assert (page.status_code, api.status_code) == (404, 404)


def test_a_message_with_more_buttons_than_the_channel_shows_is_refused(
    running_app: RunningApp,
) -> None:
    import asyncio

    from botschaft.channels.messages import Button, OutboundMessage
    from botschaft.channels.registry import Channels
    from botschaft.domain.channels import ChannelKind
    from botschaft.domain.gate import MessageKind, Outbound
    from botschaft.services.outbound import UnsupportedContent, send_message

    with running_app.client() as client:
        client.post("/sandbox/api/messages", json={"number": "+4915123456789", "text": "Hi"})
        conversation = wait_for(lambda: _conversation(running_app))
    ctx = running_app.ctx
    buttons = tuple(Button(str(n), f"Option {n}") for n in range(4))
    with pytest.raises(UnsupportedContent, match="at most 3 buttons"):
        asyncio.run(send_message(
            ctx, Channels.from_settings(ctx.settings), contact_id=conversation["contact_id"],
            channel=ChannelKind.SANDBOX, content=OutboundMessage(to="", text="?",
                                                                 buttons=buttons),
            intent=Outbound(MessageKind.SERVICE),
        ))
