"""The inbox's pages and forms over real HTTP, as a browser without JavaScript uses them."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from admin_login import create_app_user, logged_in_client
from botschaft.domain.composer import SIGNATURE_DASH
from botschaft.domain.roles import Role
from botschaft.services import canned
from botschaft.services.inbox import list_messages
from botschaft.services.inbox_feed import Actor
from botschaft.services.notes import add_note, notes_of
from web_app import RunningApp, wait_for

NUMBER = "+4915155556666"


def conversation_from_phone(app: RunningApp, text: str = "Hallo, eine Frage") -> int:
    httpx.post(f"{app.base_url}/sandbox/api/messages",
               json={"number": NUMBER, "text": text, "name": "Jonas Weber"}).raise_for_status()
    with app.client() as api:
        found = wait_for(lambda: api.get("/api/v1/conversations").json())
    return int(found[0]["id"])


@pytest.fixture
def agent(running_app: RunningApp):
    return create_app_user(running_app.ctx, role=Role.AGENT, name="Anna Schmidt",
                           email="anna@sonnenschein.example")


def test_inbox_needs_a_login(running_app: RunningApp) -> None:
    answer = httpx.get(f"{running_app.base_url}/app/inbox")

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/login")


def test_agent_reads_and_replies_without_javascript(running_app: RunningApp, agent) -> None:
    conversation = conversation_from_phone(running_app)
    with logged_in_client(running_app, agent) as client:
        page = client.get(f"/app/inbox/{conversation}")
        assert page.status_code == 200
        assert "Hallo, eine Frage" in page.text and "Window open" in page.text

        sent = client.post(f"/app/inbox/{conversation}/reply",
                           data=client.form({"text": "Gern!"}))

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/app/inbox/{conversation}?done=inbox_reply_sent"
    last = list_messages(running_app.ctx, conversation)[-1]
    assert (last.author, last.text) == ("agent", f"Gern!\n\n{SIGNATURE_DASH} Anna")


def test_reply_with_a_file_is_multipart_and_the_file_is_served(running_app: RunningApp,
                                                               agent) -> None:
    conversation = conversation_from_phone(running_app)
    with logged_in_client(running_app, agent) as client:
        sent = client.post(
            f"/app/inbox/{conversation}/reply", data={"text": "Anbei", "csrf_token": client.csrf},
            files={"files": ("Angebot.pdf", b"%PDF-1.7 offer", "application/pdf")})
        assert sent.status_code == 303, sent.text
        text, pdf = list_messages(running_app.ctx, conversation)[-2:]
        assert (text.content_type, pdf.content_type) == ("text", "document")
        page = client.get(f"/app/inbox/{conversation}").text
        file_link = page.split('href="/app/inbox/files/')[1].split("?")[0]
        download = client.get(f"/app/inbox/files/{file_link}?download=1")
    assert download.content == b"%PDF-1.7 offer"
    assert "attachment" in download.headers["content-disposition"]
    # Providers fetch from BOTSCHAFT_PUBLIC_URL; here the test server's own address.
    url = pdf.payload["media"]["url"]
    assert url.startswith(running_app.ctx.settings.effective_public_url + "/media/")
    provider = httpx.get(running_app.base_url + urlsplit(url).path)
    assert provider.content == b"%PDF-1.7 offer"
    # Without a session the agents' address leads to the login, never to the file.
    outside = httpx.get(f"{running_app.base_url}/app/inbox/files/{file_link}")
    assert outside.status_code == 303


def test_reply_without_the_csrf_token_is_refused(running_app: RunningApp, agent) -> None:
    conversation = conversation_from_phone(running_app)
    with logged_in_client(running_app, agent) as client:
        refused = client.post(f"/app/inbox/{conversation}/reply", data={"text": "x"})
        multipart = client.post(f"/app/inbox/{conversation}/reply", data={"text": "x"},
                                files={"files": ("a.txt", b"a", "text/plain")})

    assert (refused.status_code, multipart.status_code) == (403, 403)
    assert [m.direction for m in list_messages(running_app.ctx, conversation)] == ["in"]


def test_note_status_assignment_and_labels_through_the_forms(running_app: RunningApp,
                                                             agent) -> None:
    conversation = conversation_from_phone(running_app)
    label = canned.create_label(running_app.ctx, Actor(agent.id, "Anna"), "VIP", "amber")
    with logged_in_client(running_app, agent) as client:
        for path, fields in (("note", {"text": "Ruft morgen an"}),
                             ("status", {"status": "pending"}),
                             ("assign", {"agent": str(agent.id)}),
                             ("labels", {"label": str(label.id)})):
            answer = client.post(f"/app/inbox/{conversation}/{path}", data=client.form(fields))
            assert answer.status_code == 303, answer.text
        mine = client.get("/app/inbox", params={"assignee": "me", "status": "pending",
                                                "label": label.id})
    assert f'href="/app/inbox/{conversation}' in mine.text
    assert [n.text for n in notes_of(running_app.ctx, conversation)] == ["Ruft morgen an"]


def test_wrong_values_get_a_page_with_a_human_message(running_app: RunningApp, agent) -> None:
    conversation = conversation_from_phone(running_app)
    with logged_in_client(running_app, agent) as client:
        bad_filter = client.get("/app/inbox", params={"status": "sleeping"})
        empty_note = client.post(f"/app/inbox/{conversation}/note",
                                 data=client.form({"text": " "}))
        missing = client.get("/app/inbox/999")

    assert bad_filter.status_code == 422 and "filter" in bad_filter.text
    assert empty_note.status_code == 422 and "A note needs some text." in empty_note.text
    assert missing.status_code == 404


def test_canned_responses_are_managed_in_the_settings_screen(running_app: RunningApp,
                                                             agent) -> None:
    with logged_in_client(running_app, agent) as client:
        saved = client.post("/app/inbox-settings/canned",
                            data=client.form({"shortcut": "/preis", "text": "1.290 €"}))
        clash = client.post("/app/inbox-settings/canned",
                            data=client.form({"shortcut": "preis", "text": "anders"}))
        shortcuts = client.get("/app/inbox-canned.json").json()

    assert saved.status_code == 303
    assert clash.status_code == 409
    assert shortcuts == {"preis": "1.290 €"}


def test_the_stream_names_the_conversation_that_changed(running_app: RunningApp,
                                                        agent) -> None:
    conversation = conversation_from_phone(running_app)
    with logged_in_client(running_app, agent) as client, client.stream(
        "GET", "/app/inbox-stream", params={"conversation": conversation}
    ) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        add_note(running_app.ctx, Actor(agent.id, "Anna"), conversation, "neu")
        for line in lines:
            if line.startswith("data:"):
                assert line == f"data: [{conversation}]"
                break
