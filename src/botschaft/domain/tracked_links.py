"""Tracked links: finding a campaign's links, and the signed delivery reference they carry.

A campaign's link to ``https://shop.example/angebot`` becomes ``<public>/c/<code>?d=<ref>``:
one short code per (campaign, URL), so 1,000,000 messages need no more link rows than the
campaign has links, and ``ref`` names the delivery, signed so that nobody can attribute a
click to someone else's delivery by editing the number. No IP address or browser is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

# http(s) URLs up to the first space or closing bracket/quote; trailing punctuation that
# ends a sentence is not part of the link.
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_TRAILING = ".,;:!?"
_REF = re.compile(r"([0-9]{1,19})\.([A-Za-z0-9_-]{11})")
_CODE_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def find_links(text: str) -> list[str]:
    """The distinct links in ``text``, in order of appearance; templated ones are left out."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if "{{" not in url and "{%" not in url:
            seen.setdefault(url)
    return list(seen)


def replace_links(text: str, replacement: Callable[[str], str | None]) -> str:
    """``text`` with each link for which ``replacement`` gives a new one replaced by it."""

    def swap(match: re.Match[str]) -> str:
        whole = match.group(0)
        url = whole.rstrip(_TRAILING)
        new = replacement(url)
        return whole if new is None else new + whole[len(url):]

    return _URL.sub(swap, text)


def new_code(length: int = 8) -> str:
    """A short random code without look-alike characters (0/O, 1/l/I)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def delivery_ref(delivery_id: int, key: bytes) -> str:
    return f"{delivery_id}.{_signature(delivery_id, key)}"


def read_delivery_ref(ref: str, key: bytes) -> int | None:
    """The delivery a reference names, or None when it is malformed or its signature wrong."""
    match = _REF.fullmatch(ref)
    if match is None:
        return None
    delivery_id = int(match[1])
    if not hmac.compare_digest(_signature(delivery_id, key), match[2]):
        return None
    return delivery_id


def _signature(delivery_id: int, key: bytes) -> str:
    digest = hmac.new(key, f"click:{delivery_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:8]).decode("ascii").rstrip("=")
