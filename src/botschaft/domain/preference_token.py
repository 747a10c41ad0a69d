"""Signed links to a person's preference page: no login, and no way to reach someone else's.

A token names one contact on one channel and carries an HMAC-SHA256 over both, so the link
in a message works for its recipient only. It does not expire: withdrawing must stay
possible from any message ever sent (GDPR Art. 7(3): as easy as giving consent).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError

_TOKEN = re.compile(r"([0-9]{1,12})\.([a-z]{4,12})\.([A-Za-z0-9_-]{22})")


class InvalidPreferenceLink(BotschaftError):
    code = "preference_link_invalid"
    status = 404


def preference_token(contact_id: int, channel: ChannelKind, key: bytes) -> str:
    """``<contact>.<channel>.<signature>``, short enough for an SMS-length footer."""
    return f"{contact_id}.{channel.value}.{_signature(contact_id, channel, key)}"


def read_preference_token(token: str, key: bytes) -> tuple[int, ChannelKind]:
    """The contact and channel a token names, or ``InvalidPreferenceLink``."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidPreferenceLink("This preference link is not valid.")
    contact_id, channel_name, signature = int(match[1]), match[2], match[3]
    if channel_name not in {c.value for c in ChannelKind}:
        raise InvalidPreferenceLink("This preference link is not valid.")
    channel = ChannelKind(channel_name)
    # Constant-time comparison: timing must not reveal how much of a guess was right.
    if not hmac.compare_digest(_signature(contact_id, channel, key), signature):
        raise InvalidPreferenceLink("This preference link is not valid.")
    return contact_id, channel


def _signature(contact_id: int, channel: ChannelKind, key: bytes) -> str:
    message = f"preferences:{contact_id}:{channel.value}".encode("ascii")
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
