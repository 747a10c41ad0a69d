"""A visitor of a sign-up page, over real HTTP: reads the page, ticks, types, submits.

Also the consent texts and pages the journeys use, made through the product's own paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from botschaft.services.consent_texts import PublishedText, publish_consent_text
from botschaft.services.context import Context

from factories import marketing_text

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CODE = re.compile(r"START ([A-Za-z0-9_-]{16,64})")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def english_text(**changes: str) -> Any:
    fields = {
        "language": "en",
        "company": "Reisebüro Sonnenschein GmbH, Hauptstraße 1, 10115 Berlin, Germany",
        "purpose": "Offers and travel tips by WhatsApp",
        "data_categories": "Phone number, name, time and content of the consent",
        "recipients": "Meta Platforms Ireland Ltd., operator of WhatsApp",
        "frequency": "at most two messages a week",
        "withdrawal": "Withdraw at any time by writing STOP",
        "privacy_policy_url": "https://sonnenschein.example/privacy",
    }
    fields.update(changes)
    return marketing_text(**fields)


def publish_texts(ctx: Context) -> tuple[PublishedText, PublishedText]:
    """The newsletter consent text in German and English."""
    return publish_consent_text(ctx, marketing_text()), publish_consent_text(ctx, english_text())


def create_page(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """Create a sign-up page through the API; fails the test if it is refused."""
    body = {"slug": "angebote", "title": "Reiseangebote per Messenger",
            "channels": ["sandbox"], "consent_text_key": "newsletter", **fields}
    answer = client.post("/api/v1/signup-pages", json=body)
    assert answer.status_code == 201, answer.text
    page: dict[str, Any] = answer.json()
    return page


@dataclass
class Visitor:
    """A browser without JavaScript: every step is a plain GET or form POST."""

    base_url: str
    ip: str = "203.0.113.7"
    user_agent: str = FIREFOX
    language: str = "de-DE,de;q=0.9,en;q=0.8"

    def headers(self) -> dict[str, str]:
        # The app runs behind "a proxy" on loopback, which uvicorn trusts for the client IP.
        return {"User-Agent": self.user_agent, "Accept-Language": self.language,
                "X-Forwarded-For": self.ip}

    def open(self, slug: str, **params: str) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            return client.get(f"/join/{slug}", params=params, headers=self.headers())

    def token(self, slug: str, **params: str) -> str:
        page = self.open(slug, **params)
        assert page.status_code == 200, page.text
        found = FORM_TOKEN.search(page.text)
        assert found is not None
        return found.group(1)

    def submit(
        self, slug: str, *, number: str = "", via: str = "number", agree: bool = True,
        token: str | None = None,
    ) -> httpx.Response:
        form = {"form_token": token or self.token(slug), "number": number, "via": via}
        if agree:
            form["agree"] = "yes"
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            return client.post(f"/join/{slug}", data=form, headers=self.headers())


def code_on(page: httpx.Response) -> str:
    """The agreement code a thank-you page shows (in its START message)."""
    found = CODE.search(page.text)
    assert found is not None, page.text
    return found.group(1)
