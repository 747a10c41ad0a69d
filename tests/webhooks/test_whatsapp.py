"""WhatsApp end to end: statuses, provider errors, marketing preferences, STOP, the 24 h rule.

The fake Cloud API delivers signed webhooks to the running app and takes its replies; the
assertions read the bearer API, the consent ledger and the stored identities.
"""

from __future__ import annotations

from datetime import timedelta

from botschaft.domain.consent import ConsentStatus
from botschaft.services.evidence import Proof, consent_proof
from webhooks.harness import Botschaft, Json, WhatsAppPerson


def _replied(app: Botschaft, person: WhatsAppPerson) -> tuple[Json, Json]:
    """The person wrote and an agent answered: the conversation and the sent reply."""
    person.deliver(person.writes("Gibt es das Angebot noch?"))
    conversation = app.conversation_with(person)
    reply = app.reply(conversation, "Ja, bis Sonntag.")
    assert reply["status"] == "sent"
    return conversation, reply


def _proof(app: Botschaft, person: WhatsAppPerson) -> Proof:
    return consent_proof(app.ctx, f"whatsapp:{person.address}")


def _marketing(proof: Proof) -> ConsentStatus:
    states = {(s.channel, s.purpose): s.state.status for s in proof.states}
    return states.get(("whatsapp", "marketing"), ConsentStatus.NONE)


# -- statuses ---------------------------------------------------------------------------------


