"""The link to a person's preference page, for message footers and the welcome message."""

from __future__ import annotations

from botschaft.domain.channels import ChannelKind
from botschaft.domain.preference_token import preference_token
from botschaft.services.context import Context
from botschaft.services.secret import signing_key

PATH = "/p/"


def preference_url(ctx: Context, contact_id: int, channel: ChannelKind) -> str:
    """``<public_url>/p/<token>``: pause, fewer messages, another channel, or withdraw."""
    token = preference_token(contact_id, channel, signing_key(ctx.settings))
    return f"{ctx.settings.effective_public_url}{PATH}{token}"
