"""Consent texts: every element the law asks for, and a hash that names exactly what was shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from botschaft.domain.consent_text import (
    REQUIRED_ELEMENTS,
    ConsentTextDraft,
    check_consent_text,
    draft_field_names,
    lint_consent_text,
)
from botschaft.domain.errors import ConsentTextIncomplete

COMPLETE = ConsentTextDraft(
    key="whatsapp-newsletter",
    language="de",
    consent_purpose="marketing",
    company="Reisebüro Sonnenschein GmbH, Hauptstraße 1, 10115 Berlin",
    purpose="Angebote und Reisetipps per WhatsApp",
    data_categories="Telefonnummer, Name, Zeitpunkt der Einwilligung",
    recipients="Meta Platforms Ireland Ltd. als Betreiber von WhatsApp",
    frequency="höchstens zwei Nachrichten pro Woche",
    withdrawal="Schreiben Sie jederzeit STOP, um sich abzumelden.",
    privacy_policy_url="https://reisebuero-sonnenschein.example/datenschutz",
    intro="Bleiben Sie auf dem Laufenden!",
)

# The hash of COMPLETE as stored in ledgers: if this changes, every stored proof of consent
# stops matching its text. Change it only together with a migration of stored hashes.
COMPLETE_SHA256 = "bac7396c0d66e1600eec22b2282b3f4fafa4079e3caf64230a987355fa8fdcac"


def test_complete_draft_lints_clean():
    assert lint_consent_text(COMPLETE) == ()
    check_consent_text(COMPLETE)


def test_draft_without_intro_is_complete():
    assert lint_consent_text(replace(COMPLETE, intro="")) == ()


@pytest.mark.parametrize("element", REQUIRED_ELEMENTS)
def test_each_missing_element_is_named(element):
    assert lint_consent_text(replace(COMPLETE, **{element: ""})) == (element,)


@pytest.mark.parametrize("element", REQUIRED_ELEMENTS)
def test_whitespace_only_element_counts_as_missing(element):
    assert lint_consent_text(replace(COMPLETE, **{element: " \n\t "})) == (element,)


@pytest.mark.parametrize("name", ["key", "language", "consent_purpose"])
def test_missing_identification_is_named(name):
    assert lint_consent_text(replace(COMPLETE, **{name: "  "})) == (name,)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://reisebuero-sonnenschein.example/datenschutz",
        "javascript:alert(1)",
        "mailto:datenschutz@reisebuero-sonnenschein.example",
        "reisebuero-sonnenschein.example/datenschutz",
        "https://",
        "siehe Website",
    ],
)
def test_privacy_policy_url_that_is_not_a_web_address_is_refused(url):
    problems = lint_consent_text(replace(COMPLETE, privacy_policy_url=url))

    assert problems == ("privacy_policy_url (not an http(s) URL)",)


@pytest.mark.parametrize(
    "url", ["http://example.org/privacy", "https://example.org/datenschutz#messenger"]
)
def test_http_and_https_privacy_policy_urls_are_accepted(url):
    assert lint_consent_text(replace(COMPLETE, privacy_policy_url=url)) == ()


def test_check_consent_text_raises_listing_every_missing_element():
    bare = replace(COMPLETE, company="", recipients=" ", frequency="", privacy_policy_url="")

    with pytest.raises(ConsentTextIncomplete) as caught:
        check_consent_text(bare)

    assert caught.value.missing == ("company", "recipients", "frequency", "privacy_policy_url")
    for name in caught.value.missing:
        assert name in caught.value.message
    assert caught.value.code == "consent_text_incomplete"


def test_bare_i_agree_text_is_refused_for_every_element():
    bare = ConsentTextDraft(
        key="k", language="en", consent_purpose="marketing",
        company="", purpose="I agree to messenger marketing", data_categories="",
        recipients="", frequency="", withdrawal="", privacy_policy_url="",
    )

    with pytest.raises(ConsentTextIncomplete) as caught:
        check_consent_text(bare)

    assert set(caught.value.missing) == set(REQUIRED_ELEMENTS) - {"purpose"}


def test_sha256_is_stable_across_runs_and_versions():
    assert COMPLETE.sha256() == COMPLETE_SHA256


def test_equal_drafts_have_equal_hashes():
    assert replace(COMPLETE).sha256() == COMPLETE.sha256()


@pytest.mark.parametrize("name", draft_field_names())
def test_sha256_changes_with_any_field(name):
    changed = replace(COMPLETE, **{name: getattr(COMPLETE, name) + "."})

    assert changed.sha256() != COMPLETE.sha256()


def test_sha256_changes_with_trailing_whitespace():
    # What was shown is hashed as it was stored, not a cleaned-up version of it.
    assert replace(COMPLETE, company=COMPLETE.company + " ").sha256() != COMPLETE.sha256()


def test_rendered_text_contains_every_element_and_the_intro():
    rendered = COMPLETE.rendered()

    for name in (*REQUIRED_ELEMENTS, "intro"):
        assert getattr(COMPLETE, name) in rendered


def test_rendered_text_puts_the_elements_in_a_fixed_order_in_paragraphs():
    paragraphs = COMPLETE.rendered().split("\n\n")

    assert paragraphs == [
        COMPLETE.intro,
        COMPLETE.company,
        COMPLETE.purpose,
        COMPLETE.data_categories,
        COMPLETE.recipients,
        COMPLETE.frequency,
        COMPLETE.withdrawal,
        COMPLETE.privacy_policy_url,
    ]


def test_rendered_text_leaves_out_an_empty_intro():
    rendered = replace(COMPLETE, intro="  ").rendered()

    assert rendered.startswith(COMPLETE.company)
