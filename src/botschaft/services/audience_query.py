"""An audience rule compiled to SQL: conditions on ``contacts`` that the database evaluates.

Each part becomes an ``EXISTS`` (or ``NOT EXISTS``) on the small tables beside ``contacts``,
so the planner can use their indexes (``contact_tags`` by tag, ``contact_attributes`` by key
and value) and no contact is ever loaded into Python to be tested.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from botschaft.domain.audience import AttributeCondition, AttributeOp, AudienceRule
from botschaft.storage.consent_state import ACTIVE_KINDS, latest_status
from botschaft.storage.contact_fields import ContactAttribute, ContactTag, Tag
from botschaft.storage.models import ChannelIdentity, Contact


def rule_conditions(rule: AudienceRule) -> ColumnElement[bool]:
    """Tags, attributes, channels and languages of ``rule`` as one condition on Contact.

    The consent part is not in here: planning turns it into skip reasons, and
    ``consent_condition`` adds it where only the consenting count.
    """
    parts: list[ColumnElement[bool]] = []
    if rule.tags.any:
        parts.append(_tagged(rule.tags.any))
    parts.extend(_tagged((name,)) for name in rule.tags.all)
    if rule.tags.none:
        parts.append(~_tagged(rule.tags.none))
    parts.extend(_attribute(c) for c in rule.attributes)
    if rule.channels:
        # An alias of its own: planning joins ChannelIdentity already, and an EXISTS on the
        # same table would be auto-correlated to that join and lose its FROM.
        identity = aliased(ChannelIdentity)
        parts.append(
            exists().where(
                identity.contact_id == Contact.id,
                identity.channel.in_([c.value for c in rule.channels]),
            )
        )
    if rule.languages:
        language = func.lower(Contact.language)
        parts.append(
            or_(*(or_(language == lang, language.like(f"{lang}-%")) for lang in rule.languages))
        )
    return and_(true(), *parts)


def consent_condition(rule: AudienceRule, purpose: str) -> ColumnElement[bool]:
    """The contact has an active ``purpose`` consent on one of the rule's channels (any if
    the rule names none) where they also have an identity."""
    status = latest_status(purpose, tuple(c.value for c in rule.channels))
    return exists().where(
        status.c.contact_id == Contact.id,
        status.c.kind.in_(ACTIVE_KINDS),
        exists().where(
            ChannelIdentity.contact_id == Contact.id,
            ChannelIdentity.channel == status.c.channel,
            ChannelIdentity.unreachable_at.is_(None),
        ),
    )


def _tagged(names: tuple[str, ...]) -> ColumnElement[bool]:
    return exists().where(
        ContactTag.contact_id == Contact.id,
        ContactTag.tag_id.in_(select(Tag.id).where(Tag.name.in_(names)).scalar_subquery()),
    )


def _attribute(condition: AttributeCondition) -> ColumnElement[bool]:
    where = [ContactAttribute.contact_id == Contact.id, ContactAttribute.key == condition.key]
    if condition.op is AttributeOp.EQ:
        where.append(ContactAttribute.value == condition.values[0])
    elif condition.op is AttributeOp.IN:
        where.append(ContactAttribute.value.in_(condition.values))
    return exists().where(*where)
