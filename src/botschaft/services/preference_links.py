"""The link to a person's preference page, for message footers and the welcome message."""

from __future__ import annotations

from botschaft.domain.channels import ChannelKind
from botschaft.domain.preference_token import preference_token
from botschaft.i18n import translate
from botschaft.services.context import Context
from botschaft.services.secret import signing_key

PATH = "/p/"


def preference_url(ctx: Context, contact_id: int, channel: ChannelKind) -> str:
    """``<public_url>/p/<token>``: pause, fewer messages, another channel, or withdraw."""
    token = preference_token(contact_id, channel, signing_key(ctx.settings))
    return f"{ctx.settings.effective_public_url}{PATH}{token}"


def marketing_footer(ctx: Context, contact_id: int, channel: ChannelKind, language: str) -> str:
    """The short last line of every marketing message: how to stop, and the preference link.

    Names the first configured opt-out word (every one of them works), so that the way out
    the footer promises is the one the keyword matcher honours.
    """
    return footer_with_key(ctx, signing_key(ctx.settings), contact_id, channel, language)


def footer_with_key(
    ctx: Context, key: bytes, contact_id: int, channel: ChannelKind, language: str
) -> str:
    """``marketing_footer`` with the signing key read once by the caller (a broadcast renders
    thousands of footers a second and should not read the key file for each)."""
    token = preference_token(contact_id, channel, key)
    url = f"{ctx.settings.effective_public_url}{PATH}{token}"
    words = ctx.settings.keywords.opt_out
    if not words:
        return translate(language, "preferences.footer_link_only", url=url)
    return translate(language, "preferences.footer", stop=words[0].upper(), url=url)
