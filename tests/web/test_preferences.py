"""The preference page over real HTTP: every choice is one ledger row, and the gate obeys it."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from botschaft.channels.messages import OutboundMessage
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, consent_state, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context
from botschaft.services.outbound import send_message
from botschaft.services.preference_links import preference_url
from botschaft.services.secret import signing_key
from botschaft.settings import Settings
from botschaft.storage.models import ConsentEvent
from botschaft.web.preferences import form_check
from web_app import RunningApp, wait_for

NUMBER = "+4915123456789"
BROWSER = "Mozilla/5.0 (Android 15; Mobile) Firefox/141.0"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """A travel agency with Telegram switched on besides the sandbox phone."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url,
        business={"name": "Reisebüro Sonnenschein"},  # type: ignore[arg-type]
        telegram={  # type: ignore[arg-type]
            "enabled": True, "bot_token": "123456789:test-token", "webhook_secret": "hook",
            "bot_username": "sonnenschein_bot",
        },
    )


@pytest.fixture
def subscriber(ctx: Context, text_version: PublishedText) -> ContactView:
    """Anna on the sandbox phone, subscribed to marketing with her own agreement."""
    anna = create_contact(ctx, identities=[(ChannelKind.SANDBOX, NUMBER)],
                          display_name="Anna", language="de")
    record_consent(ctx, ConsentRecord(
        contact_id=anna.id, channel=ChannelKind.SANDBOX, purpose=MARKETING,
        kind=ConsentEventKind.GRANTED, source=ConsentSource.KEYWORD,
        consent_text_id=text_version.id,
    ))
    return anna


def _path(ctx: Context, contact_id: int, channel: ChannelKind = ChannelKind.SANDBOX) -> str:
    return urlsplit(preference_url(ctx, contact_id, channel)).path


def _browser(app: RunningApp, language: str = "de-DE,de;q=0.9") -> httpx.Client:
    return httpx.Client(base_url=app.base_url, timeout=10,
                        headers={"Accept-Language": language, "User-Agent": BROWSER})


def _choose(app: RunningApp, path: str, choice: str, **extra: str) -> httpx.Response:
    """Submit the page's form as a browser would: the signed check field comes from the page."""
    with _browser(app) as browser:
        page = browser.get(path)
        check = re.search(r'name="check" value="([^"]+)"', page.text)
        assert check is not None, "the page has no form"
        return browser.post(path, data={"check": check[1], "lang": "de", "choice": choice,
                                        **extra})


def _ledger(ctx: Context, contact_id: int) -> list[ConsentEvent]:
    with ctx.db.read() as session:
        rows = session.scalars(
            select(ConsentEvent).where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.seq)
        ).all()
        session.expunge_all()
        return list(rows)


def _marketing(ctx: Context, contact_id: int) -> tuple[str, str | None]:
    return _send(ctx, contact_id, Outbound(MessageKind.MARKETING, purpose=MARKETING),
                 "Frühbucher: 20 % auf Mallorca")


def _send(ctx: Context, contact_id: int, intent: Outbound, text: str) -> tuple[str, str | None]:
    sent = asyncio.run(send_message(
        ctx, Channels.from_settings(ctx.settings), contact_id=contact_id,
        channel=ChannelKind.SANDBOX, content=OutboundMessage(to="", text=text), intent=intent,
    ))
    return sent.status, sent.skip_reason


def _writes_first(app: RunningApp, text: str = "Habt ihr noch Plätze im Mai?") -> None:
    """Anna writes on the sandbox phone, which opens the service window."""
    with app.client() as client:
        client.post("/sandbox/api/messages", json={"number": NUMBER, "text": text})
        wait_for(lambda: client.get("/api/v1/conversations",
                                    params={"channel": "sandbox"}).json())


