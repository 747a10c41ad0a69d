"""The website chat over real HTTP: visitor cookie, widget, window, API and live stream."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from botschaft.domain.webchat_identity import (
    COOKIE_NAME,
    InvalidVisitor,
    sign_visitor,
    verify_visitor,
)
from botschaft.services.evidence import consent_proof
from botschaft.services.secret import signing_key
from web_app import RunningApp, wait_for


@pytest.fixture
def visitor(running_app: RunningApp) -> Iterator[httpx.Client]:
    """A browser that opened the chat window once and so holds a visitor cookie."""
    with httpx.Client(base_url=running_app.base_url, timeout=10) as browser:
        assert browser.get("/webchat/frame").status_code == 200
        yield browser


def _visitor_id(browser: httpx.Client) -> str:
    return browser.cookies[COOKIE_NAME].split(".")[0]


def _conversation(app: RunningApp) -> dict:
    with app.client() as client:
        found = client.get("/api/v1/conversations", params={"channel": "webchat"}).json()
    return found[0] if found else {}


def _inbox(app: RunningApp, conversation_id: int) -> list[dict]:
    with app.client() as client:
        return client.get(f"/api/v1/conversations/{conversation_id}/messages").json()


def _agent_says(app: RunningApp, conversation_id: int, text: str) -> dict:
    with app.client() as client:
        answer = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                             json={"text": text})
    assert answer.status_code == 201
    return answer.json()


def _seen_by(browser: httpx.Client) -> list[tuple[str, str]]:
    answer = browser.get("/webchat/api/messages")
    assert answer.status_code == 200
    return [(m["direction"], m["text"]) for m in answer.json()]


def test_the_chat_window_issues_a_signed_httponly_visitor_cookie(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        answer = browser.get("/webchat/frame")
    assert answer.status_code == 200
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in header
    assert "SameSite=lax" in header
    assert "Max-Age=63072000" in header
    assert "Secure" not in header  # plain http here
    value = header.split(";")[0].split("=", 1)[1]
    visitor_id, signature = value.split(".")
    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    key = signing_key(running_app.ctx.settings)
    assert verify_visitor(value, key) == visitor_id
    assert sign_visitor(visitor_id, key) == value


def test_the_cookie_is_secure_when_the_request_came_over_https(running_app: RunningApp) -> None:
    # uvicorn trusts X-Forwarded-Proto from a proxy on loopback, as behind nginx or Caddy.
    with httpx.Client(base_url=running_app.base_url) as browser:
        answer = browser.get("/webchat/frame", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in answer.headers["set-cookie"]


def test_a_returning_visitor_keeps_the_id_and_a_forged_cookie_gets_a_new_one(
    running_app: RunningApp, visitor: httpx.Client
) -> None:
    original = visitor.cookies[COOKIE_NAME]
    again = visitor.get("/webchat/frame")
    assert "set-cookie" not in again.headers

    visitor_id = original.split(".")[0]
    forged = f"{visitor_id[:-1]}{'A' if visitor_id[-1] != 'A' else 'B'}.{original.split('.')[1]}"
    with httpx.Client(base_url=running_app.base_url, cookies={COOKIE_NAME: forged}) as other:
        answer = other.get("/webchat/frame")
    fresh = answer.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert fresh.partition(".")[0] not in (visitor_id, forged.partition(".")[0])


def test_a_signature_made_with_another_key_names_no_visitor() -> None:
    signed = sign_visitor("a" * 24, b"one key")
    assert verify_visitor(signed, b"one key") == "a" * 24
    with pytest.raises(InvalidVisitor):
        verify_visitor(signed, b"another key")


@pytest.mark.parametrize("cookie", [None, "nosignature", "abcdefghijklmnopqrstuvwx.", "x" * 5])
def test_the_api_refuses_a_missing_unsigned_or_tampered_cookie(
    running_app: RunningApp, visitor: httpx.Client, cookie: str | None
) -> None:
    value = visitor.cookies[COOKIE_NAME]
    tampered = value[:-1] + ("0" if value[-1] != "0" else "1")
    cookies = {COOKIE_NAME: cookie if cookie is not None else tampered}
    with httpx.Client(base_url=running_app.base_url, cookies=cookies, timeout=5) as browser:
        answers = [
            browser.post("/webchat/api/messages", json={"text": "Hallo"}),
            browser.get("/webchat/api/messages"),
            browser.get("/webchat/api/stream"),
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "visitor_invalid"
    with running_app.client() as client:
        assert client.get("/api/v1/conversations").json() == []


def test_a_visitor_message_reaches_the_inbox_as_a_webchat_conversation(
    running_app: RunningApp, visitor: httpx.Client
) -> None:
    sent = visitor.post("/webchat/api/messages", json={"text": "  Habt ihr heute offen?  "})
    assert sent.status_code == 202
    assert sent.json()["stored"] is True
    assert sent.json()["provider_message_id"].startswith("web-in.")

    conversation = wait_for(lambda: _conversation(running_app))
    assert conversation["channel"] == "webchat"
    assert conversation["address"] == _visitor_id(visitor)
    assert [(m["direction"], m["author"], m["text"]) for m in
            _inbox(running_app, conversation["id"])] == [
        ("in", "contact", "Habt ihr heute offen?")
    ]


def test_the_agents_reply_shows_in_the_visitors_list(
    running_app: RunningApp, visitor: httpx.Client
) -> None:
    assert visitor.get("/webchat/api/messages").json() == []
    visitor.post("/webchat/api/messages", json={"text": "Wo finde ich euch?"})
    conversation = wait_for(lambda: _conversation(running_app))

    reply = _agent_says(running_app, conversation["id"], "Am Markt 3, gleich neben der Post.")
    assert reply["status"] == "sent"

    assert _seen_by(visitor) == [
        ("in", "Wo finde ich euch?"), ("out", "Am Markt 3, gleich neben der Post."),
    ]
    first = visitor.get("/webchat/api/messages").json()[0]["id"]
    after = visitor.get("/webchat/api/messages", params={"after_id": first}).json()
    assert [m["text"] for m in after] == ["Am Markt 3, gleich neben der Post."]


def _next_message_event(lines: Iterator[str], deadline: float) -> dict:
    event = ""
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event == "message":
            return json.loads(line.removeprefix("data:"))
    raise AssertionError("no message event arrived in time")


def test_the_agents_reply_arrives_live_on_the_visitors_stream(
    running_app: RunningApp, visitor: httpx.Client
) -> None:
    visitor.post("/webchat/api/messages", json={"text": "Ist noch ein Platz frei?"})
    conversation = wait_for(lambda: _conversation(running_app))
    last = _inbox(running_app, conversation["id"])[-1]["id"]

    timeout = httpx.Timeout(5.0)
    with visitor.stream("GET", "/webchat/api/stream", params={"after_id": last},
                        timeout=timeout) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        _agent_says(running_app, conversation["id"], "Ja, zwei sogar!")
        message = _next_message_event(stream.iter_lines(), time.monotonic() + 5)
    assert (message["direction"], message["author"], message["text"]) == (
        "out", "agent", "Ja, zwei sogar!"
    )


def test_stop_from_the_widget_withdraws_and_is_confirmed_once(
    running_app: RunningApp, visitor: httpx.Client
) -> None:
    visitor.post("/webchat/api/messages", json={"text": "STOP"})
    confirmation = wait_for(lambda: [m for m in _seen_by(visitor) if m[0] == "out"])
    assert confirmation[0][1].startswith("Botschaft: Du bist abgemeldet")

    visitor.post("/webchat/api/messages", json={"text": "stop"})
    conversation = _conversation(running_app)
    # The inbox sees everything, the refused second confirmation too.
    inbox = wait_for(lambda: [m for m in _inbox(running_app, conversation["id"])
                              if m["direction"] == "out" and m["status"] == "skipped"])
    assert inbox[0]["skip_reason"] == "withdrawn"

    # The visitor sees only what reached them: one confirmation, never a skipped message.
    assert [m for m in _seen_by(visitor) if m[0] == "out"] == confirmation
    proof = consent_proof(running_app.ctx, f"webchat:{_visitor_id(visitor)}")
    first = proof.events[0]
    assert (first.kind, first.source, first.evidence) == ("withdrawn", "keyword", "STOP")


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 4097])
def test_an_empty_or_overlong_message_is_refused_with_a_clear_error(
    visitor: httpx.Client, text: str
) -> None:
    answer = visitor.post("/webchat/api/messages", json={"text": text})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "message_invalid"
    assert answer.json()["error"]["message"].startswith("A message")


def test_a_message_of_exactly_the_longest_length_is_taken(visitor: httpx.Client) -> None:
    assert visitor.post("/webchat/api/messages", json={"text": "x" * 4096}).status_code == 202


def test_a_malformed_request_is_a_4xx_never_a_500(visitor: httpx.Client) -> None:
    assert visitor.post("/webchat/api/messages", content=b"{not json",
                        headers={"Content-Type": "application/json"}).status_code == 422
    assert visitor.post("/webchat/api/messages", json={"txt": "hi"}).status_code == 422
    assert visitor.get("/webchat/api/messages", params={"after_id": -1}).status_code == 422
    assert visitor.get("/webchat/static/../app.py").status_code == 404
    assert visitor.get("/webchat/static/nothing.js").status_code == 404


def test_a_window_embedded_on_another_site_gets_its_id_for_the_header(
    running_app: RunningApp,
) -> None:
    # Browsers keep no SameSite=Lax cookie inside a cross-site iframe; the window's script
    # then sends the signed id in a header.
    with httpx.Client(base_url=running_app.base_url) as browser:
        page = browser.get("/webchat/frame", headers={"Sec-Fetch-Site": "cross-site"}).text
        same_site = browser.get("/webchat/frame").text
    token = _config(page)["token"]
    assert _config(same_site)["token"] == ""  # the id stays HttpOnly where the cookie works
    with httpx.Client(base_url=running_app.base_url) as script:
        accepted = script.post("/webchat/api/messages", json={"text": "Hallo"},
                               headers={"X-Botschaft-Visitor": token})
        forged = script.get("/webchat/api/messages",
                            headers={"X-Botschaft-Visitor": token[:-2] + "00"})
    assert accepted.status_code == 202
    assert forged.status_code == 401
    conversation = wait_for(lambda: _conversation(running_app))
    assert conversation["address"] == token.split(".")[0]


def _config(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="botschaft-config">(.*?)</script>',
                      page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_widget_script_is_served_as_javascript_with_its_labels(
    running_app: RunningApp,
) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        answer = browser.get("/webchat/widget.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "/webchat/frame" in answer.text
    assert '"open": "Chat öffnen"' in answer.text
    assert "/*LABELS*/" not in answer.text


@pytest.mark.parametrize(("lang", "greeting", "privacy"), [
    ("de", "Hallo! Wie können wir helfen?", "es gehen keine Daten an Dritte"),
    ("en", "Hello! How can we help?", "no data goes to third parties"),
])
def test_the_chat_window_speaks_german_and_english(
    running_app: RunningApp, lang: str, greeting: str, privacy: str
) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        asked = browser.get("/webchat/frame", params={"lang": lang}).text
        by_browser = browser.get("/webchat/frame",
                                 headers={"Accept-Language": f"{lang}-XX,fr;q=0.5"}).text
    for page in (asked, by_browser):
        assert f'<html lang="{lang}">' in page
        assert greeting in page
        assert privacy in page
        assert '<label for="text"' in page


def test_the_chat_window_and_everything_it_loads_name_no_other_host(
    running_app: RunningApp,
) -> None:
    own = urlsplit(running_app.base_url).netloc
    with httpx.Client(base_url=running_app.base_url) as browser:
        frame = browser.get("/webchat/frame")
        assets = re.findall(r'(?:href|src)="(/webchat/static/[^"]+)"', frame.text)
        assert len(assets) == 2  # the window's style sheet and script
        served = [frame, browser.get("/webchat/widget.js")]
        served += [browser.get(path) for path in assets]
    for answer in served:
        assert answer.status_code == 200
        hosts = re.findall(r"https?://([^/\s\"'<>)]+)", answer.text)
        assert set(hosts) <= {own}, f"{answer.url} names {sorted(set(hosts))}"
    policy = frame.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "http" not in policy
