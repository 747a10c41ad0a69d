"""Contacts and their channel identities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import IdentityTaken, InvalidTimeZone, NotFound
from botschaft.domain.phone import normalise_phone
from botschaft.services.context import Context
from botschaft.storage.models import ChannelIdentity, Contact


@dataclass(frozen=True)
class IdentityView:
    channel: ChannelKind
    address: str
    unreachable_at: datetime | None


@dataclass(frozen=True)
class ContactView:
    id: int
    display_name: str | None
    language: str
    time_zone: str
    created_at: datetime
    identities: tuple[IdentityView, ...]


def normalise_address(channel: ChannelKind, address: str, region: str) -> str:
    """The canonical form of an address on ``channel``: E.164 for phone numbers.

    WhatsApp may name a person by a business-scoped user id instead of a number (2026
    usernames, e.g. ``US.13491208655302741918``); an address with letters in it is such an
    id and is kept as it is.
    """
    text = address.strip()
    if channel.addresses_are_phone_numbers and not any(c.isalpha() for c in text):
        return normalise_phone(text, region)
    return text


def create_contact(
    ctx: Context,
    *,
    identities: list[tuple[ChannelKind, str]],
    display_name: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> ContactView:
    """Create a contact with its identities; refuses an address another contact has."""
    zone = time_zone or ctx.settings.default_time_zone
    _check_zone(zone)
    with ctx.db.write() as session:
        contact = Contact(
            display_name=display_name,
            language=language or ctx.settings.default_language,
            time_zone=zone,
            created_at=ctx.clock.now(),
        )
        session.add(contact)
        session.flush()
        for channel, address in identities:
            add_identity(session, ctx, contact, channel, address)
        session.flush()
        return view_of(contact)


def add_identity(
    session: Session, ctx: Context, contact: Contact, channel: ChannelKind, address: str
) -> ChannelIdentity:
    canonical = normalise_address(channel, address, ctx.settings.default_region)
    owner = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel.value, ChannelIdentity.address == canonical
        )
    )
    if owner is not None:
        raise IdentityTaken(
            f"{channel.value} address {canonical} belongs to contact #{owner.contact_id} already"
        )
    identity = ChannelIdentity(
        contact=contact, channel=channel.value, address=canonical, created_at=ctx.clock.now()
    )
    session.add(identity)
    return identity


def find_contact(session: Session, ctx: Context, ref: str) -> Contact:
    """Find a contact by ``#12`` / ``12`` (id), a phone number, or ``channel:address``."""
    text = ref.strip()
    if text.lstrip("#").isdigit() and not text.startswith("+") and len(text.lstrip("#")) < 10:
        contact = session.get(Contact, int(text.lstrip("#")))
        if contact is not None:
            return contact
        raise NotFound(f"There is no contact #{text.lstrip('#')}.")
    channel_name, sep, address = text.partition(":")
    if sep and channel_name in {c.value for c in ChannelKind}:
        channel = ChannelKind(channel_name)
        candidates = [(channel, normalise_address(channel, address, ctx.settings.default_region))]
    else:
        phone = normalise_phone(text, ctx.settings.default_region)
        candidates = [(c, phone) for c in ChannelKind if c.addresses_are_phone_numbers]
    for channel, canonical in candidates:
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel.value, ChannelIdentity.address == canonical
            )
        )
        if identity is not None:
            return identity.contact
    raise NotFound(f"No contact has the address {ref!r}.")


def view_of(contact: Contact) -> ContactView:
    return ContactView(
        id=contact.id,
        display_name=contact.display_name,
        language=contact.language,
        time_zone=contact.time_zone,
        created_at=contact.created_at,
        identities=tuple(
            IdentityView(ChannelKind(i.channel), i.address, i.unreachable_at)
            for i in contact.identities
        ),
    )


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)",
                              key="app.error.timezone_unknown", zone=name) from None