@pytest.mark.parametrize(("choice", "kind", "terms"), [
    ("pause:1", "paused", {"until": "2026-03-09T10:00:00+00:00"}),
    ("pause:2", "paused", {"until": "2026-03-16T10:00:00+00:00"}),
    ("pause:4", "paused", {"until": "2026-03-30T10:00:00+00:00"}),
    ("limit:1", "limited", {"per_period": 1}),
    ("limit:2", "limited", {"per_period": 2}),
    ("withdraw", "withdrawn", None),
    ("switch:telegram", "withdrawn", None),
])
def test_each_choice_writes_exactly_one_ledger_row_with_its_evidence(
    running_app: RunningApp, ctx: Context, subscriber: ContactView,
    choice: str, kind: str, terms: dict[str, object] | None,
) -> None:
    before = _ledger(ctx, subscriber.id)
    answer = _choose(running_app, _path(ctx, subscriber.id), choice)
    assert answer.status_code == 200
    new = _ledger(ctx, subscriber.id)[len(before):]
    assert [(r.kind, r.source, r.channel, r.purpose) for r in new] == [
        (kind, "web_form", "sandbox", MARKETING)
    ]
    assert (json.loads(new[0].terms) if new[0].terms else None) == terms
    assert (new[0].ip, new[0].user_agent) == ("127.0.0.1", BROWSER)


def test_resuming_early_writes_a_pause_that_ends_now(
    running_app: RunningApp, ctx: Context, subscriber: ContactView, clock: ManualClock
) -> None:
    path = _path(ctx, subscriber.id)
    _choose(running_app, path, "pause:4")
    clock.advance(timedelta(days=3))
    answer = _choose(running_app, path, "resume")
    assert "Pause beendet" in answer.text
    resumed = _ledger(ctx, subscriber.id)[-1]
    assert (resumed.kind, resumed.source) == ("paused", "web_form")
    assert json.loads(resumed.terms or "") == {"until": "2026-03-05T10:00:00+00:00"}