def test_sent_delivered_and_read_statuses_move_the_reply_forward(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    conversation, reply = _replied(app, whatsapp)
    wamid = app.provider_message_id(reply["id"])
    assert wamid is not None

    seen = []
    for status in ("sent", "delivered", "read"):
        whatsapp.deliver(whatsapp.fake.status_webhook(wamid, status, whatsapp.address))
        seen.append(app.wait_for_message(conversation, reply["id"], status)["status"])

    assert seen == ["sent", "delivered", "read"]


def test_a_late_delivered_status_does_not_downgrade_a_read_reply(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    conversation, reply = _replied(app, whatsapp)
    wamid = app.provider_message_id(reply["id"])
    assert wamid is not None
    whatsapp.deliver(whatsapp.fake.status_webhook(wamid, "read", whatsapp.address))
    app.wait_for_message(conversation, reply["id"], "read")

    whatsapp.deliver(whatsapp.fake.status_webhook(wamid, "delivered", whatsapp.address))

    assert [e.state for e in app.settle()][-1] == "handled"
    assert app.message(conversation, reply["id"])["status"] == "read"


def test_a_failed_status_with_131050_records_a_marketing_withdrawal_from_the_provider(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.fake.fail_next(whatsapp.address, 131050, asynchronous=True)
    conversation, reply = _replied(app, whatsapp)

    [failed_status] = whatsapp.fake.pending_webhooks
    whatsapp.deliver(failed_status)

    failed = app.wait_for_message(conversation, reply["id"], "failed")
    assert failed["error_code"] == "131050"
    proof = _proof(app, whatsapp)
    assert [(e.kind, e.source, e.purpose) for e in proof.events] == [
        ("withdrawn", "provider", "marketing")
    ]
    assert _marketing(proof) is ConsentStatus.WITHDRAWN


def test_a_failed_status_with_131026_makes_the_next_reply_skip_as_unreachable(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.fake.fail_next(whatsapp.address, 131026, asynchronous=True)
    conversation, reply = _replied(app, whatsapp)
    [failed_status] = whatsapp.fake.pending_webhooks
    whatsapp.deliver(failed_status)
    app.wait_for_message(conversation, reply["id"], "failed")

    next_reply = app.reply(conversation, "Hallo? Sind Sie noch da?")

    assert app.identity(whatsapp.channel, whatsapp.address).unreachable_at is not None
    assert (next_reply["status"], next_reply["skip_reason"]) == ("skipped", "unreachable")
    assert len(whatsapp.sent()) == 1


# -- marketing preferences inside WhatsApp ----------------------------------------------------


def test_a_user_preferences_stop_records_a_marketing_withdrawal_from_the_provider(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Hallo"))
    app.conversation_with(whatsapp)

    whatsapp.deliver(whatsapp.fake.preference_webhook(whatsapp.address, "stop"))

    app.settle()
    proof = _proof(app, whatsapp)
    assert [(e.kind, e.source, e.purpose) for e in proof.events] == [
        ("withdrawn", "provider", "marketing")
    ]
    assert _marketing(proof) is ConsentStatus.WITHDRAWN


def test_a_stop_from_someone_never_seen_is_kept_as_their_objection(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.fake.preference_webhook(whatsapp.address, "stop"))

    assert [e.state for e in app.settle()] == ["handled"]
    proof = _proof(app, whatsapp)
    assert [(e.kind, e.source) for e in proof.events] == [("withdrawn", "provider")]
    assert _marketing(proof) is ConsentStatus.WITHDRAWN


def test_a_user_preferences_resume_changes_no_consent(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Hallo"))
    app.conversation_with(whatsapp)
    whatsapp.deliver(whatsapp.fake.preference_webhook(whatsapp.address, "stop"))
    app.settle()
    app.clock.advance(timedelta(minutes=5))

    whatsapp.deliver(whatsapp.fake.preference_webhook(whatsapp.address, "resume"))

    assert [e.state for e in app.settle()][-1] == "handled"
    proof = _proof(app, whatsapp)
    assert [e.kind for e in proof.events] == ["withdrawn"]
    assert _marketing(proof) is ConsentStatus.WITHDRAWN


# -- STOP -------------------------------------------------------------------------------------


def test_writing_again_after_stop_opens_the_window_but_marketing_stays_withdrawn(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("STOP"))
    conversation = app.conversation_with(whatsapp)
    app.wait_for_message_where(conversation, lambda m: m["direction"] == "out")
    app.clock.advance(timedelta(minutes=10))

    whatsapp.deliver(whatsapp.writes("Eine Frage zu meiner Bestellung noch"))
    app.wait_for_message_where(conversation, lambda m: m["text"].startswith("Eine Frage"))
    answer = app.reply(conversation, "Gern, worum geht es?")

    assert answer["status"] == "sent"
    assert [s.text for s in whatsapp.sent()][-1] == "Gern, worum geht es?"
    assert _marketing(_proof(app, whatsapp)) is ConsentStatus.WITHDRAWN


def test_help_is_answered_through_the_provider_with_the_business_name(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Hilfe?"))

    conversation = app.conversation_with(whatsapp)
    app.wait_for_message_where(
        conversation, lambda m: m["direction"] == "out" and m["status"] == "sent"
    )
    [answer] = whatsapp.sent()
    assert answer.recipient == whatsapp.recipient
    assert "Botschaft" in (answer.text or "")
    assert "STOP" in (answer.text or "")
    assert _proof(app, whatsapp).events == ()


# -- the 24-hour customer-service window ------------------------------------------------------


def test_a_reply_more_than_24_hours_after_the_persons_message_is_skipped_as_window_closed(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Wann kommt mein Paket?"))
    conversation = app.conversation_with(whatsapp)
    app.clock.advance(timedelta(hours=25))

    answer = app.reply(conversation, "Entschuldigung für die späte Antwort!")

    assert (answer["status"], answer["skip_reason"]) == ("skipped", "window_closed")
    assert whatsapp.sent() == []


# -- people known only by their business-scoped user id (WhatsApp usernames, 2026) ------------

BSUID = "US.13491208655302741918"


def test_a_message_from_a_person_without_a_visible_number_reaches_the_inbox(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.fake.receive_from(BSUID, "Hallo, ich bin's", name="Jürgen"))

    assert [(e.state, e.error) for e in app.settle()] == [("handled", None)]
    [conversation] = app.conversations(whatsapp.channel)
    assert (conversation["address"], conversation["contact_name"]) == (BSUID, "Jürgen")
