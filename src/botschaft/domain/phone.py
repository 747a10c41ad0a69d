"""Phone numbers as WhatsApp and the law see them: one canonical E.164 form."""

from __future__ import annotations

import phonenumbers

from botschaft.domain.errors import ConfigError, InvalidPhoneNumber


def check_region(region: str) -> str:
    """Return ``region`` upper-cased if phonenumbers knows it as a region code."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{region!r} is not a known region code (use e.g. DE, AT, CH)")
    return code


def normalise_phone(raw: str, default_region: str) -> str:
    """Return ``raw`` as E.164 (``+4915112345678``) or raise ``InvalidPhoneNumber`` quoting it.

    Numbers without a country code are read in ``default_region``; ``00`` prefixes and
    spaces, dashes and brackets are accepted, as people type them.
    """
    region = check_region(default_region)
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(
            f"{raw!r} is not a valid phone number"
            f" (read in region {region}; add the country code, e.g. +49)"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
