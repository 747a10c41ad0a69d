"""What a contact carries besides its identities: tags and declared attributes.

Only declared attributes are stored (data minimisation): an ``AttributeDefinition`` names the
key, says what it is for (``purpose``) and its type, and ``contact_attributes`` refers to it
by key, so the database itself refuses a value nobody declared.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag_id", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class AttributeDefinition(Base):
    """A declared attribute: its key, a label for people, why it is kept, and its type."""

    __tablename__ = "attribute_definitions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))  # text | number | boolean | date
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactAttribute(Base):
    """One declared attribute's value for one contact, stored as text in canonical form."""

    __tablename__ = "contact_attributes"
    __table_args__ = (Index("ix_contact_attributes_value", "key", "value"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(
        ForeignKey("attribute_definitions.key"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(500))
