from __future__ import annotations

import pytest
from sqlalchemy import select, update

from botschaft.domain.channels import ChannelKind
from botschaft.services.contacts import create_contact
from botschaft.services.context import Context
from botschaft.storage.id_list import among
from botschaft.storage.models import ChannelIdentity, Contact


def _people(ctx: Context, n: int) -> list[int]:
    return [
        create_contact(ctx, identities=[(ChannelKind.WHATSAPP, f"+49151{i:08d}")],
                       display_name=f"Person {i}").id
        for i in range(n)
    ]


def test_among_matches_exactly_the_listed_ids(ctx: Context) -> None:
    ids = _people(ctx, 6)
    wanted = [ids[1], ids[3], ids[4], 10_000_000]  # one id that does not exist
    with ctx.db.read() as session:
        found = session.scalars(select(Contact.id).where(among(Contact.id, wanted))).all()
        joined = session.execute(
            select(Contact.id, ChannelIdentity.address)
            .join(ChannelIdentity, ChannelIdentity.contact_id == Contact.id)
            .where(among(ChannelIdentity.contact_id, wanted), ChannelIdentity.channel == "whatsapp")
        ).all()
    assert sorted(found) == sorted(wanted[:3])
    assert sorted(contact_id for contact_id, _ in joined) == sorted(wanted[:3])


def test_among_an_empty_list_matches_nothing(ctx: Context) -> None:
    _people(ctx, 2)
    with ctx.db.read() as session:
        assert session.scalars(select(Contact.id).where(among(Contact.id, []))).all() == []


def test_among_works_in_updates_and_with_a_cached_statement(ctx: Context) -> None:
    ids = _people(ctx, 4)
    for chosen in ([ids[0]], [ids[1], ids[2]]):  # same statement shape, other values
        with ctx.db.write() as session:
            session.execute(update(Contact).where(among(Contact.id, chosen))
                            .values(display_name="Chosen"))
    with ctx.db.read() as session:
        chosen_now = session.scalars(
            select(Contact.id).where(Contact.display_name == "Chosen")).all()
    assert sorted(chosen_now) == sorted(ids[:3])


def test_among_looks_ids_up_by_index_on_sqlite(ctx: Context) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("PostgreSQL plans by table statistics; a tiny table is read whole")
    query = select(ChannelIdentity.id).where(among(ChannelIdentity.contact_id, [1, 2]))
    with ctx.db.read() as session:
        compiled = query.compile(session.get_bind())
        plan = " ".join(
            str(row[-1]) for row in session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", ("[1, 2]",)
            )
        )
    assert "INDEX ix_channel_identities_contact_id (contact_id=?)" in plan


def test_among_matches_text_keys_as_well(ctx: Context) -> None:
    _people(ctx, 3)
    wanted = ["+4915100000000", "+4915100000002", "+4915199999999"]
    with ctx.db.read() as session:
        found = session.scalars(
            select(ChannelIdentity.address).where(among(ChannelIdentity.address, wanted))).all()
    assert sorted(found) == wanted[:2]


def test_among_text_keys_with_the_characters_an_array_literal_escapes(ctx: Context) -> None:
    # PostgreSQL gets the list in its array text form: quotes, backslashes, commas, braces
    # and the word NULL must come back as themselves.
    awkward = ['say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", "ümlaut ß"]
    ids = _people(ctx, len(awkward))
    with ctx.db.write() as session:
        for contact_id, name in zip(ids, awkward, strict=True):
            session.execute(update(Contact).where(Contact.id == contact_id)
                            .values(display_name=name))
    with ctx.db.read() as session:
        found = session.scalars(
            select(Contact.display_name).where(among(Contact.display_name, awkward))).all()
        none = session.scalars(
            select(Contact.display_name).where(among(Contact.display_name, ["null", '"'])))
    assert sorted(found) == sorted(awkward)
    assert list(none) == []
