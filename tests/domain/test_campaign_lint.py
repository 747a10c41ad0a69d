from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from botschaft.domain.campaign import parse_content
from botschaft.domain.campaign_lint import LintInput, lint_campaign
from botschaft.domain.channels import ChannelKind

TEMPLATE = parse_content({"kind": "template", "template": {
    "name": "angebot", "language": "de",
    "text": "Das Angebot der Woche von Reisebüro Sonnenschein. Abmelden: STOP"}})
TEXT = parse_content({"kind": "text", "text": "Reisebüro Sonnenschein: 20 % auf Mallorca"})
GOOD = LintInput(
    channel=ChannelKind.WHATSAPP, purpose="marketing", content=TEMPLATE,
    audience_purpose="marketing", sender_name="Reisebüro Sonnenschein",
    stop_words=("stop", "abmelden"), marketing_cap=3, cap_period=timedelta(days=7),
    recent_campaigns=0,
)


def _codes(given: LintInput) -> list[str]:
    return [f.code for f in lint_campaign(given)]


def test_a_compliant_campaign_passes() -> None:
    assert lint_campaign(GOOD) == []


def test_the_sender_must_be_named_in_the_message() -> None:
    anonymous = parse_content({"kind": "template", "template": {
        "name": "angebot", "language": "de", "text": "Neue Angebote! Abmelden: STOP"}})
    findings = lint_campaign(replace(GOOD, content=anonymous))
    assert [(f.code, f.values) for f in findings] == [
        ("sender_missing", {"sender": "Reisebüro Sonnenschein"})]


def test_a_business_without_a_name_cannot_send() -> None:
    assert _codes(replace(GOOD, sender_name=" ")) == ["sender_unset"]


def test_a_template_must_say_how_to_stop() -> None:
    silent = parse_content({"kind": "template", "template": {
        "name": "angebot", "language": "de", "text": "Reisebüro Sonnenschein grüßt"}})
    assert _codes(replace(GOOD, content=silent)) == ["stop_missing"]


def test_a_word_that_only_contains_the_stop_word_does_not_count() -> None:
    sneaky = parse_content({"kind": "template", "template": {
        "name": "angebot", "language": "de", "text": "Reisebüro Sonnenschein: Nonstop-Flüge"}})
    assert _codes(replace(GOOD, content=sneaky)) == ["stop_missing"]


def test_a_template_without_its_text_cannot_be_checked() -> None:
    blind = parse_content({"kind": "template", "template": {"name": "a", "language": "de"}})
    assert "template_text_missing" in _codes(replace(GOOD, content=blind))


def test_free_form_text_gets_the_footer_so_it_says_how_to_stop() -> None:
    assert _codes(replace(GOOD, channel=ChannelKind.TELEGRAM, content=TEXT)) == []


@pytest.mark.parametrize("purpose", [None, "service", "newsletter_sensitive"])
def test_the_audience_must_be_limited_to_marketing_consent(purpose: str | None) -> None:
    assert _codes(replace(GOOD, audience_purpose=purpose)) == ["audience_without_consent"]


def test_a_special_purpose_campaign_may_limit_to_its_own_consent() -> None:
    given = replace(GOOD, purpose="gesundheit", audience_purpose="gesundheit")
    assert _codes(given) == []


def test_the_weekly_cap_allows_no_further_campaign_once_reached() -> None:
    assert _codes(replace(GOOD, recent_campaigns=2)) == []
    findings = lint_campaign(replace(GOOD, recent_campaigns=3))
    assert [(f.code, f.values) for f in findings] == [
        ("too_frequent", {"count": 3, "days": 7, "cap": 3})]


def test_a_policy_looser_than_the_guidance_fails() -> None:
    assert _codes(replace(GOOD, marketing_cap=4)) == ["policy_too_loose"]
    assert _codes(replace(GOOD, marketing_cap=6, cap_period=timedelta(days=14))) == []


def test_marketing_on_whatsapp_needs_a_template() -> None:
    assert _codes(replace(GOOD, content=TEXT)) == ["template_required"]
    assert _codes(replace(GOOD, content=TEXT, channel=ChannelKind.TELEGRAM)) == []


def test_every_broken_rule_is_reported_at_once() -> None:
    given = replace(GOOD, content=parse_content({"kind": "text", "text": "Hallo"}),
                    audience_purpose=None, recent_campaigns=5)
    assert _codes(given) == ["sender_missing", "audience_without_consent", "too_frequent",
                             "template_required"]
