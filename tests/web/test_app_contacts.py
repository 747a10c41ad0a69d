"""Contacts in the admin app: search, the contact page, and a withdrawal the team records."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from admin_login import create_app_user, logged_in_client
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.domain.roles import Role
from botschaft.services.audit import list_audit
from botschaft.services.consent import ConsentRecord, consent_state, record_consent
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contacts import ContactView, create_contact
from botschaft.services.context import Context
from botschaft.storage.models import ConsentEvent
from web_app import RunningApp


def _subscribed(ctx: Context, contact: ContactView, text: PublishedText) -> None:
    for kind in (ConsentEventKind.REQUESTED, ConsentEventKind.CONFIRMED):
        record_consent(ctx, ConsentRecord(
            contact_id=contact.id, channel=ChannelKind.WHATSAPP, purpose="marketing",
            kind=kind, source=ConsentSource.WEB_FORM, consent_text_id=text.id,
            ip="203.0.113.7"))


def _ledger_rows(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count(ConsentEvent.seq))) or 0


def test_search_finds_a_contact_by_name_and_by_a_number_typed_the_national_way(
    running_app: RunningApp, contact: ContactView,
) -> None:
    create_contact(running_app.ctx, identities=[(ChannelKind.TELEGRAM, "777001")],
                   display_name="Bernd Beispiel")
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        by_name = client.get("/app/contacts", params={"q": "müller"}).text
        by_number = client.get("/app/contacts", params={"q": "0151 2345"}).text
        nothing = client.get("/app/contacts", params={"q": "Zacharias"}).text
    assert "Anna Müller" in by_name and "Bernd Beispiel" not in by_name
    assert "Anna Müller" in by_number and "Bernd Beispiel" not in by_number
    assert "No contact matches this search." in nothing


def test_the_contact_list_pages_by_id_without_offset(running_app: RunningApp) -> None:
    for number in range(55):
        create_contact(running_app.ctx, identities=[(ChannelKind.TELEGRAM, f"9{number:04d}")],
                       display_name=f"Person {number:02d}")
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        first = client.get("/app/contacts").text
        older = re.search(r'before=(\d+)', first)
        assert older is not None
        second = client.get("/app/contacts", params={"before": older.group(1)}).text
    assert "Person 54" in first and "Person 04" not in first
    assert "Person 04" in second and "Person 54" not in second
    assert "before=" not in second  # the last page offers no older one


def test_the_contact_page_shows_identities_conversations_and_the_ledgers_history(
    running_app: RunningApp, contact: ContactView, text_version: PublishedText,
) -> None:
    _subscribed(running_app.ctx, contact, text_version)
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        page = client.get(f"/app/contacts/{contact.id}").text
    assert "+4915123456789" in page
    assert "subscribed" in page
    assert "Requested (double opt-in sent)" in page and "Confirmed" in page
    assert "203.0.113.7" in page
    assert "text matches its hash" in page


def test_an_agent_records_a_withdrawal_with_a_reason_as_a_new_ledger_event_and_audit_row(
    running_app: RunningApp, contact: ContactView, text_version: PublishedText,
) -> None:
    ctx = running_app.ctx
    _subscribed(ctx, contact, text_version)
    agent = create_app_user(ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        answer = client.post(f"/app/contacts/{contact.id}/withdrawals", data=client.form({
            "subject": "whatsapp/marketing", "reason": "Asked by phone on Monday"}))
        assert answer.status_code == 303
        page = client.get(answer.headers["location"]).text
    assert "The withdrawal is recorded in the ledger." in page
    with ctx.db.read() as session:
        state = consent_state(session, ctx, contact.id, ChannelKind.WHATSAPP, "marketing")
        last = session.scalars(select(ConsentEvent).order_by(ConsentEvent.seq.desc())).first()
    assert state.status is ConsentStatus.WITHDRAWN
    assert last is not None and (last.source, last.note) == ("agent", "Asked by phone on Monday")
    entry = list_audit(ctx, action_prefix="consent.")[0]
    assert (entry.actor_id, entry.target) == (agent.id, f"contact:{contact.id}")
    assert entry.detail["seq"] == last.seq


def test_a_withdrawal_without_a_reason_is_refused_and_writes_nothing(
    running_app: RunningApp, contact: ContactView, text_version: PublishedText,
) -> None:
    _subscribed(running_app.ctx, contact, text_version)
    before = _ledger_rows(running_app.ctx)
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        answer = client.post(f"/app/contacts/{contact.id}/withdrawals", data=client.form({
            "subject": "whatsapp/marketing", "reason": " "}))
    assert answer.status_code == 422
    assert "how the person asked" in answer.text
    assert _ledger_rows(running_app.ctx) == before


def test_an_unknown_contact_is_a_not_found_page(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.get("/app/contacts/999")
    assert answer.status_code == 404
    assert "Not found" in answer.text
