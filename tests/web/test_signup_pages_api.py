"""/api/v1/signup-pages and the QR codes of a page: over HTTP, with a bearer token."""

from __future__ import annotations

import httpx
import pytest

from signup_visitor import FORM_TOKEN, create_page, publish_texts
from web_app import RunningApp


@pytest.fixture
def app(running_app: RunningApp) -> RunningApp:
    publish_texts(running_app.ctx)
    return running_app


def test_a_created_page_is_listed_with_its_address_and_embed_snippets(app: RunningApp) -> None:
    with app.client() as client:
        created = create_page(client, business_number="+49 30 1234567")
        listed = client.get("/api/v1/signup-pages").json()

    assert listed == [created]
    assert created["url"].endswith("/join/angebote")
    assert created["requests_per_number"] == 1 and created["submissions_per_ip"] == 10
    assert created["whatsapp_template"] == "double_opt_in"
    assert set(created["consent_text_ids"]) == {"de", "en"}
    assert '<iframe src="' in created["embed"]["iframe"]
    assert "/join/angebote?embed=1" in created["embed"]["iframe"]
    form = created["embed"]["forms"]["de"]
    assert f'action="{created["url"]}"' in form
    assert "Meta Platforms Ireland" in form and "<script" not in form


def test_the_plain_form_snippet_posts_to_the_page_from_any_website(app: RunningApp) -> None:
    with app.client() as client:
        form = create_page(client)["embed"]["forms"]["en"]
    token = FORM_TOKEN.search(form)
    assert token is not None
    with httpx.Client(base_url=app.base_url) as browser:
        answer = browser.post("/join/angebote", data={
            "form_token": token.group(1), "agree": "yes", "number": "+4915123456789",
            "via": "number"}, headers={"Origin": "https://sonnenschein.example"})
    assert answer.status_code == 200
    assert "Almost done!" in answer.text


def test_the_api_needs_a_token(app: RunningApp) -> None:
    with httpx.Client(base_url=app.base_url) as client:
        assert client.get("/api/v1/signup-pages").status_code == 401
        assert client.post("/api/v1/signup-pages", json={}).status_code == 401


def test_a_refused_page_says_why(app: RunningApp) -> None:
    with app.client() as client:
        answer = client.post("/api/v1/signup-pages", json={
            "slug": "angebote", "title": "Angebote", "channels": ["sandbox"],
            "consent_text_key": "newsletter", "purpose": "unbekannt"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "signup_page_invalid"
    assert "publish a consent text for it first" in answer.json()["error"]["message"]
