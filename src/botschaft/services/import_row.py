"""One row of a contacts file as typed values, or the reason it cannot be imported.

Only what the row itself shows is checked here (a number, a time, the form of a text
reference); whether the consent text exists and what the ledger admits is for
``contact_import`` to find out in the database.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import InvalidPhoneNumber
from botschaft.domain.phone import normalise_phone
from botschaft.services.contacts import normalise_address
from botschaft.services.import_file import (
    CONSENT_COLUMNS,
    EVIDENCE_COLUMNS,
    Header,
    RawRow,
    Refusal,
    RowRefused,
)

# Column widths of the contacts and channel_identities tables.
_MAX_NAME = 200
_MAX_ADDRESS = 200
_MAX_LANGUAGE = 16
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class TextRef:
    """A published consent text as a file names it: ``key:version[:language]``."""

    key: str
    version: int
    language: str | None

    def __str__(self) -> str:
        suffix = f":{self.language}" if self.language else ""
        return f"{self.key}:{self.version}{suffix}"


@dataclass(frozen=True)
class ConsentClaim:
    """The consent a row says the person gave, with the evidence it brings."""

    purpose: str
    given_at: datetime
    text: TextRef
    ip: str | None
    user_agent: str | None
    evidence: str | None  # the original source and the evidence columns, as one text


@dataclass(frozen=True)
class ImportRow:
    line: int
    channel: ChannelKind
    address: str  # canonical: E.164 for phone numbers
    name: str | None
    language: str | None
    time_zone: str | None
    consent: ConsentClaim | None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """The identity the row is about: (channel, address)."""
        return self.channel.value, self.address


def parse_row(header: Header, raw: RawRow, region: str, now: datetime) -> ImportRow:
    """Read ``raw`` as a contact and an optional consent claim, or raise ``RowRefused``."""
    if raw.problem is not None:
        raise RowRefused(Refusal.ROW_MALFORMED, raw.problem)
    fields = header.fields(raw.values)
    channel, address = _identity(fields, region)
    return ImportRow(
        line=raw.line,
        channel=channel,
        address=address,
        name=_bounded(fields, "name", _MAX_NAME),
        language=_language(fields.get("language", "")),
        time_zone=_time_zone(fields.get("time_zone", "")),
        consent=_consent(fields, now),
        tags=_tags(fields.get("tags", "")),
    )


def _tags(value: str) -> tuple[str, ...]:
    """``vip, angebote`` or ``vip;angebote``: the contact's tags, each at most 100 characters."""
    names = [name.strip() for name in value.replace(";", ",").split(",") if name.strip()]
    for name in names:
        if len(name) > 100:
            raise RowRefused(Refusal.VALUE_INVALID, f"the tag {name[:20]!r}… is longer than 100")
    return tuple(names)


def _identity(fields: dict[str, str], region: str) -> tuple[ChannelKind, str]:
    phone = fields.get("phone", "")
    channel_name = fields.get("channel", "").lower()
    address = fields.get("address", "")
    if not channel_name:
        if address:
            raise RowRefused(
                Refusal.ADDRESS_MISSING,
                f"the address {address!r} needs a channel (telegram, messenger, webchat, …)",
            )
        if not phone:
            raise RowRefused(Refusal.ADDRESS_MISSING, "the row has no phone number and no address")
        return ChannelKind.WHATSAPP, _phone(phone, region)
    channel = _channel(channel_name)
    if phone and channel.addresses_are_phone_numbers and not address:
        address = phone
    elif phone:
        raise RowRefused(
            Refusal.VALUE_INVALID,
            f"the row names both the phone number {phone!r} and a {channel.value} address:"
            " put each identity on a row of its own",
        )
    if not address:
        raise RowRefused(Refusal.ADDRESS_MISSING, f"the {channel.value} address is empty")
    try:
        canonical = normalise_address(channel, address, region)
    except InvalidPhoneNumber as exc:
        raise RowRefused(Refusal.PHONE_INVALID, exc.message) from None
    if len(canonical) > _MAX_ADDRESS:
        raise RowRefused(
            Refusal.VALUE_INVALID, f"the address is longer than {_MAX_ADDRESS} characters"
        )
    return channel, canonical


