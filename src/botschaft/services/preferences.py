"""The preference page's use cases: pause, fewer messages, resume, another channel, withdraw.

A person reaches them through the signed link in a marketing message's footer or the welcome
message (``services.preference_links``), without a login. Every choice is the person's own
and becomes exactly one fact in the consent ledger per purpose it touches, written in one
transaction, with source ``web_form`` and the request's IP address and user agent as
evidence. Nothing here subscribes anyone: only the person's own confirmed agreement does.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import (
    MARKETING,
    ConsentEventKind,
    ConsentSource,
    ConsentState,
    ConsentStatus,
)
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.consent import ConsentRecord, consent_state, record_in, withdraw_in
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage import ledger
from botschaft.storage.models import Contact

log = logging.getLogger(__name__)

PAUSE_WEEKS = (1, 2, 4)
# Fewer messages means one or two per cap period; only those below the workspace's cap are
# offered, since a "limit" at or above it would change nothing.
FEWER_CHOICES = (1, 2)
# Channels a person subscribes on with their own messenger account. The website chat and
# the sandbox phone carry conversations, not subscriptions, so nobody is sent there.
SUBSCRIPTION_CHANNELS = (ChannelKind.WHATSAPP, ChannelKind.TELEGRAM, ChannelKind.MESSENGER)


class InvalidChoice(BotschaftError):
    """A choice the page does not offer for this person now (a stale or hand-made form)."""

    code = "preference_choice_invalid"
    status = 422


class Standing(StrEnum):
    """What the person gets on this channel, in the words the page uses."""

    SUBSCRIBED = "subscribed"
    PAUSED = "paused"
    LIMITED = "limited"  # subscribed, with fewer messages than the workspace sends
    PENDING = "pending"  # signed up, the confirmation is still missing
    NOT_SUBSCRIBED = "not_subscribed"


class Choice(StrEnum):
    PAUSED = "paused"
    LIMITED = "limited"
    LIMIT_LIFTED = "limit_lifted"
    RESUMED = "resumed"
    WITHDRAWN = "withdrawn"
    SWITCHED = "switched"


@dataclass(frozen=True)
class Evidence:
    """Where a choice came from, kept with its ledger row as proof."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Preferences:
    """One person's marketing preferences on one channel, as of the clock's now."""

    contact_id: int
    channel: ChannelKind
    language: str
    time_zone: str
    address: str
    standing: Standing
    paused_until: datetime | None
    max_per_period: int | None
    cap: int  # the workspace's marketing messages per cap period
    cap_period_days: int
    fewer_choices: tuple[int, ...]

    @property
    def subscribed(self) -> bool:
        """An active subscription (perhaps paused or limited): every choice is open."""
        return self.standing in (Standing.SUBSCRIBED, Standing.PAUSED, Standing.LIMITED)

    @property
    def can_withdraw(self) -> bool:
        return self.subscribed or self.standing is Standing.PENDING

    @property
    def limited(self) -> bool:
        return self.max_per_period is not None and self.max_per_period < self.cap


@dataclass(frozen=True)
class Changed:
    """A recorded choice and the preferences it leaves."""

    choice: Choice
    preferences: Preferences
    target: ChannelKind | None = None  # SWITCHED: where the person wants to subscribe


def fewer_choices(settings: Settings) -> tuple[int, ...]:
    """The "fewer messages" values the page offers: those below the workspace's cap."""
    return tuple(n for n in FEWER_CHOICES if n < settings.policy.marketing_per_period)


def switch_targets(
    channel: ChannelKind, enabled: Collection[ChannelKind]
) -> tuple[ChannelKind, ...]:
    """The other switched-on channels a person could subscribe on instead of ``channel``."""
    return tuple(c for c in SUBSCRIPTION_CHANNELS if c in enabled and c is not channel)


def preferences_of(ctx: Context, contact_id: int, channel: ChannelKind) -> Preferences:
    """The preferences a valid link shows; ``NotFound`` for an erased or unknown person."""
    with ctx.db.read() as session:
        return _preferences(session, ctx, contact_id, channel)


def pause(
    ctx: Context, contact_id: int, channel: ChannelKind, weeks: int, evidence: Evidence
) -> Changed:
    """No marketing for ``weeks`` weeks from now: a ``paused`` row with ``until``."""
    if weeks not in PAUSE_WEEKS:
        raise InvalidChoice(f"A pause lasts {_listed(PAUSE_WEEKS)} weeks, not {weeks}.")
    with ctx.db.write() as session:
        current = _subscribed(session, ctx, contact_id, channel)
        until = ctx.clock.now() + timedelta(weeks=weeks)
        _record(session, ctx, current, ConsentEventKind.PAUSED, evidence, until=until)
        return Changed(Choice.PAUSED, _preferences(session, ctx, contact_id, channel))


def resume(ctx: Context, contact_id: int, channel: ChannelKind, evidence: Evidence) -> Changed:
    """End a pause early: a ``paused`` row whose ``until`` is now."""
    with ctx.db.write() as session:
        current = _subscribed(session, ctx, contact_id, channel)
        if current.standing is not Standing.PAUSED:
            raise InvalidChoice("Marketing messages are not paused, so there is nothing to resume.")
        _record(session, ctx, current, ConsentEventKind.PAUSED, evidence, until=ctx.clock.now())
        return Changed(Choice.RESUMED, _preferences(session, ctx, contact_id, channel))


