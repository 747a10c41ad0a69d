"""What the fake WhatsApp and Messenger APIs share as Meta platforms: webhooks signed and
delivered as Meta sends them, and the Graph API's error answer."""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from botschaft.channels.meta import sign
from botschaft.testing.loopback import LoopbackServer, post_webhook


class FakeMetaApp(LoopbackServer):
    """A fake Meta API on loopback whose webhooks are signed with the app's ``app_secret``."""

    app_secret: str

    def signed_webhook(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body bytes and headers Meta would POST for ``payload``.

        Meta escapes non-ASCII ("ü" as ``\\u00fc``) (and ``/`` as ``\\/``) before signing, so a
        receiver that re-serialises the JSON instead of hashing the raw bytes fails here.
        """
        body = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode("ascii")
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(self.app_secret, body),
        }
        return body, headers

    async def deliver_webhook(self, url: str, payload: dict[str, Any]) -> int:
        """POST ``payload`` signed to a Botschaft webhook URL; return the HTTP status."""
        body, headers = self.signed_webhook(payload)
        return await post_webhook(url, body, headers)


def graph_error(status: int, code: int, message: str, **fields: object) -> web.Response:
    """The Graph API's error answer; ``fields`` (e.g. ``error_subcode``) join the object."""
    error: dict[str, object] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(15),
        **fields,
    }
    return web.json_response({"error": error}, status=status)
