"""Sign-up pages: the rules of a web opt-in that need no database and no clock of their own.

A visitor reads the consent text on ``/join/<slug>``, ticks the box and either types a phone
number (we send the double opt-in message) or opens the chat themselves (a code ties their
first message to the agreement). This module holds the pure parts: the slug, the signed form
token, the abuse limits, the click-to-chat links, and reading ``START <code>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from botschaft.domain.errors import BotschaftError
from botschaft.domain.keywords import normalise_message

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# Path segments under /join/ that are routes of their own, not pages.
RESERVED_SLUGS = frozenset({"static", "qr"})
# token_urlsafe(16) gives 22 characters of A-Z a-z 0-9 _ -: a valid Telegram start payload
# (1-64 of those characters) and Messenger ref, and short enough to type if need be.
_CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_FORM_TOKEN = re.compile(r"([0-9]{1,12})\.([0-9]{1,12})\.([pe])\.([A-Za-z0-9_-]{22})")

# A form rendered on our page stays usable this long; long enough to read the text twice.
FORM_TOKEN_MAX_AGE = timedelta(hours=2)


class RequestKind(StrEnum):
    WEB_FORM = "web_form"  # a number typed on a page: the double opt-in message went out
    PAGE_AGREEMENT = "page_agreement"  # agreed on a page without a number: a code to write
    KEYWORD = "keyword"  # START in the chat: the consent text was sent there


class RequestState(StrEnum):
    OPEN = "open"
    REDEEMED = "redeemed"  # the person's own word in the chat answered it
    EXPIRED = "expired"  # not answered within the double opt-in expiry
    CANCELLED = "cancelled"  # the person wrote STOP while it was open


def request_open(state: str, created_at: datetime, now: datetime, expiry: timedelta) -> bool:
    """Whether a request can still be answered: open, and younger than the expiry."""
    return state == RequestState.OPEN.value and now < created_at + expiry


class SignupPageInvalid(BotschaftError):
    code = "signup_page_invalid"
    status = 422


class SlugTaken(BotschaftError):
    code = "slug_taken"
    status = 409


class AgreementMissing(BotschaftError):
    """The box was not ticked: nothing may be recorded or sent."""

    code = "agreement_missing"
    status = 422


class InvalidSlug(BotschaftError):
    code = "slug_invalid"
    status = 422


class InvalidFormToken(BotschaftError):
    """The form was not made by us for this page, or is too old: show it again."""

    code = "form_expired"
    status = 400


def check_slug(slug: str) -> str:
    """``slug`` if it can name a page in a URL (lower-case letters, digits, dashes)."""
    if not _SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise InvalidSlug(
            f"{slug!r} cannot name a sign-up page: use 1 to 64 lower-case letters, digits and"
            " dashes (not at either end)" + (", and not a reserved word" if slug else "")
        )
    return slug


def new_code() -> str:
    """A fresh, unguessable code for an agreement (128 random bits)."""
    return secrets.token_urlsafe(16)


def is_code(text: str) -> bool:
    return bool(_CODE.fullmatch(text))


def start_code(text: str, opt_in_words: frozenset[str]) -> str | None:
    """The code in a message like ``START Xy3…`` (an opt-in word, a space, a code), or None.

    The word is matched as keywords are (case and punctuation do not matter); the code is
    taken exactly, since click-to-chat links put it into the message unchanged.
    """
    parts = text.strip().split()
    if len(parts) != 2 or not is_code(parts[1]):
        return None
    return parts[1] if normalise_message(parts[0]) in opt_in_words else None


@dataclass(frozen=True)
class FormToken:
    """What a sign-up form says about itself: which text it showed, and since when."""

    consent_text_id: int
    issued_at: datetime
    embedded: bool  # a snippet on another website: valid while its text is the page's


def sign_form_token(
    slug: str, consent_text_id: int, issued_at: datetime, key: bytes, *, embedded: bool = False
) -> str:
    """A hidden field for the form: the text shown, when, for which page, signed."""
    issued = int(issued_at.timestamp())
    mode = "e" if embedded else "p"
    signature = _signature(slug, consent_text_id, issued, mode, key)
    return f"{consent_text_id}.{issued}.{mode}.{signature}"


def read_form_token(token: str, slug: str, now: datetime, key: bytes) -> FormToken:
    """The checked content of ``token`` for page ``slug``, or ``InvalidFormToken``.

    A token from our own page expires after ``FORM_TOKEN_MAX_AGE``; one from an embedded
    snippet does not (it is static HTML on someone's website), but names its text version, so
    it stops working when the page shows another text.
    """
    match = _FORM_TOKEN.fullmatch(token.strip())
    if match is None:
        raise InvalidFormToken("This form is not valid. Please read the text and submit again.")
    text_id, issued, mode, signature = int(match[1]), int(match[2]), match[3], match[4]
    # Constant-time: timing must not reveal how much of a forged signature was right.
    if not hmac.compare_digest(_signature(slug, text_id, issued, mode, key), signature):
        raise InvalidFormToken("This form is not valid. Please read the text and submit again.")
    issued_at = datetime.fromtimestamp(issued, tz=now.tzinfo)
    if mode == "p" and not issued_at <= now <= issued_at + FORM_TOKEN_MAX_AGE:
        raise InvalidFormToken("This form has expired. Please read the text and submit again.")
    return FormToken(text_id, issued_at, mode == "e")


def _signature(slug: str, text_id: int, issued: int, mode: str, key: bytes) -> str:
    message = f"signup-form:{slug}:{text_id}:{issued}:{mode}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class RequestLimits:
    """How much one number and one IP address may ask for, against mistakes and abuse.

    Someone can type a stranger's number: the stranger gets at most ``per_number`` double
    opt-in messages per ``number_period``, and one address submits at most ``per_ip``
    forms per ``ip_period``.
    """

    per_number: int = 1
    number_period: timedelta = timedelta(hours=24)
    per_ip: int = 10
    ip_period: timedelta = timedelta(hours=1)


class LimitReached(BotschaftError):
    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit  # "number" or "ip": which rule said no


def check_ip_limit(recent_submissions: int, limits: RequestLimits) -> None:
    """Raise ``LimitReached`` when the address has used up its submissions for now."""
    if recent_submissions >= limits.per_ip:
        raise LimitReached(
            f"At most {limits.per_ip} sign-ups per hour can come from one address.", limit="ip"
        )


def check_number_limit(recent_requests: int, limits: RequestLimits) -> None:
    """Raise ``LimitReached`` when the number got its double opt-in messages for now."""
    if recent_requests >= limits.per_number:
        hours = int(limits.number_period.total_seconds() // 3600)
        raise LimitReached(
            f"This number was sent a confirmation request in the last {hours} hours already.",
            limit="number",
        )


def whatsapp_link(business_number: str, word: str, code: str) -> str:
    """``https://wa.me/<digits>?text=START%20<code>``: opens the chat with the text typed in."""
    digits = "".join(c for c in business_number if c.isdigit())
    return f"https://wa.me/{digits}?text={quote(f'{word} {code}', safe='')}"


def telegram_link(bot_username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<code>``: Telegram sends ``/start <code>`` on Start."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def messenger_link(page: str, code: str) -> str:
    """``https://m.me/<page>?ref=<code>``: Messenger passes the ref with the first event."""
    return f"https://m.me/{page}?ref={code}"