def limit(
    ctx: Context, contact_id: int, channel: ChannelKind, per_period: int, evidence: Evidence
) -> Changed:
    """At most ``per_period`` marketing messages per cap period: a ``limited`` row."""
    with ctx.db.write() as session:
        current = _subscribed(session, ctx, contact_id, channel)
        if per_period not in current.fewer_choices:
            offered = _listed(current.fewer_choices) or "none"
            raise InvalidChoice(f"Fewer messages can be {offered} per period, not {per_period}.")
        _record(session, ctx, current, ConsentEventKind.LIMITED, evidence, per_period=per_period)
        return Changed(Choice.LIMITED, _preferences(session, ctx, contact_id, channel))


def lift_limit(
    ctx: Context, contact_id: int, channel: ChannelKind, evidence: Evidence
) -> Changed:
    """Back to the workspace's usual number: a ``limited`` row at the workspace's cap.

    The row names today's cap: should the workspace raise its cap later, this person stays
    at today's number, and the page shows it and offers the usual number again.
    """
    with ctx.db.write() as session:
        current = _subscribed(session, ctx, contact_id, channel)
        if not current.limited:
            raise InvalidChoice("There is no limit on the number of messages to lift.")
        _record(session, ctx, current, ConsentEventKind.LIMITED, evidence, per_period=current.cap)
        return Changed(Choice.LIMIT_LIFTED, _preferences(session, ctx, contact_id, channel))


def withdraw(
    ctx: Context, contact_id: int, channel: ChannelKind, evidence: Evidence,
    *, note: str | None = None,
) -> Changed:
    """Unsubscribe on this channel: a ``withdrawn`` row for each consent still in force.

    Like ``STOP``, the withdrawal covers every purpose the person agreed to on this channel
    (usually marketing alone), so that nothing they signed up for goes on after it.
    """
    with ctx.db.write() as session:
        current = _preferences(session, ctx, contact_id, channel)
        if not current.can_withdraw:
            raise InvalidChoice("There is no subscription on this channel to withdraw.")
        withdraw_in(
            session, ctx, contact_id, channel, ConsentSource.WEB_FORM,
            purposes=_purposes_in_force(session, ctx, contact_id, channel),
            ip=evidence.ip, user_agent=evidence.user_agent, note=note,
        )
        return Changed(Choice.WITHDRAWN, _preferences(session, ctx, contact_id, channel))


def switch_channel(
    ctx: Context, contact_id: int, channel: ChannelKind, target: ChannelKind,
    evidence: Evidence, *, enabled: Collection[ChannelKind],
) -> Changed:
    """Withdraw here because the person wants ``target`` instead.

    Only the withdrawal is recorded (its note names the wish). A consent on ``target`` is
    never assumed: the person subscribes there themselves and confirms it there.
    """
    if target not in switch_targets(channel, enabled):
        raise InvalidChoice(f"Messages cannot be moved to {target.value} here.")
    changed = withdraw(
        ctx, contact_id, channel, evidence,
        note=f"preference page: wants to subscribe on {target.value} instead",
    )
    log.info("preference switch", extra={"contact_id": contact_id, "channel": channel.value,
                                         "target": target.value})
    return Changed(Choice.SWITCHED, changed.preferences, target)


def _preferences(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind
) -> Preferences:
    contact = session.get(Contact, contact_id)
    identity = None
    if contact is not None and contact.erased_at is None:
        identity = next((i for i in contact.identities if i.channel == channel.value), None)
    if contact is None or identity is None:
        # The same answer as a forged link: a valid signature reveals nothing about whether
        # the person is still on record.
        raise NotFound("This preference link is not valid.")
    state = consent_state(session, ctx, contact_id, channel, MARKETING)
    policy = ctx.settings.policy
    return Preferences(
        contact_id=contact_id,
        channel=channel,
        language=contact.language,
        time_zone=contact.time_zone,
        address=identity.address,
        standing=_standing(state, ctx.clock.now(), policy.marketing_per_period),
        paused_until=state.paused_until if state.paused_at(ctx.clock.now()) else None,
        max_per_period=state.max_per_period,
        cap=policy.marketing_per_period,
        cap_period_days=policy.cap_period_days,
        fewer_choices=fewer_choices(ctx.settings),
    )


def _standing(state: ConsentState, now: datetime, cap: int) -> Standing:
    if state.status is ConsentStatus.PENDING:
        return Standing.PENDING
    if state.status is not ConsentStatus.ACTIVE:
        return Standing.NOT_SUBSCRIBED
    if state.paused_at(now):
        return Standing.PAUSED
    if state.max_per_period is not None and state.max_per_period < cap:
        return Standing.LIMITED
    return Standing.SUBSCRIBED


def _subscribed(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind
) -> Preferences:
    current = _preferences(session, ctx, contact_id, channel)
    if not current.subscribed:
        raise InvalidChoice("Only an active subscription can be paused or changed.")
    return current


def _record(
    session: Session, ctx: Context, current: Preferences, kind: ConsentEventKind,
    evidence: Evidence, *, until: datetime | None = None, per_period: int | None = None,
) -> None:
    record_in(session, ctx, ConsentRecord(
        contact_id=current.contact_id, channel=current.channel, purpose=MARKETING, kind=kind,
        source=ConsentSource.WEB_FORM, ip=evidence.ip, user_agent=evidence.user_agent,
        until=until, per_period=per_period,
    ))


def _purposes_in_force(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind
) -> list[str]:
    on_record = sorted({
        row.purpose for row in ledger.contact_events(session, contact_id)
        if row.channel == channel.value
    })
    in_force = (ConsentStatus.ACTIVE, ConsentStatus.PENDING)
    return [
        purpose for purpose in on_record
        if consent_state(session, ctx, contact_id, channel, purpose).status in in_force
    ]


def _listed(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)
