"""Tags and declared attributes of contacts, and the fields a campaign may personalise with.

Only declared attributes are stored: an attribute needs a key, a label, a purpose (why the
business keeps it, for the record of processing) and a type before any contact may have it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botschaft.domain.audience import canonical_value, normalise_tag
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.context import Context
from botschaft.storage.contact_fields import AttributeDefinition, ContactAttribute, ContactTag, Tag
from botschaft.storage.models import Contact

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Names a template reads besides the attributes; an attribute may not shadow them.
RESERVED_KEYS = frozenset({"first_name", "display_name", "name", "language", "attributes"})


class AttributeType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


class AttributeInvalid(BotschaftError):
    code = "attribute_invalid"
    status = 422


class AttributeUndeclared(BotschaftError):
    code = "attribute_undeclared"
    status = 422


@dataclass(frozen=True)
class AttributeView:
    key: str
    label: str
    purpose: str
    type: AttributeType


def declare_attribute(
    ctx: Context, key: str, label: str, purpose: str, type: AttributeType = AttributeType.TEXT
) -> AttributeView:
    """Declare an attribute; a new declaration of a key replaces its label and purpose."""
    if not _KEY.fullmatch(key) or key in RESERVED_KEYS:
        raise AttributeInvalid(
            f"{key!r} cannot be an attribute key: use lower-case letters, digits and _"
            f" (starting with a letter), and none of {', '.join(sorted(RESERVED_KEYS))}."
        )
    if not purpose.strip():
        raise AttributeInvalid(
            f"Say why {key!r} is kept (its purpose): only data with a purpose is stored."
        )
    with ctx.db.write() as session:
        row = session.get(AttributeDefinition, key)
        if row is None:
            row = AttributeDefinition(key=key, created_at=ctx.clock.now())
            session.add(row)
        elif row.type != type.value:
            raise AttributeInvalid(f"{key!r} is declared as {row.type} already.")
        row.label, row.purpose, row.type = label.strip() or key, purpose.strip(), type.value
        return _view(row)


def list_attributes(ctx: Context) -> list[AttributeView]:
    with ctx.db.read() as session:
        rows = session.scalars(select(AttributeDefinition).order_by(AttributeDefinition.key))
        return [_view(r) for r in rows]


def set_attributes(
    ctx: Context, contact_id: int, values: Mapping[str, str | int | float | bool | None]
) -> dict[str, str]:
    """Set (or, with None, remove) a contact's attributes; refuses undeclared keys."""
    with ctx.db.write() as session:
        _contact(session, contact_id)
        declared = {
            d.key: AttributeType(d.type)
            for d in session.scalars(
                select(AttributeDefinition).where(AttributeDefinition.key.in_(list(values)))
            )
        }
        for key, value in values.items():
            if key not in declared:
                raise AttributeUndeclared(
                    f"{key!r} is not a declared attribute: declare it with its purpose first."
                )
            existing = session.get(ContactAttribute, (contact_id, key))
            if value is None:
                if existing is not None:
                    session.delete(existing)
                continue
            text = _checked(key, declared[key], value)
            if existing is None:
                session.add(ContactAttribute(contact_id=contact_id, key=key, value=text))
            else:
                existing.value = text
        session.flush()
        return attributes_of(session, contact_id)


def attributes_of(session: Session, contact_id: int) -> dict[str, str]:
    rows = session.execute(
        select(ContactAttribute.key, ContactAttribute.value)
        .where(ContactAttribute.contact_id == contact_id)
        .order_by(ContactAttribute.key)
    )
    return {key: value for key, value in rows}


def set_tags(ctx: Context, contact_id: int, names: Iterable[str]) -> list[str]:
    """Make ``names`` the contact's tags (creating tags as needed); returns them, sorted."""
    with ctx.db.write() as session:
        _contact(session, contact_id)
        session.execute(delete(ContactTag).where(ContactTag.contact_id == contact_id))
        add_tags(session, ctx, contact_id, names)
        return tags_of(session, contact_id)


def add_tags(session: Session, ctx: Context, contact_id: int, names: Iterable[str]) -> None:
    """Give the contact these tags as well, in the caller's transaction."""
    wanted = sorted({normalise_tag(n) for n in names if n.strip()})
    if not wanted:
        return
    for name in wanted:
        if len(name) > 100:
            raise AttributeInvalid(f"A tag has at most 100 characters: {name[:20]!r}…")
    tag_ids = {t.name: t.id for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in tag_ids:
            tag = Tag(name=name, created_at=ctx.clock.now())
            session.add(tag)
            session.flush()
            tag_ids[name] = tag.id
    have = set(
        session.scalars(select(ContactTag.tag_id).where(ContactTag.contact_id == contact_id))
    )
    for tag_id in set(tag_ids.values()) - have:
        session.add(ContactTag(contact_id=contact_id, tag_id=tag_id))
    session.flush()


def tags_of(session: Session, contact_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Tag.name)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact_id)
            .order_by(Tag.name)
        )
    )


def personal_fields(session: Session, contact: Contact) -> dict[str, object]:
    """What a campaign template may read about ``contact``: its declared fields, no more."""
    display = contact.display_name or ""
    return {
        "display_name": display,
        "first_name": display.split()[0] if display.split() else "",
        "language": contact.language,
        "attributes": attributes_of(session, contact.id),
    }


def _checked(key: str, kind: AttributeType, value: str | int | float | bool) -> str:
    text = canonical_value(value)
    if kind is AttributeType.NUMBER:
        try:
            float(text)
        except ValueError:
            raise AttributeInvalid(f"{key!r} takes a number, not {text!r}.") from None
    elif kind is AttributeType.BOOLEAN and text not in ("true", "false"):
        raise AttributeInvalid(f"{key!r} takes true or false, not {text!r}.")
    elif kind is AttributeType.DATE:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise AttributeInvalid(f"{key!r} takes a date as YYYY-MM-DD, not {text!r}.") from None
    if len(text) > 500:
        raise AttributeInvalid(f"{key!r} takes at most 500 characters.")
    return text


def _contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"There is no contact #{contact_id}.")
    return contact


def _view(row: AttributeDefinition) -> AttributeView:
    return AttributeView(row.key, row.label, row.purpose, AttributeType(row.type))