def test_a_pause_skips_marketing_but_not_the_answer_to_a_question(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _writes_first(running_app)
    assert _marketing(ctx, subscriber.id) == ("sent", None)
    answer = _choose(running_app, _path(ctx, subscriber.id), "pause:2")
    assert "Bis Montag, 16. März 2026 bekommst du keine Angebote von uns" in answer.text
    assert _marketing(ctx, subscriber.id) == ("skipped", "paused")
    reply = Outbound(MessageKind.SERVICE)
    assert _send(ctx, subscriber.id, reply, "Ja, im Mai ist noch Platz.") == ("sent", None)


def test_resume_lifts_the_pause(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _writes_first(running_app)
    path = _path(ctx, subscriber.id)
    _choose(running_app, path, "pause:1")
    assert _marketing(ctx, subscriber.id) == ("skipped", "paused")
    _choose(running_app, path, "resume")
    assert _marketing(ctx, subscriber.id) == ("sent", None)


def test_fewer_messages_lowers_the_cap(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _writes_first(running_app)
    answer = _choose(running_app, _path(ctx, subscriber.id), "limit:1")
    assert "Ab jetzt bekommst du höchstens 1 Nachricht pro Woche." in answer.text
    assert _marketing(ctx, subscriber.id) == ("sent", None)
    # The workspace allows three a week; Anna asked for one.
    assert _marketing(ctx, subscriber.id) == ("skipped", "frequency_cap")


def test_the_usual_number_can_be_chosen_again(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _writes_first(running_app)
    path = _path(ctx, subscriber.id)
    _choose(running_app, path, "limit:1")
    answer = _choose(running_app, path, "unlimit")
    assert "wieder wie üblich, höchstens 3 Nachrichten pro Woche" in answer.text
    assert json.loads(_ledger(ctx, subscriber.id)[-1].terms or "") == {"per_period": 3}
    assert [_marketing(ctx, subscriber.id) for _ in range(2)] == [("sent", None)] * 2


def test_withdrawing_ends_the_subscription_and_marketing(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _writes_first(running_app)
    answer = _choose(running_app, _path(ctx, subscriber.id), "withdraw")
    assert "Du bist abgemeldet" in answer.text
    assert "Nicht angemeldet" in answer.text
    with ctx.db.read() as session:
        state = consent_state(session, ctx, subscriber.id, ChannelKind.SANDBOX, MARKETING)
    assert state.status is ConsentStatus.WITHDRAWN
    assert _marketing(ctx, subscriber.id) == ("skipped", "withdrawn")


def test_switching_channel_withdraws_here_and_subscribes_nowhere(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    answer = _choose(running_app, _path(ctx, subscriber.id), "switch:telegram")
    assert "Auf dem Sandbox-Telefon abgemeldet" in answer.text
    assert "schreib Reisebüro Sonnenschein dort START" in answer.text
    assert 'href="https://t.me/sonnenschein_bot"' in answer.text
    rows = _ledger(ctx, subscriber.id)
    assert {r.channel for r in rows} == {"sandbox"}  # no consent invented on Telegram
    assert rows[-1].note == "preference page: wants to subscribe on telegram instead"


def test_the_page_offers_only_switched_on_messengers(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    with _browser(running_app) as browser:
        page = browser.get(_path(ctx, subscriber.id)).text
    assert re.findall(r'value="switch:(\w+)"', page) == ["telegram"]
    refused = _choose(running_app, _path(ctx, subscriber.id), "switch:whatsapp")
    assert refused.status_code == 422
    assert len(_ledger(ctx, subscriber.id)) == 1


def test_the_page_shows_who_sends_and_the_current_state(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    with _browser(running_app) as browser:
        answer = browser.get(_path(ctx, subscriber.id))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert '<p class="brand">Reisebüro Sonnenschein</p>' in page
    assert "Angemeldet" in page
    assert "+49 ••• 789" in page
    assert re.findall(r'value="(pause:\d|limit:\d|withdraw)"', page) == [
        "pause:1", "pause:2", "pause:4", "limit:1", "limit:2", "withdraw",
    ]
    assert "<script" not in page  # works without JavaScript
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_paused_person_sees_until_when_and_can_resume(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    _choose(running_app, _path(ctx, subscriber.id), "pause:2")
    with _browser(running_app, "en-GB,en;q=0.9") as browser:
        page = browser.get(_path(ctx, subscriber.id)).text
    assert "Paused until Monday, 16 March 2026" in page
    assert 'value="resume"' in page


def test_a_person_without_consent_sees_not_subscribed_and_nothing_to_pause(
    running_app: RunningApp, ctx: Context
) -> None:
    stranger = create_contact(ctx, identities=[(ChannelKind.SANDBOX, NUMBER)])
    with _browser(running_app) as browser:
        page = browser.get(_path(ctx, stranger.id)).text
    assert "Nicht angemeldet" in page
    assert "Du bekommst von Reisebüro Sonnenschein keine Angebote" in page
    assert 'value="pause:' not in page
    assert 'value="withdraw"' not in page
    assert "<form" not in page


def test_a_person_without_consent_cannot_pause_by_a_hand_made_form(
    running_app: RunningApp, ctx: Context
) -> None:
    stranger = create_contact(ctx, identities=[(ChannelKind.SANDBOX, NUMBER)])
    path = _path(ctx, stranger.id)
    token = path.removeprefix("/p/")
    with _browser(running_app) as browser:
        answer = browser.post(path, data={
            "check": form_check(token, signing_key(ctx.settings)), "choice": "pause:2",
        })
    assert answer.status_code == 422
    assert "Das hat nicht geklappt" in answer.text
    assert _ledger(ctx, stranger.id) == []


@pytest.mark.parametrize(("accept", "contact_language", "lang", "title"), [
    ("de-DE,de;q=0.9", "de", "de", "Nachrichten-Einstellungen"),
    ("en-GB,en;q=0.9", "en", "en", "Message settings"),
    # The messages came in German, and the browser reads German too.
    ("en-US,en;q=0.9,de;q=0.8", "de", "de", "Nachrichten-Einstellungen"),
    # The browser reads no German: its own language wins.
    ("en-US,en;q=0.9", "de", "en", "Message settings"),
])
def test_the_page_speaks_the_contacts_and_the_browsers_language(
    running_app: RunningApp, ctx: Context, accept: str, contact_language: str, lang: str,
    title: str,
) -> None:
    person = create_contact(ctx, identities=[(ChannelKind.SANDBOX, NUMBER)],
                            language=contact_language)
    with _browser(running_app, accept) as browser:
        answer = browser.get(_path(ctx, person.id))
    assert answer.headers["content-language"] == lang
    assert f'<html lang="{lang}">' in answer.text
    assert f"<h1>{title}</h1>" in answer.text


def test_the_language_switch_overrides_both(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    with _browser(running_app) as browser:
        page = browser.get(_path(ctx, subscriber.id), params={"lang": "en"}).text
    assert '<html lang="en">' in page
    assert '<input type="hidden" name="lang" value="en">' in page
    assert "Take a break" in page


@pytest.mark.parametrize("token", [
    "nonsense",
    "1.sandbox.AAAAAAAAAAAAAAAAAAAAAA",
    "1.faxmachine.AAAAAAAAAAAAAAAAAAAAAA",
])
def test_an_invalid_link_gets_a_friendly_not_found_page(
    running_app: RunningApp, token: str
) -> None:
    with _browser(running_app) as browser:
        answer = browser.get(f"/p/{token}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Dieser Link funktioniert nicht" in answer.text
    assert "STOP" in answer.text


def test_a_tampered_link_gets_the_not_found_page(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    path = _path(ctx, subscriber.id)
    other_person = path.replace(f"/p/{subscriber.id}.", f"/p/{subscriber.id + 1}.")
    other_channel = path.replace(".sandbox.", ".whatsapp.")
    flipped = path[:-1] + ("A" if path[-1] != "A" else "B")
    with _browser(running_app, "en") as browser:
        answers = [browser.get(p) for p in (other_person, other_channel, flipped)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all("This link does not work" in a.text for a in answers)


def test_a_valid_link_for_a_person_no_longer_on_record_is_not_found(
    running_app: RunningApp, ctx: Context
) -> None:
    with _browser(running_app) as browser:
        answer = browser.get(_path(ctx, 4711))
    assert answer.status_code == 404
    assert "Dieser Link funktioniert nicht" in answer.text


def test_a_post_with_an_invalid_token_is_refused(running_app: RunningApp) -> None:
    with _browser(running_app) as browser:
        answer = browser.post("/p/1.sandbox.AAAAAAAAAAAAAAAAAAAAAA",
                              data={"check": "x", "choice": "withdraw"})
    assert answer.status_code == 404
    assert "Dieser Link funktioniert nicht" in answer.text


@pytest.mark.parametrize("how", ["no check", "wrong check", "check of another link",
                                 "from another site", "from another origin"])
def test_a_post_not_from_our_page_is_refused_and_changes_nothing(
    running_app: RunningApp, ctx: Context, subscriber: ContactView, how: str
) -> None:
    path = _path(ctx, subscriber.id)
    key = signing_key(ctx.settings)
    fields = {"choice": "withdraw", "check": form_check(path.removeprefix("/p/"), key)}
    headers = {}
    if how == "no check":
        del fields["check"]
    elif how == "wrong check":
        fields["check"] = "0" * 32
    elif how == "check of another link":
        fields["check"] = form_check(_path(ctx, subscriber.id + 1).removeprefix("/p/"), key)
    elif how == "from another site":
        headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    else:  # a browser without fetch metadata still names the page's origin
        headers = {"Origin": "https://evil.example"}
    with _browser(running_app) as browser:
        answer = browser.post(path, data=fields, headers=headers)
    assert answer.status_code == 403
    assert "Deine Auswahl wurde nicht gespeichert" in answer.text
    assert len(_ledger(ctx, subscriber.id)) == 1


def test_the_style_sheet_is_served_and_names_no_other_host(
    running_app: RunningApp, ctx: Context, subscriber: ContactView
) -> None:
    with _browser(running_app) as browser:
        page = browser.get(_path(ctx, subscriber.id)).text
        assets = re.findall(r'href="(/preferences/static/[^"]+)"', page)
        sheet = browser.get(assets[0])
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "text/css; charset=utf-8"
    assert re.findall(r"https?://", sheet.text) == []
