from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import (
    MARKETING,
    ConsentEventKind,
    ConsentSource,
    ConsentStatus,
)
from botschaft.domain.errors import ConsentConflict
from botschaft.services.clock import ManualClock
from botschaft.services.consent import (
    ConsentRecord,
    consent_state,
    expire_overdue_requests,
    record_consent,
)
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context
from botschaft.services.evidence import verify_ledger
from botschaft.storage.models import ConsentEvent


def _record(contact: ContactView, kind: ConsentEventKind, **extra: object) -> ConsentRecord:
    fields: dict[str, object] = {
        "contact_id": contact.id,
        "channel": ChannelKind.WHATSAPP,
        "purpose": MARKETING,
        "kind": kind,
        "source": ConsentSource.WEB_FORM,
    }
    fields.update(extra)
    return ConsentRecord(**fields)  # type: ignore[arg-type]


def _state(ctx: Context, contact: ContactView) -> ConsentStatus:
    with ctx.db.read() as session:
        return consent_state(session, ctx, contact.id, ChannelKind.WHATSAPP, MARKETING).status


def test_double_opt_in_becomes_active_only_when_confirmed(
    ctx: Context, contact: ContactView, text_version: PublishedText, clock: ManualClock
) -> None:
    requested = record_consent(
        ctx,
        _record(contact, ConsentEventKind.REQUESTED, consent_text_id=text_version.id,
                ip="203.0.113.7", user_agent="Firefox/140"),
    )
    assert requested.state.status is ConsentStatus.PENDING
    clock.advance(timedelta(hours=3))
    confirmed = record_consent(
        ctx,
        _record(contact, ConsentEventKind.CONFIRMED, source=ConsentSource.KEYWORD,
                evidence="START", provider_message_id="wamid.abc"),
    )
    assert confirmed.state.status is ConsentStatus.ACTIVE
    assert _state(ctx, contact) is ConsentStatus.ACTIVE


def test_the_confirmation_carries_the_hash_of_the_requested_text(
    ctx: Context, contact: ContactView, text_version: PublishedText
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.REQUESTED,
                                consent_text_id=text_version.id))
    record_consent(ctx, _record(contact, ConsentEventKind.CONFIRMED))
    with ctx.db.read() as session:
        rows = session.scalars(select(ConsentEvent).order_by(ConsentEvent.seq)).all()
    assert [r.text_hash for r in rows] == [text_version.sha256, text_version.sha256]


def test_a_confirmation_after_the_expiry_is_refused(
    ctx: Context, contact: ContactView, text_version: PublishedText, clock: ManualClock
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.REQUESTED,
                                consent_text_id=text_version.id))
    clock.advance(timedelta(hours=48, seconds=1))
    with pytest.raises(ConsentConflict, match="no open double opt-in"):
        record_consent(ctx, _record(contact, ConsentEventKind.CONFIRMED))
    assert _state(ctx, contact) is ConsentStatus.EXPIRED


def test_the_scheduler_writes_expired_once_for_overdue_requests(
    ctx: Context, contact: ContactView, text_version: PublishedText, clock: ManualClock
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.REQUESTED,
                                consent_text_id=text_version.id))
    clock.advance(timedelta(hours=47))
    assert expire_overdue_requests(ctx) == 0
    clock.advance(timedelta(hours=2))
    assert expire_overdue_requests(ctx) == 1
    assert expire_overdue_requests(ctx) == 0
    with ctx.db.read() as session:
        last = session.scalars(select(ConsentEvent).order_by(ConsentEvent.seq.desc())).first()
    assert last is not None
    assert last.kind == "expired"
    assert last.source == "system"
    assert last.occurred_at == text_version.created_at + timedelta(hours=48)


def test_an_agreement_must_name_the_text_that_was_shown(
    ctx: Context, contact: ContactView
) -> None:
    with pytest.raises(ConsentConflict, match="must name the consent text"):
        record_consent(ctx, _record(contact, ConsentEventKind.GRANTED))


def test_a_text_for_another_purpose_is_refused(
    ctx: Context, contact: ContactView, text_version: PublishedText
) -> None:
    with pytest.raises(ConsentConflict, match="is for 'marketing'"):
        record_consent(
            ctx,
            _record(contact, ConsentEventKind.GRANTED, purpose="health_data",
                    consent_text_id=text_version.id),
        )


def test_an_import_cannot_resubscribe_someone_who_withdrew(
    ctx: Context, contact: ContactView, text_version: PublishedText
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.GRANTED,
                                consent_text_id=text_version.id))
    record_consent(ctx, _record(contact, ConsentEventKind.WITHDRAWN,
                                source=ConsentSource.KEYWORD, evidence="STOP"))
    with pytest.raises(ConsentConflict, match="only their own new agreement"):
        record_consent(
            ctx,
            _record(contact, ConsentEventKind.IMPORTED, source=ConsentSource.IMPORT,
                    consent_text_id=text_version.id),
        )
    assert _state(ctx, contact) is ConsentStatus.WITHDRAWN


def test_a_stop_without_any_consent_is_still_recorded(
    ctx: Context, contact: ContactView
) -> None:
    event = record_consent(ctx, _record(contact, ConsentEventKind.WITHDRAWN,
                                        source=ConsentSource.KEYWORD, evidence="Stopp!"))
    assert event.state.status is ConsentStatus.WITHDRAWN


def test_concurrent_appends_keep_the_chain_gapless_and_intact(ctx: Context) -> None:
    people = [
        create_contact(ctx, identities=[(ChannelKind.TELEGRAM, str(1000 + n))])
        for n in range(8)
    ]

    def stop_twice(person: ContactView) -> None:
        for _ in range(2):
            record_consent(
                ctx,
                ConsentRecord(person.id, ChannelKind.TELEGRAM, MARKETING,
                              ConsentEventKind.WITHDRAWN, ConsentSource.KEYWORD),
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(stop_twice, people))
    check = verify_ledger(ctx)
    assert check.broken is None
    assert check.rows == 16
    with ctx.db.read() as session:
        seqs = session.scalars(select(ConsentEvent.seq).order_by(ConsentEvent.seq)).all()
    assert list(seqs) == list(range(1, 17))


def test_a_pause_is_a_ledger_event_with_its_end_and_the_chain_holds(
    ctx: Context, contact: ContactView, text_version: PublishedText, clock: ManualClock
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.GRANTED,
                                consent_text_id=text_version.id))
    until = clock.now() + timedelta(weeks=2)
    paused = record_consent(ctx, _record(contact, ConsentEventKind.PAUSED,
                                         source=ConsentSource.WEB_FORM, until=until))
    assert paused.state.status is ConsentStatus.ACTIVE
    assert paused.state.paused_until == until
    with ctx.db.read() as session:
        row = session.scalars(select(ConsentEvent).order_by(ConsentEvent.seq.desc())).first()
    assert row is not None
    assert row.terms == f'{{"until": "{until.isoformat()}"}}'
    assert verify_ledger(ctx).intact


def test_a_pause_without_an_end_is_refused(
    ctx: Context, contact: ContactView, text_version: PublishedText
) -> None:
    record_consent(ctx, _record(contact, ConsentEventKind.GRANTED,
                                consent_text_id=text_version.id))
    with pytest.raises(ConsentConflict, match="until when"):
        record_consent(ctx, _record(contact, ConsentEventKind.PAUSED))