def _phone(raw: str, region: str) -> str:
    try:
        return normalise_phone(raw, region)
    except InvalidPhoneNumber as exc:
        raise RowRefused(Refusal.PHONE_INVALID, exc.message) from None


def _channel(name: str) -> ChannelKind:
    try:
        return ChannelKind(name)
    except ValueError:
        known = ", ".join(c.value for c in ChannelKind)
        raise RowRefused(
            Refusal.VALUE_INVALID, f"the channel {name!r} is none of {known}"
        ) from None


def _bounded(fields: dict[str, str], column: str, limit: int) -> str | None:
    value = fields.get(column, "")
    if len(value) > limit:
        raise RowRefused(Refusal.VALUE_INVALID, f"the {column} is longer than {limit} characters")
    return value or None


def _language(value: str) -> str | None:
    if not value:
        return None
    if len(value) > _MAX_LANGUAGE or not _LANGUAGE.fullmatch(value):
        raise RowRefused(
            Refusal.VALUE_INVALID, f"the language {value!r} is not a language code (e.g. de, en)"
        )
    return value.replace("_", "-")


def _time_zone(value: str) -> str | None:
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise RowRefused(
            Refusal.VALUE_INVALID,
            f"the time zone {value!r} is not an IANA time zone (e.g. Europe/Berlin)",
        ) from None
    return value


def _consent(fields: dict[str, str], now: datetime) -> ConsentClaim | None:
    purpose = fields.get("consent_purpose", "").lower()
    if not purpose:
        filled = [c for c in (*CONSENT_COLUMNS, *EVIDENCE_COLUMNS) if fields.get(c)]
        if filled:
            # Evidence without a purpose is a mistake in the file; dropping it would lose it.
            raise RowRefused(
                Refusal.EVIDENCE_MISSING,
                f"{', '.join(filled)} {'is' if len(filled) == 1 else 'are'} filled but"
                " consent_purpose is empty: say what the consent is for (e.g. marketing)",
            )
        return None
    missing = [c for c in ("consent_at", "consent_text") if not fields.get(c)]
    if missing:
        raise RowRefused(
            Refusal.EVIDENCE_MISSING,
            f"the row claims a {purpose} consent without evidence:"
            f" {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty",
        )
    return ConsentClaim(
        purpose=purpose,
        given_at=_given_at(fields["consent_at"], now),
        text=_text_ref(fields["consent_text"]),
        ip=_ip(fields.get("ip", "")),
        user_agent=fields.get("user_agent") or None,
        evidence=_evidence(fields.get("consent_source", ""), fields.get("evidence", "")),
    )


def _given_at(value: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowRefused(
            Refusal.EVIDENCE_MISSING,
            f"consent_at {value!r} is not an ISO 8601 time (e.g. 2025-05-04T10:15:00+02:00)",
        ) from None
    if moment.tzinfo is None:
        # A time without its zone is off by one or two hours in Germany: not proof of when.
        raise RowRefused(
            Refusal.EVIDENCE_MISSING,
            f"consent_at {value!r} has no time zone (add it, e.g. +02:00 or Z)",
        )
    if moment > now:
        raise RowRefused(
            Refusal.EVIDENCE_MISSING, f"consent_at {value!r} lies in the future"
        )
    return moment


def _text_ref(value: str) -> TextRef:
    parts = value.split(":")
    version = parts[1].strip().lower().removeprefix("v") if len(parts) in (2, 3) else ""
    if not version.isdigit() or not parts[0].strip():
        raise RowRefused(
            Refusal.CONSENT_TEXT_UNKNOWN,
            f"consent_text {value!r} is not key:version or key:version:language"
            " (e.g. newsletter:2:de)",
        )
    language = parts[2].strip() if len(parts) == 3 else ""
    return TextRef(parts[0].strip(), int(version), language or None)


def _ip(value: str) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise RowRefused(Refusal.VALUE_INVALID, f"the ip {value!r} is not an IP address") from None


def _evidence(source: str, evidence: str) -> str | None:
    parts = [f"source: {source}" if source else "", f"evidence: {evidence}" if evidence else ""]
    return "; ".join(p for p in parts if p) or None
