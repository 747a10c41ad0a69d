"""Website-chat visitors: random ids, signed so that a browser cannot claim someone else's.

A visitor id is the webchat channel's address. The browser keeps it as
``<id>.<hex HMAC-SHA256(key, id)>``; only a value whose signature checks out names a visitor.
All the cryptography of the chat widget is in this module.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from botschaft.domain.errors import BotschaftError

COOKIE_NAME = "botschaft_visitor"
# About two years: the conversation should still be there when the visitor comes back.
COOKIE_MAX_AGE = 60 * 60 * 24 * 730

# token_urlsafe(18) gives 24 characters; the pattern also bounds what we ever hash.
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class InvalidVisitor(BotschaftError):
    """The browser sent no visitor id, or one whose signature does not check out."""

    code = "visitor_invalid"
    status = 401


def new_visitor_id() -> str:
    """A fresh, unguessable visitor id (144 random bits)."""
    return secrets.token_urlsafe(18)


def sign_visitor(visitor_id: str, key: bytes) -> str:
    """The value the browser keeps: the id and its signature, joined by a dot."""
    if not _ID.fullmatch(visitor_id):
        raise InvalidVisitor("A visitor id is 16 to 64 URL-safe characters.")
    return f"{visitor_id}.{_signature(visitor_id, key)}"


def verify_visitor(signed: str | None, key: bytes) -> str:
    """The visitor id inside ``signed``, or ``InvalidVisitor`` if it is missing or forged."""
    if not signed:
        raise InvalidVisitor("This chat has no visitor yet: open the chat window again.")
    visitor_id, _, signature = signed.rpartition(".")
    well_formed = bool(_ID.fullmatch(visitor_id)) and bool(_SIGNATURE.fullmatch(signature))
    # compare_digest: a byte-by-byte early exit would let an attacker find a valid
    # signature one character at a time by timing the answers.
    if not (well_formed and hmac.compare_digest(_signature(visitor_id, key), signature)):
        raise InvalidVisitor("This chat session is not valid: reload the page to start anew.")
    return visitor_id


def _signature(visitor_id: str, key: bytes) -> str:
    return hmac.new(key, visitor_id.encode("ascii"), hashlib.sha256).hexdigest()
