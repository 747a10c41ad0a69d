"""Status webhooks that reach Botschaft before the answer to the send that they report on.

The fake provider holds its answer to the send, signs and POSTs the status webhook to the
running app and waits until the inbound lane has handled it; only then does Botschaft learn
the provider's message id.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from botschaft.channels.meta import sign
from botschaft.storage.early_statuses import EarlyStatus
from botschaft.storage.models import Message
from botschaft.testing.fake_messenger import AcceptedSend
from botschaft.testing.fake_whatsapp import AcceptedMessage
from webhooks.harness import Botschaft, Json, MessengerPerson, Provider, WhatsAppPerson


def _kept(app: Botschaft) -> int:
    with app.ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(EarlyStatus)) or 0


def _ids_known(app: Botschaft) -> list[str | None]:
    with app.ctx.db.read() as session:
        return list(session.scalars(select(Message.provider_message_id)
                                    .where(Message.direction == "out")))


async def _overtake(app: Botschaft, person: Provider, payloads: list[Json]) -> int:
    """POST the webhooks as the provider does, wait for the lane; how many were kept."""
    for payload in payloads:
        answer = await asyncio.to_thread(person.deliver, payload)
        assert answer.status_code == 200
    await asyncio.to_thread(app.settle)
    assert await asyncio.to_thread(_ids_known, app) == [None]  # the send is not answered yet
    return await asyncio.to_thread(_kept, app)


def test_read_and_delivered_before_the_send_is_answered_leave_the_reply_read(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Gibt es das Angebot noch?"))
    conversation = app.conversation_with(whatsapp)
    kept: list[int] = []

    async def read_first(accepted: AcceptedMessage) -> None:
        statuses = [whatsapp.fake.status_webhook(accepted.id, status, whatsapp.recipient)
                    for status in ("read", "delivered")]  # out of order, as Meta may
        kept.append(await _overtake(app, whatsapp, statuses))

    whatsapp.fake.before_answer = read_first
    reply = app.reply(conversation, "Ja, bis Sonntag.")

    assert kept == [2]
    assert reply["status"] == "read"
    assert app.provider_message_id(reply["id"]) == whatsapp.fake.sent[-1].id
    assert app.message(conversation, reply["id"])["status"] == "read"
    assert _kept(app) == 0


def test_the_same_status_webhook_twice_before_the_answer_is_kept_once(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Gibt es das Angebot noch?"))
    conversation = app.conversation_with(whatsapp)
    kept: list[int] = []

    async def delivered_twice(accepted: AcceptedMessage) -> None:
        status = whatsapp.fake.status_webhook(accepted.id, "delivered", whatsapp.recipient)
        kept.append(await _overtake(app, whatsapp, [status, status]))

    whatsapp.fake.before_answer = delivered_twice
    reply = app.reply(conversation, "Ja, bis Sonntag.")

    assert kept == [1]
    assert reply["status"] == "delivered"
    assert _kept(app) == 0


def test_a_failed_131026_before_the_answer_makes_the_next_reply_skip_as_unreachable(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    whatsapp.deliver(whatsapp.writes("Gibt es das Angebot noch?"))
    conversation = app.conversation_with(whatsapp)

    async def failed_first(accepted: AcceptedMessage) -> None:
        failed = whatsapp.fake.status_webhook(accepted.id, "failed", whatsapp.recipient,
                                              errors=[131026])
        await _overtake(app, whatsapp, [failed])

    whatsapp.fake.before_answer = failed_first
    reply = app.reply(conversation, "Ja, bis Sonntag.")
    whatsapp.fake.before_answer = None

    assert (reply["status"], reply["error_code"]) == ("failed", "131026")
    next_reply = app.reply(conversation, "Hallo? Sind Sie noch da?")
    assert (next_reply["status"], next_reply["skip_reason"]) == ("skipped", "unreachable")


def test_a_messenger_delivery_receipt_before_the_answer_leaves_the_reply_delivered(
    app: Botschaft, messenger: MessengerPerson
) -> None:
    messenger.deliver(messenger.writes("Ist der Tisch für heute Abend noch frei?"))
    conversation = app.conversation_with(messenger)

    async def delivered_first(accepted: AcceptedSend) -> None:
        receipt = messenger.fake.delivery_webhook(messenger.address, [accepted.message_id])
        await _overtake(app, messenger, [receipt])

    messenger.fake.before_answer = delivered_first
    reply = app.reply(conversation, "Ja, um 19 Uhr.")

    assert reply["status"] == "delivered"
    assert _kept(app) == 0


def test_a_status_webhook_with_a_forged_signature_is_refused_and_keeps_nothing(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    body = whatsapp.encode(whatsapp.fake.status_webhook("wamid.X", "read", whatsapp.recipient))

    answer = whatsapp.post(body, whatsapp.forged_credentials(body))

    assert answer.status_code == 403
    assert app.stored_events() == []
    assert _kept(app) == 0


def test_a_signed_status_without_its_message_id_is_a_dead_letter_and_keeps_nothing(
    app: Botschaft, whatsapp: WhatsAppPerson
) -> None:
    payload = whatsapp.fake.status_webhook("wamid.X", "delivered", whatsapp.recipient)
    del payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    body = json.dumps(payload).encode()

    # Verified but unreadable: 200 and a dead letter, so that Meta does not retry for days
    # (web/webhooks.py); a 4xx would not stop anyone, only Meta.
    answer = whatsapp.post(body, {"X-Hub-Signature-256": sign(whatsapp.fake.app_secret, body)})

    assert answer.status_code == 200
    assert [(e.kind, e.state) for e in app.settle()] == [("unreadable", "failed")]
    assert _kept(app) == 0
