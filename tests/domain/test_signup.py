from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botschaft.domain.keywords import KeywordSet
from botschaft.domain.signup import (
    InvalidFormToken,
    InvalidSlug,
    LimitReached,
    RequestLimits,
    check_ip_limit,
    check_number_limit,
    check_slug,
    messenger_link,
    new_code,
    read_form_token,
    request_open,
    sign_form_token,
    start_code,
    telegram_link,
    whatsapp_link,
)

KEY = b"k" * 32
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OPT_IN = KeywordSet.build().opt_in


@pytest.mark.parametrize("slug", ["angebote", "a", "sommer-2026", "x1"])
def test_a_slug_of_lower_case_letters_digits_and_inner_dashes_names_a_page(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "Angebote", "-a", "a-", "a/b", "static", "qr", "ä", "a" * 65])
def test_a_slug_that_cannot_be_a_url_segment_or_is_reserved_is_refused(slug: str) -> None:
    with pytest.raises(InvalidSlug):
        check_slug(slug)


def test_a_code_is_a_valid_telegram_start_payload_and_unguessable() -> None:
    codes = {new_code() for _ in range(100)}
    assert len(codes) == 100
    assert all(len(c) == 22 and c.replace("-", "").replace("_", "").isalnum() for c in codes)


@pytest.mark.parametrize("text", ["START {c}", "start {c}", " Start!  {c} ", "JA {c}"])
def test_an_opt_in_word_followed_by_a_code_yields_the_code(text: str) -> None:
    code = new_code()
    assert start_code(text.format(c=code), OPT_IN) == code


@pytest.mark.parametrize("text", ["STOP {c}", "START", "{c}", "START {c} bitte",
                                  "START kurz", "Hallo {c}"])
def test_anything_else_yields_no_code(text: str) -> None:
    assert start_code(text.format(c=new_code()), OPT_IN) is None


def test_a_form_token_names_the_text_and_time_it_was_made_with() -> None:
    token = sign_form_token("angebote", 7, NOW, KEY)
    read = read_form_token(token, "angebote", NOW + timedelta(minutes=5), KEY)
    assert (read.consent_text_id, read.issued_at, read.embedded) == (7, NOW, False)


@pytest.mark.parametrize(
    ("slug", "later", "key"),
    [("andere-seite", timedelta(0), KEY), ("angebote", timedelta(hours=2, seconds=1), KEY),
     ("angebote", timedelta(0), b"x" * 32), ("angebote", timedelta(minutes=-5), KEY)],
)
def test_a_form_token_of_another_page_key_or_time_is_refused(
    slug: str, later: timedelta, key: bytes
) -> None:
    token = sign_form_token("angebote", 7, NOW, KEY)
    with pytest.raises(InvalidFormToken):
        read_form_token(token, slug, NOW + later, key)


def test_a_tampered_text_id_breaks_the_signature() -> None:
    token = sign_form_token("angebote", 7, NOW, KEY)
    with pytest.raises(InvalidFormToken):
        read_form_token("8" + token[1:], "angebote", NOW, KEY)


def test_an_embedded_form_token_does_not_expire() -> None:
    token = sign_form_token("angebote", 7, NOW, KEY, embedded=True)
    assert read_form_token(token, "angebote", NOW + timedelta(days=400), KEY).embedded


def test_the_limits_allow_up_to_their_count_and_say_which_rule_refused() -> None:
    limits = RequestLimits(per_number=1, per_ip=3)
    check_number_limit(0, limits)
    check_ip_limit(2, limits)
    with pytest.raises(LimitReached) as number:
        check_number_limit(1, limits)
    with pytest.raises(LimitReached) as ip:
        check_ip_limit(3, limits)
    assert (number.value.limit, ip.value.limit) == ("number", "ip")
    assert number.value.status == 429


def test_a_request_is_open_until_its_expiry() -> None:
    expiry = timedelta(hours=48)
    assert request_open("open", NOW, NOW + timedelta(hours=47), expiry)
    assert not request_open("open", NOW, NOW + expiry, expiry)
    assert not request_open("redeemed", NOW, NOW, expiry)


def test_click_to_chat_links_carry_the_code() -> None:
    assert whatsapp_link("+49 30 1234567", "START", "abc_DEF-123") == (
        "https://wa.me/49301234567?text=START%20abc_DEF-123")
    assert telegram_link("@reise_bot", "abc") == "https://t.me/reise_bot?start=abc"
    assert messenger_link("sonnenschein", "abc") == "https://m.me/sonnenschein?ref=abc"
