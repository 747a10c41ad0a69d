"""What the composer offers, canned-response shortcuts, and the agent's signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.composer import (
    SIGNATURE_DASH,
    InvalidShortcut,
    ReplyMode,
    check_shortcut,
    default_signature,
    expand_shortcuts,
    reply_options,
    signed,
)
from botschaft.domain.gate import OutboundPolicy

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
POLICY = OutboundPolicy()
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ANNA = f"{SIGNATURE_DASH} Anna"


def options(channel, last_inbound, *, templates=False):
    return reply_options(channel, last_inbound, POLICY, NOW, templates=templates)


def test_inside_the_window_free_text_goes_and_the_remaining_time_is_known():
    found = options(ChannelKind.WHATSAPP, NOW - 3 * HOUR, templates=True)

    assert found.mode is ReplyMode.FREE_TEXT
    assert found.remaining(NOW) == 21 * HOUR
    assert found.window_ends_at == NOW + 21 * HOUR


def test_whatsapp_after_24_hours_offers_templates_only():
    found = options(ChannelKind.WHATSAPP, NOW - 25 * HOUR, templates=True)

    assert found.mode is ReplyMode.TEMPLATES
    assert found.window_ends_at == NOW - HOUR
    assert found.remaining(NOW) is None


def test_whatsapp_contact_who_never_wrote_gets_templates_only():
    assert options(ChannelKind.SANDBOX, None, templates=True).mode is ReplyMode.TEMPLATES


@pytest.mark.parametrize(("ago", "left"), [(2 * DAY, 5 * DAY), (7 * DAY - HOUR, HOUR)])
def test_messenger_after_24_hours_offers_the_human_agent_tag_for_7_days(ago, left):
    found = options(ChannelKind.MESSENGER, NOW - ago)

    assert found.mode is ReplyMode.HUMAN_AGENT
    assert found.remaining(NOW) == left


def test_messenger_after_7_days_nothing_may_go():
    assert options(ChannelKind.MESSENGER, NOW - 8 * DAY).mode is ReplyMode.CLOSED


@pytest.mark.parametrize("channel", [ChannelKind.TELEGRAM, ChannelKind.WEBCHAT])
def test_channels_without_a_window_always_take_free_text(channel):
    found = options(channel, NOW - 30 * DAY)

    assert (found.mode, found.until, found.window_ends_at) == (ReplyMode.FREE_TEXT, None, None)


def test_window_exactly_24_hours_ago_is_closed():
    assert options(ChannelKind.WHATSAPP, NOW - 24 * HOUR).mode is ReplyMode.CLOSED


def test_remaining_time_never_goes_negative():
    found = options(ChannelKind.WHATSAPP, NOW - HOUR)

    assert found.remaining(NOW + 2 * DAY) == timedelta(0)


CANNED = {"preis": "Die Reise kostet 1.290 € pro Person.", "danke": "Vielen Dank!"}


@pytest.mark.parametrize(
    ("typed", "expanded"),
    [("/preis", CANNED["preis"]),
     ("Hallo! /preis", f"Hallo! {CANNED['preis']}"),
     ("/PREIS.", f"{CANNED['preis']}."),
     ("/danke /preis", f"{CANNED['danke']} {CANNED['preis']}"),
     ("/unbekannt bleibt", "/unbekannt bleibt"),
     ("a/preis or https://x.de/preis", "a/preis or https://x.de/preis"),
     ("/preisliste", "/preisliste")],
    ids=["alone", "after text", "case and full stop", "two", "unknown", "inside words",
         "longer word"],
)
def test_typed_shortcuts_expand_to_their_canned_response(typed, expanded):
    assert expand_shortcuts(typed, CANNED) == expanded


@pytest.mark.parametrize(("typed", "stored"), [("/Preis", "preis"), ("  info-2 ", "info-2")])
def test_shortcut_is_stored_in_lower_case_without_the_slash(typed, stored):
    assert check_shortcut(typed) == stored


@pytest.mark.parametrize("bad", ["", "/", "two words", "-dash", "x" * 33, "ümlaut"])
def test_a_shortcut_that_cannot_be_typed_is_refused_with_how_to_fix_it(bad):
    with pytest.raises(InvalidShortcut, match="1 to 32 letters"):
        check_shortcut(bad)


def test_default_signature_is_the_first_name_after_a_dash():
    assert default_signature("Anna Schmidt") == ANNA
    assert default_signature("  ") == ""


def test_reply_is_signed_after_a_blank_line():
    assert signed("Gern geschehen.  ", ANNA) == f"Gern geschehen.\n\n{ANNA}"


def test_reply_already_signed_is_not_signed_twice():
    assert signed(f"Gern.\n\n{ANNA}", ANNA) == f"Gern.\n\n{ANNA}"


def test_no_signature_leaves_the_text_alone():
    assert signed("Gern.", "") == "Gern."
