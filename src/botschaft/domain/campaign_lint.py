"""The compliance lint a campaign passes before it may start.

Each rule follows from the law or the providers' terms (see DESIGN.md): a marketing message
names its sender (UWG § 5a, TMG/DDG § 6: advertising must be recognisable as such and from
whom), says how to stop (UWG § 7 (3) no. 4, GDPR Art. 21 (4)), goes only to people with a
marketing consent (UWG § 7 (2) no. 2), does not annoy (the authorities' guidance: two to
three messages a week), and on WhatsApp uses an approved template, since free-form messages
reach only people who wrote in the last 24 hours.

The lint returns findings as codes with values; the services translate them
(``campaign.lint.<code>`` in the catalogues).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from botschaft.domain.campaign import CampaignContent, ContentKind
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING

# The guidance's upper bound: at most three marketing messages a week.
GUIDANCE_PER_WEEK = 3


@dataclass(frozen=True)
class LintFinding:
    code: str
    values: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class LintInput:
    channel: ChannelKind
    purpose: str
    content: CampaignContent
    audience_purpose: str | None
    sender_name: str
    stop_words: tuple[str, ...]
    marketing_cap: int
    cap_period: timedelta
    # Marketing campaigns to the same audience started within the cap period (the gate caps
    # each person anyway; this catches the plan that would make most of them hit the cap).
    recent_campaigns: int


def lint_campaign(given: LintInput) -> list[LintFinding]:
    """Every rule the campaign breaks; an empty list lets it start."""
    findings: list[LintFinding] = []
    for rule in (_sender_named, _says_how_to_stop, _audience_consents, _frequency,
                 _template_on_whatsapp):
        found = rule(given)
        if found is not None:
            findings.append(found)
    return findings


def _sender_named(given: LintInput) -> LintFinding | None:
    name = given.sender_name.strip()
    if not name:
        return LintFinding("sender_unset")
    if name.casefold() not in given.content.shown_text.casefold():
        return LintFinding("sender_missing", {"sender": name})
    return None


def _says_how_to_stop(given: LintInput) -> LintFinding | None:
    if given.content.kind is not ContentKind.TEMPLATE:
        return None  # free-form messages get the footer: how to stop and the preference link
    shown = given.content.shown_text
    if not shown:
        return LintFinding("template_text_missing")
    words = [w for w in given.stop_words if w.strip()]
    if not any(re.search(rf"\b{re.escape(w)}\b", shown, re.IGNORECASE) for w in words):
        return LintFinding("stop_missing", {"stop": words[0].upper() if words else "STOP"})
    return None


def _audience_consents(given: LintInput) -> LintFinding | None:
    if given.audience_purpose in (MARKETING, given.purpose):
        return None
    return LintFinding("audience_without_consent", {"purpose": given.purpose})


def _frequency(given: LintInput) -> LintFinding | None:
    weekly = given.marketing_cap * timedelta(days=7) / given.cap_period
    if weekly > GUIDANCE_PER_WEEK:
        return LintFinding(
            "policy_too_loose",
            {"cap": given.marketing_cap, "days": given.cap_period.days,
             "guidance": GUIDANCE_PER_WEEK},
        )
    if given.recent_campaigns >= given.marketing_cap:
        return LintFinding(
            "too_frequent",
            {"count": given.recent_campaigns, "days": given.cap_period.days,
             "cap": given.marketing_cap},
        )
    return None


def _template_on_whatsapp(given: LintInput) -> LintFinding | None:
    if given.channel is ChannelKind.WHATSAPP and given.content.kind is not ContentKind.TEMPLATE:
        return LintFinding("template_required")
    return None
