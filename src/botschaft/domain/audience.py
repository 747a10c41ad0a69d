"""Audience rules: who a campaign is for, as a structured filter evaluated in SQL.

A rule is a conjunction: every part that is set must hold. Its JSON form is what the API
takes and what the ``audiences`` table stores::

    {"tags": {"any": ["angebote"], "all": [], "none": ["mitarbeiter"]},
     "attributes": [{"key": "stadt", "op": "eq", "value": "Berlin"},
                    {"key": "plz", "op": "in", "values": ["10115", "10117"]},
                    {"key": "geburtstag", "op": "exists"}],
     "channels": ["whatsapp"], "languages": ["de"], "consent_purpose": "marketing"}

``consent_purpose`` limits the audience to people with an active consent for that purpose on
the campaign's channel. At planning time it does not hide the others: they get a ``skipped``
delivery with the reason, so a campaign's record shows who was left out and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError

_RULE_KEYS = frozenset({"tags", "attributes", "channels", "languages", "consent_purpose"})
_TAG_KEYS = frozenset({"any", "all", "none"})


class AudienceRuleInvalid(BotschaftError):
    code = "audience_rule_invalid"
    status = 422


class AttributeOp(StrEnum):
    EQ = "eq"
    IN = "in"
    EXISTS = "exists"


@dataclass(frozen=True)
class TagFilter:
    any: tuple[str, ...] = ()  # at least one of these
    all: tuple[str, ...] = ()  # every one of these
    none: tuple[str, ...] = ()  # none of these

    @property
    def empty(self) -> bool:
        return not (self.any or self.all or self.none)


@dataclass(frozen=True)
class AttributeCondition:
    key: str
    op: AttributeOp
    values: tuple[str, ...] = ()  # one for eq, several for in, none for exists


@dataclass(frozen=True)
class AudienceRule:
    tags: TagFilter = field(default_factory=TagFilter)
    attributes: tuple[AttributeCondition, ...] = ()
    channels: tuple[ChannelKind, ...] = ()  # has an identity on one of them
    languages: tuple[str, ...] = ()
    consent_purpose: str | None = MARKETING

    def as_json(self) -> dict[str, Any]:
        return {
            "tags": {"any": list(self.tags.any), "all": list(self.tags.all),
                     "none": list(self.tags.none)},
            "attributes": [_condition_json(c) for c in self.attributes],
            "channels": [c.value for c in self.channels],
            "languages": list(self.languages),
            "consent_purpose": self.consent_purpose,
        }

    def attribute_keys(self) -> frozenset[str]:
        return frozenset(c.key for c in self.attributes)


def _condition_json(condition: AttributeCondition) -> dict[str, Any]:
    if condition.op is AttributeOp.EQ:
        return {"key": condition.key, "op": "eq", "value": condition.values[0]}
    if condition.op is AttributeOp.IN:
        return {"key": condition.key, "op": "in", "values": list(condition.values)}
    return {"key": condition.key, "op": "exists"}


def parse_rule(data: object) -> AudienceRule:
    """The rule that ``data`` (parsed JSON) describes, or ``AudienceRuleInvalid`` saying why."""
    if not isinstance(data, Mapping):
        raise AudienceRuleInvalid("An audience rule is a JSON object.")
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise AudienceRuleInvalid(
            f"An audience rule has no part {sorted(unknown)[0]!r}; its parts are "
            + ", ".join(sorted(_RULE_KEYS)) + "."
        )
    purpose = data.get("consent_purpose", MARKETING)
    if purpose is not None and (not isinstance(purpose, str) or not purpose.strip()):
        raise AudienceRuleInvalid("consent_purpose is a purpose's name, e.g. marketing, or null.")
    return AudienceRule(
        tags=_tags(data.get("tags") or {}),
        attributes=tuple(_condition(c) for c in _list(data, "attributes")),
        channels=tuple(_channel(c) for c in _strings(data, "channels")),
        languages=tuple(lang.lower() for lang in _strings(data, "languages")),
        consent_purpose=purpose.strip() if isinstance(purpose, str) else None,
    )


def _list(data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise AudienceRuleInvalid(f"{key} is a list.")
    return value


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _list(data, key)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise AudienceRuleInvalid(f"{key} is a list of non-empty names.")
    return tuple(v.strip() for v in values)


def _tags(data: object) -> TagFilter:
    if not isinstance(data, Mapping):
        raise AudienceRuleInvalid('tags is an object: {"any": [...], "all": [...], "none": [...]}.')
    unknown = set(data) - _TAG_KEYS
    if unknown:
        raise AudienceRuleInvalid(
            f"tags has no part {sorted(unknown)[0]!r}; use any, all and none."
        )
    return TagFilter(
        any=_tag_names(data, "any"), all=_tag_names(data, "all"), none=_tag_names(data, "none")
    )


def _tag_names(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(normalise_tag(name) for name in _strings(data, key))


def normalise_tag(name: str) -> str:
    """Tags compare without regard to case or surrounding spaces: "VIP " is "vip"."""
    return " ".join(name.split()).lower()


def _channel(name: str) -> ChannelKind:
    try:
        return ChannelKind(name.lower())
    except ValueError:
        known = ", ".join(c.value for c in ChannelKind)
        raise AudienceRuleInvalid(f"There is no channel {name!r}; known are {known}.") from None


def _condition(data: object) -> AttributeCondition:
    if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
        raise AudienceRuleInvalid(
            'Each attribute condition is an object with a key and an op: eq, in or exists.'
        )
    key = data["key"].strip()
    try:
        op = AttributeOp(data.get("op", ""))
    except ValueError:
        raise AudienceRuleInvalid(
            f"The condition on {key!r} needs op eq, in or exists."
        ) from None
    if op is AttributeOp.EQ:
        value = data.get("value")
        if not isinstance(value, str | int | float | bool):
            raise AudienceRuleInvalid(f"The condition on {key!r} (eq) needs a value.")
        return AttributeCondition(key, op, (canonical_value(value),))
    if op is AttributeOp.IN:
        values = data.get("values")
        if not isinstance(values, list) or not values or not all(
            isinstance(v, str | int | float | bool) for v in values
        ):
            raise AudienceRuleInvalid(f"The condition on {key!r} (in) needs a list of values.")
        return AttributeCondition(key, op, tuple(canonical_value(v) for v in values))
    return AttributeCondition(key, op)


def canonical_value(value: str | int | float | bool) -> str:
    """Attribute values are stored as text; booleans and numbers in one spelling."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
