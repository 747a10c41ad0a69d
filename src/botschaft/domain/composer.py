"""What an agent may write in a conversation right now, and how a reply is put together.

The gate has the last word on every message; these rules only tell the composer what the
gate will accept, so the agent is offered the form that goes (free text, the HUMAN_AGENT
tag, an approved template) with the reason, instead of writing a reply that is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.domain.gate import OutboundPolicy


class ReplyMode(StrEnum):
    FREE_TEXT = "free_text"  # inside the service window, or a channel without one
    HUMAN_AGENT = "human_agent"  # Messenger after 24 h: free text with the HUMAN_AGENT tag
    TEMPLATES = "templates"  # WhatsApp (and the sandbox) after 24 h: approved templates only
    CLOSED = "closed"  # nothing may go until the person writes again


@dataclass(frozen=True)
class ReplyOptions:
    mode: ReplyMode
    # When the current form stops being allowed (None: it never does, e.g. Telegram).
    until: datetime | None
    # When the 24-hour window closes or closed; None when the channel has none or the
    # person never wrote.
    window_ends_at: datetime | None

    def remaining(self, now: datetime) -> timedelta | None:
        if self.until is None:
            return None
        return max(self.until - now, timedelta(0))


def reply_options(
    channel: ChannelKind, last_inbound_at: datetime | None, policy: OutboundPolicy,
    now: datetime, *, templates: bool,
) -> ReplyOptions:
    """The form an agent's reply can take on ``channel`` at ``now``.

    ``templates`` says whether the channel carries provider templates (WhatsApp, sandbox).
    """
    if not channel.service_window_applies:
        return ReplyOptions(ReplyMode.FREE_TEXT, None, None)
    window_ends = last_inbound_at + policy.service_window if last_inbound_at else None
    if window_ends is not None and now < window_ends:
        return ReplyOptions(ReplyMode.FREE_TEXT, window_ends, window_ends)
    if channel.human_agent_tag and last_inbound_at is not None:
        agent_ends = last_inbound_at + policy.human_agent_window
        if now < agent_ends:
            return ReplyOptions(ReplyMode.HUMAN_AGENT, agent_ends, window_ends)
    if templates:
        return ReplyOptions(ReplyMode.TEMPLATES, None, window_ends)
    return ReplyOptions(ReplyMode.CLOSED, None, window_ends)


# --- canned responses --------------------------------------------------------------------

_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# "/preis" at the start or after a space, up to a space, punctuation or the end.
_TYPED_SHORTCUT = re.compile(r"(?<!\S)/([a-z0-9][a-z0-9_-]{0,31})(?=$|[\s.,;:!?])", re.I)


class InvalidShortcut(BotschaftError):
    code = "shortcut_invalid"
    status = 422


def check_shortcut(shortcut: str) -> str:
    """The shortcut as stored (lower case, without the slash), or ``InvalidShortcut``."""
    name = shortcut.strip().removeprefix("/").lower()
    if not _SHORTCUT.fullmatch(name):
        raise InvalidShortcut(
            f"{shortcut!r} cannot be a shortcut: use 1 to 32 letters, digits, '-' or '_',"
            " starting with a letter or digit (typed as /name)."
        )
    return name


def expand_shortcuts(text: str, canned: Mapping[str, str]) -> str:
    """``text`` with every typed ``/shortcut`` that names a canned response replaced by it.

    Unknown shortcuts stay as typed: "/24h" in a sentence is not an error.
    """

    def replace(match: re.Match[str]) -> str:
        return canned.get(match.group(1).lower(), match.group(0))

    return _TYPED_SHORTCUT.sub(replace, text)


# --- the agent's signature ---------------------------------------------------------------

SIGNATURE_DASH = "\N{EN DASH}"
MAX_SIGNATURE = 100


def default_signature(display_name: str) -> str:
    """An en dash and the first name (for Anna Schmidt: Anna), so people know who answers."""
    first = display_name.strip().split()[0] if display_name.strip() else ""
    return f"{SIGNATURE_DASH} {first}" if first else ""


def signature_for(chosen: str | None, display_name: str) -> str:
    """The agent's own signature; one never chosen (None) is the default one; an empty one
    means the agent signs nothing."""
    return default_signature(display_name) if chosen is None else chosen.strip()


def signed(text: str, signature: str) -> str:
    """The reply as it goes out: the text, a blank line, the signature.

    A text that already ends with the signature is not signed twice.
    """
    signature = signature.strip()
    body = text.rstrip()
    if not signature or body.endswith(signature):
        return body
    return f"{body}\n\n{signature}"
