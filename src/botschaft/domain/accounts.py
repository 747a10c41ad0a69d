"""Rules for the accounts of the admin app: addresses, names, passwords, and their errors."""

from __future__ import annotations

import re

from botschaft.domain.errors import BotschaftError

MIN_PASSWORD = 12
MAX_PASSWORD = 256  # argon2 takes any length; a limit keeps hashing a request cheap
# Enough to catch a typo, not an RFC 5322 parser: one @, a dot in the domain, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(BotschaftError):
    code = "account_invalid"
    status = 422


class WeakPassword(AccountError):
    code = "password_weak"


class InvalidEmail(AccountError):
    code = "email_invalid"


class EmailTaken(AccountError):
    code = "email_taken"
    status = 409


class SetupDone(AccountError):
    code = "setup_done"
    status = 409


class LoginFailed(AccountError):
    """Wrong address, wrong password or a disabled account: the answer never says which."""

    code = "login_failed"
    status = 401


class LastOwner(AccountError):
    code = "last_owner"
    status = 409


class SetupLinkInvalid(AccountError):
    code = "setup_link_invalid"
    status = 404


def normalise_email(address: str) -> str:
    """The address as stored and compared: trimmed, lower-case; refused when it is none."""
    email = address.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidEmail(f"{address.strip()!r} is no e-mail address.")
    return email


def check_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise AccountError("A name has 1 to 200 characters.")
    return cleaned


def check_password(password: str, email: str) -> None:
    """Refuse a password that is short, one repeated character, or the login address.

    Length is what protects (NIST SP 800-63B §3.1.1.2): no rules about digits or symbols.
    """
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"A password has at most {MAX_PASSWORD} characters.")
    if len(set(password)) < 4:
        raise WeakPassword("A password needs more than a few different characters.")
    if password.strip().lower() in {email.lower(), email.split("@", maxsplit=1)[0].lower()}:
        raise WeakPassword("A password must not be the login address.")


def check_signature(signature: str) -> str | None:
    """A reply signature (a dash and the name): one line of at most 100 characters, or None."""
    cleaned = " ".join(signature.split())
    if len(cleaned) > 100:
        raise AccountError("A signature has at most 100 characters.")
    return cleaned or None
