"""What WhatsApp and Messenger share as Meta platforms: webhook signature and handshake,
the Graph API session and its error envelope."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import aiohttp

from botschaft.channels.base import WebhookForbidden, WebhookRejected
from botschaft.channels.http_session import HttpSession

SIGNATURE_HEADER = "x-hub-signature-256"
_PREFIX = "sha256="

# One pool per adapter: the dispatcher sends many small requests to the Graph API host, so
# kept-alive connections save a TLS handshake each; the limit bounds sockets under load.
_GRAPH_CONNECTIONS = 100
# ``sock_connect``, not ``connect``: the latter arms a timer around taking a kept-alive
# connection from the pool on every request; ``total`` bounds a request all the same.
_GRAPH_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends: HMAC-SHA256 of the raw body with the app secret."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise unless ``X-Hub-Signature-256`` signs exactly these bytes.

    The algorithm is fixed (never read from the request), the legacy sha1 header is ignored,
    and the comparison is constant-time. The raw bytes matter: Meta \\u-escapes non-ASCII
    characters, so re-serialised JSON would not match on the first "Müller".
    """
    given = _header(headers, SIGNATURE_HEADER)
    if given is None:
        raise WebhookRejected("The request has no X-Hub-Signature-256 header.")
    if not given.startswith(_PREFIX) or len(given) != len(_PREFIX) + 64:
        raise WebhookRejected("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>.")
    if not hmac.compare_digest(given.lower(), sign(app_secret, body)):
        raise WebhookForbidden("X-Hub-Signature-256 does not match the body.")


def check_handshake(verify_token: str, params: Mapping[str, str]) -> str:
    """Answer Meta's GET verification: return the challenge, or raise ``WebhookForbidden``."""
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or challenge is None:
        raise WebhookForbidden("Not a webhook verification request.")
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        # The expected token is never logged or echoed.
        raise WebhookForbidden("The verify token does not match.")
    return challenge


def graph_session() -> HttpSession:
    """A lazily opened session for one adapter that talks to the Graph API."""
    return HttpSession(connections=_GRAPH_CONNECTIONS, timeout=_GRAPH_TIMEOUT)


def graph_error(answer: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Graph API's ``{"error": {...}}`` object of an answer, if the answer has one."""
    error = answer.get("error") if answer else None
    return error if isinstance(error, dict) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
