"""Which automatic reply, if any, answers a person's message, and how its text is filled in.

Three kinds, at most one per inbound message, in this order:

1. **away**: the business is closed (outside its hours, on a public holiday or an extra
   closed date). Once per conversation per closed period: someone who writes five times on
   a Saturday hears "we are closed" once, and again only after the next opening and closing.
2. **greeting**: the contact's very first message to the business. Once per contact, ever.
   A first message at night gets the away message instead, which says more.
3. **receipt**: "we got your message": for a message that opens or reopens a conversation
   (a new thread, a resolved one, or one quiet for ``REOPEN_GAP``), at most once an hour.

None of them goes while a person is already answering (an agent replied in the last
``AGENT_ACTIVE``). Keyword messages (STOP, START, HELP) never reach this rule; their own
answers are the reply. Whether the message may go at all is still the outbound gate's call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from botschaft.domain.business_hours import BusinessHours, is_open, last_closing
from botschaft.domain.errors import BotschaftError

REOPEN_GAP = timedelta(hours=12)
RECEIPT_PAUSE = timedelta(hours=1)
AGENT_ACTIVE = timedelta(minutes=30)
# A business closed for longer than a week repeats its away message weekly, not never.
LONGEST_CLOSED_PERIOD = timedelta(days=7)

# What a text may contain, in braces. A small fixed set: an owner's text is data, never code.
FIELDS = ("name", "first_name", "business", "opens")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class AutoReplyKind(StrEnum):
    AWAY = "away"
    GREETING = "greeting"
    RECEIPT = "receipt"


class InvalidAutoReplyText(BotschaftError):
    code = "auto_reply_text_invalid"
    status = 422


@dataclass(frozen=True)
class ReplyHistory:
    """What the conversation and the contact already had, as far as this rule cares."""

    first_message_of_contact: bool
    opens_request: bool
    last_away_at: datetime | None = None
    last_receipt_at: datetime | None = None
    greeted: bool = False
    last_agent_reply_at: datetime | None = None


def opens_request(
    *, new_conversation: bool, was_resolved: bool, previous_message_at: datetime | None,
    now: datetime,
) -> bool:
    """Whether a person's message opens or reopens a conversation (starts a new request)."""
    if new_conversation or was_resolved or previous_message_at is None:
        return True
    return now - previous_message_at >= REOPEN_GAP


def choose_auto_reply(
    enabled: frozenset[AutoReplyKind], hours: BusinessHours | None, history: ReplyHistory,
    now: datetime,
) -> AutoReplyKind | None:
    """The one auto-reply this message calls for, or None. ``hours`` None: always open."""
    agent = history.last_agent_reply_at
    if agent is not None and now - agent < AGENT_ACTIVE:
        return None
    if hours is not None and AutoReplyKind.AWAY in enabled and not is_open(hours, now):
        period_start = last_closing(hours, now) or now - LONGEST_CLOSED_PERIOD
        period_start = max(period_start, now - LONGEST_CLOSED_PERIOD)
        if history.last_away_at is None or history.last_away_at < period_start:
            return AutoReplyKind.AWAY
        return None
    if (AutoReplyKind.GREETING in enabled and history.first_message_of_contact
            and not history.greeted):
        return AutoReplyKind.GREETING
    if AutoReplyKind.RECEIPT in enabled and history.opens_request:
        last = history.last_receipt_at
        if last is None or now - last >= RECEIPT_PAUSE:
            return AutoReplyKind.RECEIPT
    return None


def check_text(text: str) -> str:
    """The text, stripped, if every placeholder in it is one of ``FIELDS``; else an error."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidAutoReplyText("An auto-reply needs a text.")
    unknown = [f for f in _PLACEHOLDER.findall(cleaned) if f not in FIELDS]
    if unknown:
        raise InvalidAutoReplyText(
            f"{{{unknown[0]}}} is no placeholder; use "
            + ", ".join(f"{{{f}}}" for f in FIELDS) + "."
        )
    if _PLACEHOLDER.sub("", cleaned).count("{") or _PLACEHOLDER.sub("", cleaned).count("}"):
        raise InvalidAutoReplyText("A brace in the text does not belong to a placeholder.")
    return cleaned


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders in; an empty value takes the space (or comma) before it along.

    "Hallo {name}!" becomes "Hallo Anna!" or, for a contact without a name, "Hallo!".
    """

    def fill(match: re.Match[str]) -> str:
        if match[2] not in FIELDS:
            return match[0]
        value = values.get(match[2], "")
        return match[1] + value if value else ""

    return _FILLED.sub(fill, text)


# An empty value takes a ", " or " " before it along: "Danke, {name}!" becomes "Danke!".
_FILLED = re.compile(r"((?:, | )?)\{(\w+)\}")


def first_name(display_name: str | None) -> str:
    return display_name.split()[0] if display_name and display_name.split() else ""
