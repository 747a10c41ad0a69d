"""Tables of the broadcast engine: audiences, campaigns, deliveries, short links and clicks.

A campaign's status
-------------------
``draft`` -> ``scheduled`` (a time is set) -> ``running`` (planned; the dispatcher sends)
-> ``done``; ``running`` <-> ``paused``; ``draft``/``scheduled``/``running``/``paused`` ->
``cancelled``. Starting (now, or by the scheduler when ``scheduled_at`` is due) plans the
campaign in the same step: its deliveries exist once it is ``running``. The dispatcher only
claims deliveries of ``running`` campaigns, so pausing needs no change to any delivery.

A delivery's state, and whose code moves it
-------------------------------------------
One row per (campaign, contact): the durable queue and the record at once::

    (planning) ──▶ queued ──claim──▶ sending ──accepted──▶ sent ──▶ delivered ──▶ read
         │            ▲  │              │  │                 │          │
         │            │  │ cancel       │  └──▶ failed ◀─────┴──────────┘
         ▼            │  ▼              │
      skipped ◀───────┼─ skipped        └──(gate says no at send time)──▶ skipped
                      └──── requeue (rate limit, transient error, 131049 deferral)

- Planning (B1, ``services/campaign_planning.plan_campaign``) writes every row, ``queued``
  or ``skipped`` with the gate's reason (``no_consent``, ``withdrawn``, ``paused``,
  ``erased``, ``unreachable``, ``suppressed``, ``frequency_cap``, ``window_closed``).
- Cancelling (B1, ``services/campaigns.cancel_campaign``): ``queued`` -> ``skipped`` with
  reason ``cancelled``. Rows already ``sending`` are left to the dispatcher.
- The dispatcher (B2): ``queued`` -> ``sending`` when claimed (``claimed_by``, ``claimed_at``,
  ``attempts + 1``), marked before the provider request (at most once); ``sending`` ->
  ``sent`` (``provider_message_id``, ``sent_at``), -> ``queued`` again with ``not_before``
  (slow-down answers, transient errors within the retry limit, WhatsApp's 131049 per-user
  limit: 24 h), -> ``failed`` (``error_code``, ``error_detail``), or -> ``skipped`` when the
  gate re-checked at the moment of sending says no, or for a marketing template to a +1
  number (reason ``us_marketing_template``). A STOP during a campaign moves the person's
  ``queued`` rows to ``skipped`` (``withdrawn``; ``skip_pending_of`` does it). Rows left
  ``sending`` by a crash stay so and are reported; only an operator's word sends them again.
- Status webhooks (B2): ``sent`` -> ``delivered`` -> ``read``; ``sent``/``delivered`` ->
  ``failed``. ``status_at`` is the time of the last such move.
- Clicks (B1, ``services/clicks``) attach to a delivery and change no state.

Counters
--------
A campaign's counters are kept up to date by whoever moves a delivery, with
``bump_counters`` (``UPDATE … SET n = n + :d``) in the same transaction as the move; skips
are also counted per reason in ``campaign_skips`` (``bump_skips``). Nothing counts the
deliveries of a campaign to show a number. ``sent`` counts rows the provider accepted
(whatever came after), ``delivered`` rows reported delivered or read, ``read`` rows reported
read, ``failed`` and ``skipped`` rows in those states, ``clicked`` recorded clicks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from botschaft.storage.models import Base
from botschaft.storage.types import UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

COUNTERS = ("sent", "delivered", "read", "failed", "clicked", "skipped")


class Audience(Base):
    """A saved rule (``domain/audience.AudienceRule`` as JSON), evaluated at send time."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # draft | scheduled | running | paused | done | cancelled
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64), default="marketing")
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id"))
    # services/campaign_content.CampaignContent as JSON: kind (text | media | buttons |
    # template), text, media url, buttons, template name/language/params.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    track_links: Mapped[bool] = mapped_column(Boolean, default=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # UTC
    time_zone: Mapped[str] = mapped_column(String(64))  # the zone the schedule was given in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_count: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    read: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)


class CampaignSkip(Base):
    """How many deliveries of a campaign were skipped for one reason (a counter)."""

    __tablename__ = "campaign_skips"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """One message of a campaign to one contact; see the module docstring for its states.

    No foreign keys, on purpose: rows are written only by planning, which selects them from
    ``contacts`` for an existing campaign, and checking two keys per row would cost more
    than the rest of a million-row plan (measured: 5 s of 15 s at 200,000 rows).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_delivery_contact"),
        Index("ix_deliveries_claim", "campaign_id", "state", "id"),
        # A person's deliveries: pending ones for a STOP, sent ones for the frequency cap.
        Index("ix_deliveries_contact", "contact_id", "state"),
        # Only sent rows have a provider id: a partial index costs nothing while planning.
        Index("ix_deliveries_provider_id", "channel", "provider_message_id",
              postgresql_where=text("provider_message_id IS NOT NULL"),
              sqlite_where=text("provider_message_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))  # the identity at plan time
    # queued | sending | sent | delivered | read | failed | skipped
    state: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL: now
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShortLink(Base):
    """A campaign's link, served at ``/c/<code>``: one row per (campaign, URL)."""

    __tablename__ = "short_links"
    __table_args__ = (UniqueConstraint("campaign_id", "url", name="uq_short_link_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Click(Base):
    """A click on a short link. No IP or user agent is kept (privacy by default)."""

    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_link", "link_id", "clicked_at"),
        Index("ix_clicks_delivery", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("short_links.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)  # when the link carried it
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)


def bump_counters(session: Session, campaign_id: int, **deltas: int) -> None:
    """Add ``deltas`` (``sent=3, skipped=-1``…) to the campaign's counters in one UPDATE."""
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown campaign counters: {sorted(unknown)}")
    values = {name: getattr(Campaign, name) + delta for name, delta in deltas.items() if delta}
    if values:
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(values))


def bump_skips(session: Session, campaign_id: int, counts: dict[str, int]) -> None:
    """Count skipped deliveries per reason, and in the campaign's ``skipped`` total."""
    counts = {reason: n for reason, n in counts.items() if n}
    if not counts:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for reason, n in counts.items():
        statement = insert(CampaignSkip).values(campaign_id=campaign_id, reason=reason, count=n)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CampaignSkip.campaign_id, CampaignSkip.reason],
                set_={"count": CampaignSkip.count + n},
            )
        )
    bump_counters(session, campaign_id, skipped=sum(counts.values()))


ACTIVE_STATUSES = ("scheduled", "running", "paused")


def skip_pending_of(session: Session, contact_id: int, channel: str, reason: str
                    ) -> dict[int, int]:
    """Skip the person's queued deliveries on ``channel`` in every active campaign (a STOP
    during a campaign); counts them per reason. Returns campaign id -> rows skipped.

    Goes campaign by campaign so that each UPDATE is one probe of ``uq_delivery_contact``.
    (A query by contact alone finds them through ``ix_deliveries_contact`` as well.)
    """
    campaign_ids = session.scalars(
        select(Campaign.id).where(Campaign.status.in_(ACTIVE_STATUSES),
                                  Campaign.channel == channel)
    ).all()
    skipped: dict[int, int] = {}
    for campaign_id in campaign_ids:
        result = session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.contact_id == contact_id,
                   Delivery.state == "queued")
            .values(state="skipped", skip_reason=reason)
        )
        moved = int(getattr(result, "rowcount", 0) or 0)
        if moved:
            bump_skips(session, campaign_id, {reason: moved})
            skipped[campaign_id] = moved
    return skipped
