from __future__ import annotations

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import IdentityTaken, InvalidPhoneNumber, InvalidTimeZone, NotFound
from botschaft.services.contacts import ContactView, create_contact, find_contact
from botschaft.services.context import Context


def test_phone_identity_is_stored_in_e164_with_the_default_region(contact: ContactView) -> None:
    assert contact.identities[0].address == "+4915123456789"
    assert contact.time_zone == "Europe/Berlin"
    assert contact.language == "de"


def test_a_contact_may_have_identities_on_several_channels(ctx: Context) -> None:
    made = create_contact(
        ctx,
        identities=[(ChannelKind.WHATSAPP, "+43 664 1234567"), (ChannelKind.TELEGRAM, "987654")],
        language="en",
        time_zone="Europe/Vienna",
    )
    assert [(i.channel, i.address) for i in made.identities] == [
        (ChannelKind.WHATSAPP, "+436641234567"),
        (ChannelKind.TELEGRAM, "987654"),
    ]


def test_an_invalid_number_is_refused_quoting_it(ctx: Context) -> None:
    with pytest.raises(InvalidPhoneNumber, match="'0151 2'"):
        create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "0151 2")])


def test_an_unknown_time_zone_is_refused(ctx: Context) -> None:
    with pytest.raises(InvalidTimeZone, match="Mars/Olympus"):
        create_contact(ctx, identities=[], time_zone="Mars/Olympus")


def test_an_address_belongs_to_one_contact_only(ctx: Context, contact: ContactView) -> None:
    with pytest.raises(IdentityTaken, match=r"\+4915123456789"):
        create_contact(ctx, identities=[(ChannelKind.WHATSAPP, "+49 151 23456789")])


@pytest.mark.parametrize("ref", ["1", "#1", "+4915123456789", "0151 23456789",
                                 "whatsapp:+4915123456789"])
def test_a_contact_is_found_by_id_phone_or_channel_address(
    ctx: Context, contact: ContactView, ref: str
) -> None:
    with ctx.db.read() as session:
        assert find_contact(session, ctx, ref).id == contact.id


def test_an_unknown_reference_is_not_found(ctx: Context, contact: ContactView) -> None:
    with ctx.db.read() as session, pytest.raises(NotFound):
        find_contact(session, ctx, "+491701234567")
