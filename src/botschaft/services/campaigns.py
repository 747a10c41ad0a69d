"""Campaigns: create, schedule, start, pause, resume and cancel — each one state change.

The dispatcher (``worker/dispatcher``) sends the deliveries of ``running`` campaigns only;
this module decides when a campaign runs. Starting lints the campaign, makes its tracked
links and plans its deliveries (``services/campaign_planning``), and only then sets it
``running``, so no delivery is claimed before the plan is whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from botschaft.domain.campaign import (
    CANCELLABLE,
    EDITABLE,
    STARTABLE,
    CampaignInvalid,
    CampaignStateConflict,
    CampaignStatus,
    parse_content,
)
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.errors import BotschaftError, InvalidTimeZone, NotFound
from botschaft.services.audit import record_audit
from botschaft.services.campaign_checks import check_or_refuse, lint_stored
from botschaft.services.campaign_content import allowed_fields, declared_keys
from botschaft.services.campaign_planning import PlanResult, plan_campaign
from botschaft.services.clicks import ensure_links
from botschaft.services.context import Context
from botschaft.services.personalisation import check_template
from botschaft.storage.broadcast import Audience, Campaign, Delivery, bump_skips

log = logging.getLogger(__name__)

CANCELLED_REASON = "cancelled"


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    channel: ChannelKind
    audience_id: int
    content: dict[str, Any]
    purpose: str = MARKETING
    track_links: bool = True


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    status: CampaignStatus
    channel: ChannelKind
    purpose: str
    audience_id: int
    content: dict[str, Any]
    track_links: bool
    scheduled_at: datetime | None
    time_zone: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    planned_count: int
    sent: int
    delivered: int
    read: int
    failed: int
    clicked: int
    skipped: int


def create_campaign(ctx: Context, spec: CampaignSpec) -> CampaignView:
    """A draft campaign; its content and personalisation are checked now, not at send time."""
    name = " ".join(spec.name.split())
    if not name or len(name) > 200:
        raise CampaignInvalid("A campaign needs a name of 1 to 200 characters.")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if session.get(Audience, spec.audience_id) is None:
            raise NotFound(f"There is no audience #{spec.audience_id}.")
        content = _checked_content(session, spec.content)
        row = Campaign(
            name=name, status=CampaignStatus.DRAFT.value, channel=spec.channel.value,
            purpose=spec.purpose.strip() or MARKETING, audience_id=spec.audience_id,
            content=content, track_links=spec.track_links, time_zone=ctx.settings.default_time_zone,
            created_at=now, updated_at=now, planned_count=0, sent=0, delivered=0, read=0,
            failed=0, clicked=0, skipped=0,
        )
        session.add(row)
        session.flush()
        return view_of(row)


def update_content(ctx: Context, campaign_id: int, content: dict[str, Any]) -> CampaignView:
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        _require(row, EDITABLE, "changed")
        row.content = _checked_content(session, content)
        row.updated_at = ctx.clock.now()
        return view_of(row)


def _checked_content(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    content = parse_content(data)
    allowed = allowed_fields(declared_keys(session))
    for source in (content.text, *(content.template.params if content.template else ())):
        if source:
            check_template(source, allowed)
    return content.as_json()


def get_campaign(ctx: Context, campaign_id: int) -> CampaignView:
    with ctx.db.read() as session:
        return view_of(_get(session, campaign_id))


def list_campaigns(ctx: Context) -> list[CampaignView]:
    with ctx.db.read() as session:
        return [view_of(c) for c in session.scalars(select(Campaign).order_by(Campaign.id))]


def schedule_campaign(
    ctx: Context, campaign_id: int, send_at: datetime, time_zone: str | None, language: str,
    *, actor_id: int | None = None,
) -> CampaignView:
    """Schedule for ``send_at``: a wall time in ``time_zone`` (the business's by default),
    or an aware time. Refused if it is not in the future or the lint fails now."""
    zone_name = time_zone or ctx.settings.default_time_zone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(f"{zone_name!r} is not an IANA time zone (e.g. Europe/Berlin)",
                              key="app.error.timezone_unknown", zone=zone_name) from None
    moment = send_at if send_at.tzinfo is not None else send_at.replace(tzinfo=zone)
    if moment <= ctx.clock.now():
        raise CampaignInvalid(
            f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone_name}) is not in the future."
        )
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        _require(row, STARTABLE, "scheduled")
        check_or_refuse(session, ctx, row, language)
        row.status, row.scheduled_at, row.time_zone = (
            CampaignStatus.SCHEDULED.value, moment, zone_name,
        )
        row.updated_at = ctx.clock.now()
        _audit(session, ctx, actor_id, "scheduled", campaign_id,
               detail={"send_at": moment.isoformat(), "time_zone": zone_name})
        return view_of(row)


def start_campaign(ctx: Context, campaign_id: int, language: str, *,
                   actor_id: int | None = None) -> PlanResult:
    """Lint, make the tracked links, plan, and set ``running`` (``done`` if nobody is left).

    Raises ``CampaignLintFailed`` with the reasons when the lint fails, and
    ``CampaignStateConflict`` when the campaign is not a draft or scheduled, or is being
    started by someone else right now.
    """
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        _require(row, STARTABLE, "started")
        check_or_refuse(session, ctx, row, language)
        ensure_links(session, ctx, row)
        # Claim the start: of two starts at once, only one finds started_at empty.
        claimed = _rowcount(session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.started_at.is_(None))
            .values(started_at=now, updated_at=now)
        ))
        if not claimed:
            raise CampaignStateConflict(f"Campaign #{campaign_id} is being started already.")
        _audit(session, ctx, actor_id, "started", campaign_id)
    try:
        result = plan_campaign(ctx, campaign_id)
    except Exception:
        with ctx.db.write() as session:
            session.execute(
                update(Campaign).where(Campaign.id == campaign_id).values(started_at=None)
            )
        raise
    status = CampaignStatus.RUNNING if result.queued else CampaignStatus.DONE
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        row.status = status.value
        row.updated_at = ctx.clock.now()
        if status is CampaignStatus.DONE:
            row.finished_at = ctx.clock.now()
    log.info("campaign started", extra={"campaign_id": campaign_id, "status": status.value})
    return result


def pause_campaign(ctx: Context, campaign_id: int, *, actor_id: int | None = None
                   ) -> CampaignView:
    """Stop claiming its deliveries; those already being sent finish."""
    return _move(ctx, campaign_id, {CampaignStatus.RUNNING}, CampaignStatus.PAUSED, "paused",
                 actor_id=actor_id)


def resume_campaign(ctx: Context, campaign_id: int, *, actor_id: int | None = None
                    ) -> CampaignView:
    return _move(ctx, campaign_id, {CampaignStatus.PAUSED}, CampaignStatus.RUNNING, "resumed",
                 actor_id=actor_id)


def cancel_campaign(ctx: Context, campaign_id: int, *, actor_id: int | None = None
                    ) -> CampaignView:
    """Cancel: queued deliveries become ``skipped`` (``cancelled``); sent ones stay on record."""
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        _require(row, CANCELLABLE, "cancelled")
        row.status = CampaignStatus.CANCELLED.value
        row.finished_at = row.updated_at = ctx.clock.now()
        session.flush()
        moved = _rowcount(session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.state == "queued")
            .values(state="skipped", skip_reason=CANCELLED_REASON)
        ))
        bump_skips(session, campaign_id, {CANCELLED_REASON: moved})
        _audit(session, ctx, actor_id, "cancelled", campaign_id, detail={"skipped": moved})
        session.refresh(row)
        log.info("campaign cancelled", extra={"campaign_id": campaign_id, "skipped": moved})
        return view_of(row)


def start_due_campaigns(ctx: Context) -> int:
    """The scheduler's job: start every scheduled campaign whose time has come.

    A campaign the lint now refuses (say, the week's cap was reached since it was
    scheduled) goes back to ``draft``, with the reasons in the log.
    """
    now = ctx.clock.now()
    with ctx.db.read() as session:
        due = list(session.scalars(
            select(Campaign.id).where(
                Campaign.status == CampaignStatus.SCHEDULED.value, Campaign.scheduled_at <= now,
                Campaign.started_at.is_(None),
            ).order_by(Campaign.scheduled_at)
        ))
    started = 0
    for campaign_id in due:
        with ctx.db.write() as session:
            row = _get(session, campaign_id)
            findings = lint_stored(session, ctx, row)
            if findings:
                row.status = CampaignStatus.DRAFT.value
                log.warning("scheduled campaign refused by the lint",
                            extra={"campaign_id": campaign_id,
                                   "findings": [f.code for f in findings]})
                continue
        try:
            start_campaign(ctx, campaign_id, ctx.settings.default_language)
        except BotschaftError as error:
            # One campaign that cannot start (started meanwhile by hand, say) must not hold
            # up the others due in this round.
            log.warning("scheduled campaign not started",
                        extra={"campaign_id": campaign_id, "code": error.code})
            continue
        started += 1
    return started


def _move(ctx: Context, campaign_id: int, allowed: set[CampaignStatus],
          target: CampaignStatus, verb: str, *, actor_id: int | None) -> CampaignView:
    with ctx.db.write() as session:
        row = _get(session, campaign_id)
        _require(row, frozenset(allowed), verb)
        row.status, row.updated_at = target.value, ctx.clock.now()
        _audit(session, ctx, actor_id, verb, campaign_id)
        log.info(f"campaign {verb}", extra={"campaign_id": campaign_id})
        return view_of(row)


def _audit(session: Session, ctx: Context, actor_id: int | None, verb: str, campaign_id: int,
           *, detail: dict[str, object] | None = None) -> None:
    # Who sent what to whom is the question a complaint or an authority asks first; a
    # person in the app is named, the API, the command line and the scheduler are not.
    record_audit(session, actor_id, f"campaign.{verb}", f"campaign:{campaign_id}", detail,
                 at=ctx.clock.now())


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _require(row: Campaign, allowed: frozenset[CampaignStatus], verb: str) -> None:
    if CampaignStatus(row.status) not in allowed:
        raise CampaignStateConflict(
            f"Campaign #{row.id} is {row.status} and cannot be {verb} now."
        )


def _get(session: Session, campaign_id: int) -> Campaign:
    row = session.get(Campaign, campaign_id)
    if row is None:
        raise NotFound(f"There is no campaign #{campaign_id}.")
    return row


def view_of(row: Campaign) -> CampaignView:
    return CampaignView(
        id=row.id, name=row.name, status=CampaignStatus(row.status),
        channel=ChannelKind(row.channel), purpose=row.purpose, audience_id=row.audience_id,
        content=row.content, track_links=row.track_links, scheduled_at=row.scheduled_at,
        time_zone=row.time_zone, created_at=row.created_at, started_at=row.started_at,
        finished_at=row.finished_at, planned_count=row.planned_count, sent=row.sent,
        delivered=row.delivered, read=row.read, failed=row.failed, clicked=row.clicked,
        skipped=row.skipped,
    )
