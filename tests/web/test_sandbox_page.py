"""The sandbox phone page over real HTTP: German and English, own files only."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from web_app import RunningApp


@pytest.mark.parametrize(("accept", "lang", "title", "number_label"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de", "Sandbox-Telefon", "Telefonnummer"),
    ("en-GB,en;q=0.9", "en", "Sandbox phone", "Phone number"),
])
def test_the_page_speaks_the_browsers_language(
    running_app: RunningApp, accept: str, lang: str, title: str, number_label: str
) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        answer = browser.get("/sandbox", headers={"Accept-Language": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-language"] == lang
    page = answer.text
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{title}</h1>" in page
    assert f'<label for="number">{number_label}</label>' in page
    assert "24" in page  # the service window is named on the page


def test_the_language_switch_overrides_the_browser(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url,
                      headers={"Accept-Language": "de-DE"}) as browser:
        page = browser.get("/sandbox", params={"lang": "en"}).text
    assert '<html lang="en">' in page
    assert re.search(r'<a href="\?lang=en"[^>]*aria-current="true"', page)
    assert re.search(r'<a href="\?lang=de"[^>]*>Deutsch</a>', page)


def test_an_unsupported_language_falls_back_to_the_workspaces(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url) as browser:
        page = browser.get("/sandbox", headers={"Accept-Language": "fr-FR"}).text
    assert '<html lang="de">' in page  # the default language of the test settings


def test_the_page_and_its_files_name_no_other_host(running_app: RunningApp) -> None:
    own = urlsplit(running_app.base_url).netloc
    with httpx.Client(base_url=running_app.base_url) as browser:
        page = browser.get("/sandbox")
        assets = re.findall(r'(?:href|src)="(/sandbox/static/[^"]+)"', page.text)
        files = [browser.get(path) for path in assets]
    assert len(files) == 2
    assert files[0].headers["content-type"] == "text/css; charset=utf-8"
    assert files[1].headers["content-type"] == "text/javascript; charset=utf-8"
    for answer in [page, *files]:
        assert answer.status_code == 200
        hosts = set(re.findall(r"https?://([^/\s\"'<>)]+)", answer.text))
        assert hosts <= {own}, f"{answer.url} names {sorted(hosts)}"
    assert "default-src 'none'" in page.headers["content-security-policy"]
