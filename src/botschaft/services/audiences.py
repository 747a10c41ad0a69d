"""Saved audiences: create, change, delete, and count them live before sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botschaft.domain.audience import AudienceRule, AudienceRuleInvalid, parse_rule
from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.audience_query import consent_condition, rule_conditions
from botschaft.services.context import Context
from botschaft.storage.broadcast import Audience, Campaign
from botschaft.storage.contact_fields import AttributeDefinition
from botschaft.storage.models import Contact


class AudienceConflict(BotschaftError):
    code = "audience_conflict"
    status = 409


@dataclass(frozen=True)
class AudienceView:
    id: int
    name: str
    rule: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AudienceCount:
    """``contacts`` match the rule's tags, attributes, channels and languages (not erased);
    ``with_consent`` of them also have the rule's consent (marketing unless said otherwise)
    on one of its channels."""

    contacts: int
    with_consent: int


def create_audience(ctx: Context, name: str, rule_data: object) -> AudienceView:
    rule = _checked_rule(ctx, rule_data)
    now = ctx.clock.now()
    try:
        with ctx.db.write() as session:
            row = Audience(name=_name(name), rule=rule.as_json(), created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            return _view(row)
    except IntegrityError:
        raise AudienceConflict(f"There is an audience named {name.strip()!r} already.") from None


def update_audience(ctx: Context, audience_id: int, name: str | None, rule_data: object | None
                    ) -> AudienceView:
    rule = _checked_rule(ctx, rule_data) if rule_data is not None else None
    try:
        with ctx.db.write() as session:
            row = _get(session, audience_id)
            if name is not None:
                row.name = _name(name)
            if rule is not None:
                row.rule = rule.as_json()
            row.updated_at = ctx.clock.now()
            session.flush()
            return _view(row)
    except IntegrityError:
        raise AudienceConflict(f"There is an audience named {name!r} already.") from None


def delete_audience(ctx: Context, audience_id: int) -> None:
    with ctx.db.write() as session:
        row = _get(session, audience_id)
        used = session.scalar(select(func.count()).where(Campaign.audience_id == audience_id))
        if used:
            raise AudienceConflict(
                f"Audience #{audience_id} is used by {used} campaign(s) and stays on record."
            )
        session.delete(row)


def get_audience(ctx: Context, audience_id: int) -> AudienceView:
    with ctx.db.read() as session:
        return _view(_get(session, audience_id))


def list_audiences(ctx: Context) -> list[AudienceView]:
    with ctx.db.read() as session:
        return [_view(r) for r in session.scalars(select(Audience).order_by(Audience.id))]


def count_rule(ctx: Context, rule_data: object) -> AudienceCount:
    """The live count of a rule, saved or not: two COUNTs the database answers from indexes."""
    rule = _checked_rule(ctx, rule_data)
    matching = rule_conditions(rule) & Contact.erased_at.is_(None)
    with ctx.db.read() as session:
        contacts = session.scalar(select(func.count()).select_from(Contact).where(matching))
        consenting = contacts
        if rule.consent_purpose is not None and contacts:
            condition = matching & consent_condition(rule, rule.consent_purpose)
            if rule.consent_purpose != MARKETING:
                condition = condition & consent_condition(rule, MARKETING)
            consenting = session.scalar(
                select(func.count()).select_from(Contact).where(condition)
            )
        return AudienceCount(int(contacts or 0), int(consenting or 0))


def count_audience(ctx: Context, audience_id: int) -> AudienceCount:
    return count_rule(ctx, get_audience(ctx, audience_id).rule)


def _checked_rule(ctx: Context, data: object) -> AudienceRule:
    rule = parse_rule(data)
    keys = rule.attribute_keys()
    if keys:
        with ctx.db.read() as session:
            declared = set(
                session.scalars(
                    select(AttributeDefinition.key).where(AttributeDefinition.key.in_(keys))
                )
            )
        missing = sorted(keys - declared)
        if missing:
            names = ", ".join(missing)
            raise AudienceRuleInvalid(
                f"The rule filters on {names}, which is not a declared attribute.",
                key="app.error.rule_undeclared", attributes=names,
            )
    return rule


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise AudienceRuleInvalid("An audience needs a name of 1 to 200 characters.")
    return cleaned


def _get(session: Session, audience_id: int) -> Audience:
    row = session.get(Audience, audience_id)
    if row is None:
        raise NotFound(f"There is no audience #{audience_id}.")
    return row


def _view(row: Audience) -> AudienceView:
    return AudienceView(row.id, row.name, row.rule, row.created_at, row.updated_at)
