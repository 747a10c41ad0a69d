"""The preference use cases on their own: what each choice admits and what it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
from botschaft.domain.errors import NotFound
from botschaft.services.clock import ManualClock
from botschaft.services.consent import ConsentRecord, record_consent
from botschaft.services.consent_texts import PublishedText, publish_consent_text
from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.services.evidence import consent_proof
from botschaft.services.preferences import (
    Evidence,
    InvalidChoice,
    Standing,
    fewer_choices,
    limit,
    pause,
    preferences_of,
    resume,
    switch_channel,
    switch_targets,
    withdraw,
)
from botschaft.settings import Settings

from factories import marketing_text

WA = ChannelKind.WHATSAPP
FROM_BROWSER = Evidence(ip="198.51.100.23", user_agent="Safari/18.4")


@pytest.fixture
def subscribed(ctx: Context, contact: ContactView, text_version: PublishedText) -> ContactView:
    record_consent(ctx, ConsentRecord(
        contact_id=contact.id, channel=WA, purpose=MARKETING, kind=ConsentEventKind.GRANTED,
        source=ConsentSource.WEB_FORM, consent_text_id=text_version.id,
    ))
    return contact


def _kinds(ctx: Context, contact: ContactView) -> list[tuple[str, str, str]]:
    return [(e.kind, e.purpose, e.source) for e in consent_proof(ctx, str(contact.id)).events]


@pytest.mark.parametrize("weeks", [0, 3, 52])
def test_a_pause_lasts_one_two_or_four_weeks_only(
    ctx: Context, subscribed: ContactView, weeks: int
) -> None:
    with pytest.raises(InvalidChoice):
        pause(ctx, subscribed.id, WA, weeks, FROM_BROWSER)
    assert len(_kinds(ctx, subscribed)) == 1


def test_a_pause_ends_by_itself(
    ctx: Context, subscribed: ContactView, clock: ManualClock
) -> None:
    changed = pause(ctx, subscribed.id, WA, 1, FROM_BROWSER)
    assert changed.preferences.standing is Standing.PAUSED
    clock.advance(changed.preferences.paused_until - clock.now())  # type: ignore[operator]
    assert preferences_of(ctx, subscribed.id, WA).standing is Standing.SUBSCRIBED


def test_resuming_needs_a_pause(ctx: Context, subscribed: ContactView) -> None:
    with pytest.raises(InvalidChoice):
        resume(ctx, subscribed.id, WA, FROM_BROWSER)


def test_fewer_messages_offers_only_values_below_the_workspace_cap(
    tmp_path: Path, database_url: str
) -> None:
    def offered(cap: int) -> tuple[int, ...]:
        return fewer_choices(Settings(data_dir=tmp_path, database_url=database_url,
                                      policy={"marketing_per_period": cap}))  # type: ignore[arg-type]

    assert [offered(cap) for cap in (1, 2, 3, 5)] == [(), (1,), (1, 2), (1, 2)]


def test_a_limit_the_page_does_not_offer_is_refused(ctx: Context, subscribed: ContactView) -> None:
    with pytest.raises(InvalidChoice):
        limit(ctx, subscribed.id, WA, 3, FROM_BROWSER)


def test_nothing_but_a_withdrawal_is_open_to_a_pending_sign_up(
    ctx: Context, contact: ContactView, text_version: PublishedText
) -> None:
    record_consent(ctx, ConsentRecord(
        contact_id=contact.id, channel=WA, purpose=MARKETING, kind=ConsentEventKind.REQUESTED,
        source=ConsentSource.WEB_FORM, consent_text_id=text_version.id,
    ))
    assert preferences_of(ctx, contact.id, WA).standing is Standing.PENDING
    with pytest.raises(InvalidChoice):
        pause(ctx, contact.id, WA, 2, FROM_BROWSER)
    withdraw(ctx, contact.id, WA, FROM_BROWSER)
    assert _kinds(ctx, contact)[-1] == ("withdrawn", MARKETING, "web_form")


def test_a_withdrawal_covers_every_consent_in_force_on_the_channel(
    ctx: Context, subscribed: ContactView
) -> None:
    health = publish_consent_text(ctx, marketing_text(key="health", consent_purpose="health"))
    record_consent(ctx, ConsentRecord(
        contact_id=subscribed.id, channel=WA, purpose="health", kind=ConsentEventKind.GRANTED,
        source=ConsentSource.WEB_FORM, consent_text_id=health.id,
    ))
    changed = withdraw(ctx, subscribed.id, WA, FROM_BROWSER)
    assert changed.preferences.standing is Standing.NOT_SUBSCRIBED
    assert sorted(_kinds(ctx, subscribed)[-2:]) == [
        ("withdrawn", "health", "web_form"), ("withdrawn", MARKETING, "web_form"),
    ]


def test_nothing_is_withdrawn_twice(ctx: Context, subscribed: ContactView) -> None:
    withdraw(ctx, subscribed.id, WA, FROM_BROWSER)
    with pytest.raises(InvalidChoice):
        withdraw(ctx, subscribed.id, WA, FROM_BROWSER)
    assert len(_kinds(ctx, subscribed)) == 2


def test_switching_goes_only_to_another_switched_on_messenger(
    ctx: Context, subscribed: ContactView
) -> None:
    enabled = [ChannelKind.SANDBOX, ChannelKind.WEBCHAT, WA, ChannelKind.MESSENGER]
    assert switch_targets(WA, enabled) == (ChannelKind.MESSENGER,)
    for target in (WA, ChannelKind.TELEGRAM, ChannelKind.WEBCHAT):
        with pytest.raises(InvalidChoice):
            switch_channel(ctx, subscribed.id, WA, target, FROM_BROWSER, enabled=enabled)
    changed = switch_channel(ctx, subscribed.id, WA, ChannelKind.MESSENGER, FROM_BROWSER,
                             enabled=enabled)
    assert changed.target is ChannelKind.MESSENGER
    assert {e.channel for e in consent_proof(ctx, str(subscribed.id)).events} == {"whatsapp"}


def test_an_unknown_person_or_channel_is_not_found(ctx: Context, contact: ContactView) -> None:
    with pytest.raises(NotFound):
        preferences_of(ctx, contact.id + 1, WA)
    with pytest.raises(NotFound):
        preferences_of(ctx, contact.id, ChannelKind.TELEGRAM)  # no Telegram identity
