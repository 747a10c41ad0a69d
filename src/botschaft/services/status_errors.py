"""Asynchronous provider errors (in status webhooks) that say something about the person."""

from __future__ import annotations

from botschaft.channels.outcomes import RecipientUnreachable, Unreachability
from botschaft.channels.whatsapp_errors import outcome_for_error
from botschaft.domain.channels import ChannelKind


def unreachability_of(channel: ChannelKind, code: str) -> Unreachability | None:
    """Whether a failed-status error code means the person opted out or cannot be reached."""
    if channel is not ChannelKind.WHATSAPP:
        return None
    outcome = outcome_for_error(code, "")
    return outcome.why if isinstance(outcome, RecipientUnreachable) else None
