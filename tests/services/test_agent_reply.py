"""An agent's reply: shortcuts, signature, files, templates and the HUMAN_AGENT tag, all
through the outbound gate; internal notes never leave."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from admin_login import create_app_user
from botschaft.channels.registry import Channels
from botschaft.domain.composer import SIGNATURE_DASH, InvalidShortcut
from botschaft.domain.errors import NotFound
from botschaft.domain.roles import Role
from botschaft.services.agent_reply import EmptyReply, Reply, send_reply
from botschaft.services.attachments import (
    AttachmentRefused,
    attachment_file,
    public_file,
    store_upload,
)
from botschaft.services.canned import Taken, save_canned
from botschaft.services.context import Context
from botschaft.services.inbox import list_messages
from botschaft.services.inbox_feed import Actor
from botschaft.services.notes import EmptyNote, add_note, notes_of
from botschaft.settings import ReplyTemplate
from inbox_people import writes

NUMBER = "+4915111111111"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def channels(ctx: Context) -> Channels:
    return Channels.from_settings(ctx.settings, ctx.clock)


@pytest.fixture
def anna(ctx: Context) -> Actor:
    user = create_app_user(ctx, role=Role.AGENT, name="Anna Schmidt").user
    return Actor(user.id, user.display_name)


@pytest.fixture
def reply(ctx, channels, anna):
    """Anna replies in a conversation."""

    def send(conversation, **fields):
        return asyncio.run(send_reply(ctx, channels, anna, conversation, Reply(**fields)))

    return send


def test_reply_is_signed_with_the_agents_first_name(ctx, channels, reply):
    conversation = writes(ctx, channels, NUMBER)

    [sent] = reply(conversation, text="Gern, ich schaue nach.")

    assert sent.status == "sent"
    assert sent.author == "agent"
    assert sent.text == f"Gern, ich schaue nach.\n\n{SIGNATURE_DASH} Anna"
    assert sent.payload == {"author_name": "Anna Schmidt"}


def test_agent_signs_with_their_own_signature_or_none(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBER)
    own = Actor(anna.id, "Anna Schmidt", "Anna, Reisebüro Sonnenschein")
    unsigned = Actor(anna.id, "Anna Schmidt", "")

    [signed] = asyncio.run(send_reply(ctx, channels, own, conversation, Reply("Hallo")))
    [plain] = asyncio.run(send_reply(ctx, channels, unsigned, conversation, Reply("Hallo")))

    assert signed.text == "Hallo\n\nAnna, Reisebüro Sonnenschein"
    assert plain.text == "Hallo"


def test_typed_shortcut_becomes_the_canned_response(ctx, channels, anna, reply):
    conversation = writes(ctx, channels, NUMBER)
    save_canned(ctx, anna, "/preis", "Die Reise kostet 1.290 € pro Person.")

    [sent] = reply(conversation, text="/preis")

    assert sent.text.startswith("Die Reise kostet 1.290 € pro Person.\n\n")


def test_a_shortcut_is_unique_and_must_be_typeable(ctx, anna):
    save_canned(ctx, anna, "preis", "a")
    with pytest.raises(Taken, match="/preis"):
        save_canned(ctx, anna, "PREIS", "b")
    with pytest.raises(InvalidShortcut):
        save_canned(ctx, anna, "zwei worte", "b")


def test_reply_outside_the_window_is_skipped_by_the_gate(ctx, channels, clock, reply):
    conversation = writes(ctx, channels, NUMBER)
    clock.advance(timedelta(hours=25))

    [skipped] = reply(conversation, text="Sind Sie noch da?")

    assert (skipped.status, skipped.skip_reason) == ("skipped", "window_closed")


def test_approved_template_goes_outside_the_window_with_its_parameters(
    ctx, channels, clock, reply
):
    ctx.settings.inbox.templates = [ReplyTemplate(
        name="service_follow_up", language="de",
        text="Hallo {{1}}, hier ist {{2}} von {{3}}: Ihre Antwort ist da.",
        parameters=["contact_name", "agent_name", "business_name"])]
    conversation = writes(ctx, channels, NUMBER, name="Jonas")
    clock.advance(timedelta(days=3))

    [sent] = reply(conversation, template="service_follow_up")

    assert sent.status == "sent"
    assert sent.text == "Hallo Jonas, hier ist Anna Schmidt von Botschaft: Ihre Antwort ist da."
    assert sent.payload["template"]["name"] == "service_follow_up"
    with pytest.raises(NotFound):
        reply(conversation, template="not_approved")


def test_files_go_after_the_text_and_stay_downloadable(ctx, channels, anna, reply):
    conversation = writes(ctx, channels, NUMBER)
    upload = store_upload(ctx, anna, conversation, filename="../Angebot Mallorca.pdf",
                          mime_type="application/pdf", data=b"%PDF-1.7 offer")
    image = store_upload(ctx, anna, conversation, filename="strand.png",
                         mime_type="image/png", data=PNG)

    text, pdf, png = reply(conversation, text="Anbei das Angebot",
                           attachment_ids=(upload.id, image.id))

    assert [m.content_type for m in (text, pdf, png)] == ["text", "document", "image"]
    assert pdf.payload["media"]["filename"] == "Angebot Mallorca.pdf"
    token = pdf.payload["media"]["url"].rsplit("/", 1)[1]
    view, path = public_file(ctx, token)
    assert view.message_id == pdf.id and path.read_bytes() == b"%PDF-1.7 offer"
    assert attachment_file(ctx, image.id)[1].read_bytes() == PNG
    with pytest.raises(NotFound):  # sent already: it cannot ride along a second time
        reply(conversation, text="noch mal", attachment_ids=(upload.id,))


def test_too_large_or_empty_files_are_refused_naming_the_setting(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBER)
    ctx.settings.inbox.max_attachment_mb = 1

    with pytest.raises(AttachmentRefused, match="BOTSCHAFT_INBOX__MAX_ATTACHMENT_MB"):
        store_upload(ctx, anna, conversation, filename="big.bin",
                     mime_type="application/octet-stream", data=b"0" * (1024 * 1024 + 1))
    with pytest.raises(AttachmentRefused):
        store_upload(ctx, anna, conversation, filename="x", mime_type="text/plain", data=b"")


def test_empty_reply_is_refused(ctx, channels, reply):
    conversation = writes(ctx, channels, NUMBER)

    with pytest.raises(EmptyReply):
        reply(conversation, text="   ")


def test_internal_note_is_kept_and_never_sent(ctx, channels, anna):
    conversation = writes(ctx, channels, NUMBER)
    before = list_messages(ctx, conversation)

    add_note(ctx, anna, conversation, "  Kundin ruft morgen an  ")

    assert [(n.author_name, n.text) for n in notes_of(ctx, conversation)] == [
        ("Anna Schmidt", "Kundin ruft morgen an")]
    assert list_messages(ctx, conversation) == before
    with pytest.raises(EmptyNote):
        add_note(ctx, anna, conversation, " ")
