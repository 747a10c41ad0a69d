"""The audience form of the app: its fields turned into the rule JSON of ``domain.audience``
and back, so the screen edits exactly what the API stores.

Lists (tags, attribute values, languages) are typed comma-separated; each attribute
condition is a row of key, operator and value(s). What the form cannot say is refused here
with a sentence in the person's language; the rule's own checks follow in the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botschaft.domain.audience import AttributeOp, normalise_tag
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError
from botschaft.i18n import translate

EMPTY_ROWS = 2  # blank attribute rows offered below the ones in use
NO_CONSENT = "-"  # the consent choice "nobody needs one" (the rule's null)


class AudienceFormInvalid(BotschaftError):
    code = "audience_form_invalid"
    status = 422


@dataclass(frozen=True)
class AttributeRow:
    key: str = ""
    op: str = AttributeOp.EQ.value
    value: str = ""  # one value, or several comma-separated for "in"


@dataclass(frozen=True)
class AudienceForm:
    """The form's fields as a person filled them in (or as a saved rule fills them)."""

    name: str = ""
    tags_any: str = ""
    tags_all: str = ""
    tags_none: str = ""
    rows: tuple[AttributeRow, ...] = ()
    channels: tuple[str, ...] = ()
    languages: str = ""
    consent: str = MARKETING  # a purpose, or NO_CONSENT

    def rows_to_show(self) -> tuple[AttributeRow, ...]:
        return (*self.rows, *(AttributeRow() for _ in range(EMPTY_ROWS)))


def read_audience_form(form: dict[str, list[str]]) -> AudienceForm:
    """What was posted, kept as typed so a refused form comes back filled in."""

    def one(name: str) -> str:
        values = form.get(name) or [""]
        return values[-1].strip()

    keys, ops, values = (form.get(n, []) for n in ("attr_key", "attr_op", "attr_value"))
    rows = tuple(
        AttributeRow(key.strip(), (ops[i] if i < len(ops) else "eq").strip(),
                     (values[i] if i < len(values) else "").strip())
        for i, key in enumerate(keys)
        if key.strip()
    )
    known = {c.value for c in ChannelKind}
    return AudienceForm(
        name=one("name"), tags_any=one("tags_any"), tags_all=one("tags_all"),
        tags_none=one("tags_none"), rows=rows,
        channels=tuple(c for c in form.get("channels", []) if c in known),
        languages=one("languages"), consent=one("consent") or MARKETING,
    )


def rule_of(form: AudienceForm, language: str) -> dict[str, Any]:
    """The rule JSON the form describes; ``AudienceFormInvalid`` names what to fix."""
    attributes: list[dict[str, Any]] = []
    for row in form.rows:
        if row.op not in {op.value for op in AttributeOp}:
            raise AudienceFormInvalid(translate(language, "app.audiences.error_operator"))
        listed = _split(row.value)
        if row.op == AttributeOp.EXISTS:
            attributes.append({"key": row.key, "op": "exists"})
        elif row.op == AttributeOp.IN and listed:
            attributes.append({"key": row.key, "op": "in", "values": listed})
        elif row.op == AttributeOp.EQ and row.value:
            attributes.append({"key": row.key, "op": "eq", "value": row.value})
        else:
            raise AudienceFormInvalid(
                translate(language, "app.audiences.error_value", attribute=row.key))
    return {
        "tags": {"any": _tags(form.tags_any), "all": _tags(form.tags_all),
                 "none": _tags(form.tags_none)},
        "attributes": attributes,
        "channels": list(form.channels),
        "languages": [lang.lower() for lang in _split(form.languages)],
        "consent_purpose": None if form.consent == NO_CONSENT else form.consent,
    }


def checked_name(form: AudienceForm, language: str) -> str:
    if not form.name or len(form.name) > 200:
        raise AudienceFormInvalid(translate(language, "app.audiences.error_name"))
    return form.name


def form_of(name: str, rule: dict[str, Any]) -> AudienceForm:
    """The form filled in with a saved audience."""
    tags = rule.get("tags") or {}
    rows = []
    for condition in rule.get("attributes") or []:
        value = condition.get("value") or ", ".join(condition.get("values") or [])
        rows.append(AttributeRow(condition["key"], condition["op"], value))
    purpose = rule.get("consent_purpose", MARKETING)
    return AudienceForm(
        name=name, tags_any=", ".join(tags.get("any") or []),
        tags_all=", ".join(tags.get("all") or []), tags_none=", ".join(tags.get("none") or []),
        rows=tuple(rows), channels=tuple(rule.get("channels") or []),
        languages=", ".join(rule.get("languages") or []),
        consent=NO_CONSENT if purpose is None else purpose,
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _tags(text: str) -> list[str]:
    return list(dict.fromkeys(normalise_tag(name) for name in _split(text)))
