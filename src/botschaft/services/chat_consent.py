"""Consent in the chat: STOP, HELP, START and the codes of sign-up pages.

Runs inside the inbound lane's transaction for one message and returns the replies to send
once it committed. The person's own message is the evidence of every step it takes:

- STOP (any opt-out word) withdraws at once, closes their open requests, and gets exactly
  one confirmation.
- START with a pending double opt-in confirms it; START after the consent text was sent in
  the chat grants it; START with neither gets the consent text of the channel's default
  sign-up page, and subscribes nobody yet.
- ``START <code>`` (or a Telegram ``/start <code>``, a Messenger ``ref``) ties the message
  to an agreement made on a page: ``requested`` with the page's time, IP and text, then
  ``confirmed`` by this message, written from the person's own account.
- Any other message subscribes nobody: a question opens the service window and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from botschaft.channels.events import InboundKind, InboundMessage
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import (
    MARKETING,
    SERVICE,
    ConsentEventKind,
    ConsentSource,
    ConsentStatus,
    derive_state,
)
from botschaft.domain.gate import MessageKind
from botschaft.domain.keywords import KeywordFamily, KeywordSet, normalise_message
from botschaft.domain.signup import RequestKind, RequestState, start_code
from botschaft.i18n import pick_language, translate
from botschaft.services.consent import ConsentRecord, consent_state, record_in, withdraw_in
from botschaft.services.consent_texts import draft_of
from botschaft.services.context import Context
from botschaft.services.opt_in_requests import (
    add_request,
    open_request_by_code,
    open_requests_of,
    settle,
)
from botschaft.services.preference_links import preference_url
from botschaft.services.signup import default_page_for, page_by_id
from botschaft.services.signup_form import opt_in_word
from botschaft.storage import ledger
from botschaft.storage.models import ConsentText, Contact
from botschaft.storage.signup import OptInRequest


@dataclass(frozen=True)
class Reply:
    """A message the handling of an inbound message calls for, sent after it committed."""

    contact_id: int
    channel: ChannelKind
    text: str
    kind: MessageKind
    purpose: str = SERVICE


def chat_replies(
    session: Session, ctx: Context, contact: Contact, event: InboundMessage
) -> list[Reply]:
    """Apply what the message says about consent; return the replies it calls for."""
    words = ctx.settings.keywords.keyword_set()
    text = event.text if event.kind is InboundKind.TEXT else None
    code = event.start_token or (start_code(text, words.opt_in) if text else None)
    if code is not None:
        request = open_request_by_code(session, ctx, code)
        if request is not None and _redeemable(session, request, event.channel):
            return [_redeem(session, ctx, contact, event, request)]
        if _says_start(event.text, words):
            # An expired or unknown code: the person still asked to subscribe.
            return _listed(_start(session, ctx, contact, event))
    if not text:
        return []
    match words.match(text):
        case KeywordFamily.OPT_OUT:
            return [_stop(session, ctx, contact, event)]
        case KeywordFamily.HELP:
            return [_help(ctx, contact, event.channel)]
        case KeywordFamily.OPT_IN:
            return _listed(_start(session, ctx, contact, event))
    return []


def _listed(reply: Reply | None) -> list[Reply]:
    return [reply] if reply is not None else []


def _says_start(text: str | None, words: KeywordSet) -> bool:
    first = normalise_message(text or "").split()[:1]
    return bool(first) and first[0] in words.opt_in


def _redeemable(session: Session, request: OptInRequest, channel: ChannelKind) -> bool:
    if request.kind != RequestKind.PAGE_AGREEMENT.value or request.page_id is None:
        return False
    page = page_by_id(session, request.page_id)
    # The text the visitor agreed to names the page's channels; another one is not covered.
    return page is not None and channel in page.channels


def _stop(session: Session, ctx: Context, contact: Contact, event: InboundMessage) -> Reply:
    withdraw_in(
        session, ctx, contact.id, event.channel, ConsentSource.KEYWORD,
        evidence=event.text, provider_message_id=event.provider_message_id,
    )
    settle(ctx, open_requests_of(session, ctx, contact.id, event.channel),
           RequestState.CANCELLED)
    text = translate(_language(ctx, contact), "chat.stop_confirmation",
                     sender=ctx.settings.business.name)
    return Reply(contact.id, event.channel, text, MessageKind.STOP_CONFIRMATION)


def _help(ctx: Context, contact: Contact, channel: ChannelKind) -> Reply:
    language, sender = _language(ctx, contact), ctx.settings.business.name
    privacy = ctx.settings.business.privacy_policy_url
    text = (
        translate(language, "chat.help", sender=sender, privacy_url=privacy)
        if privacy
        else translate(language, "chat.help_no_privacy_url", sender=sender)
    )
    return Reply(contact.id, channel, text, MessageKind.SERVICE)


def _start(
    session: Session, ctx: Context, contact: Contact, event: InboundMessage
) -> Reply | None:
    channel = event.channel
    pending = _pending(session, ctx, contact.id, channel)
    if pending:
        for purpose, source in pending:
            record_in(session, ctx, _agreement(contact, event, purpose,
                                               ConsentEventKind.CONFIRMED, source))
        settle(ctx, open_requests_of(session, ctx, contact.id, channel, RequestKind.WEB_FORM),
               RequestState.REDEEMED)
        purposes = [purpose for purpose, _ in pending]
        chosen = MARKETING if MARKETING in purposes else purposes[0]
        return _welcome(ctx, contact, channel, chosen)
    offers = open_requests_of(session, ctx, contact.id, channel, RequestKind.KEYWORD)
    if offers:
        offer = offers[-1]
        settle(ctx, offers, RequestState.REDEEMED)
        if consent_state(session, ctx, contact.id, channel, offer.purpose).allows_marketing:
            return _already(ctx, contact, channel)
        record_in(session, ctx, _agreement(
            contact, event, offer.purpose, ConsentEventKind.GRANTED, ConsentSource.KEYWORD,
            consent_text_id=offer.consent_text_id,
            note="agreed in the chat to the consent text sent there",
        ))
        return _welcome(ctx, contact, channel, offer.purpose)
    return _offer(session, ctx, contact, channel)


def _offer(
    session: Session, ctx: Context, contact: Contact, channel: ChannelKind
) -> Reply | None:
    """START without anything to answer: send the consent text; subscribe nobody yet.

    Without a sign-up page on the channel there is no text to agree to: the message goes to
    the inbox like any other (a Telegram bot's plain /start is one of those).
    """
    language = _language(ctx, contact)
    page = default_page_for(session, channel)
    if page is None:
        return None
    if consent_state(session, ctx, contact.id, channel, page.purpose).allows_marketing:
        return _already(ctx, contact, channel)
    if language not in page.languages:
        language = page.languages[0]
    text_id = page.text_id(language)
    add_request(session, ctx, kind=RequestKind.KEYWORD, purpose=page.purpose,
                consent_text_id=text_id, language=language, page_id=page.id,
                channel=channel, contact_id=contact.id)
    shown = draft_of(session.get_one(ConsentText, text_id)).rendered()
    text = translate(language, "chat.consent_offer", sender=ctx.settings.business.name,
                     text=shown, word=opt_in_word(ctx),
                     hours=ctx.settings.double_opt_in_expiry_hours)
    return Reply(contact.id, channel, text, MessageKind.SERVICE)


def _redeem(
    session: Session, ctx: Context, contact: Contact, event: InboundMessage,
    request: OptInRequest,
) -> Reply:
    """The first message from a page's code: the agreement, then this message confirming it."""
    channel = event.channel
    # The person read the page in this language; it is the best we know of theirs.
    contact.language = request.language
    settle(ctx, [request], RequestState.REDEEMED, contact_id=contact.id, channel=channel)
    if consent_state(session, ctx, contact.id, channel, request.purpose).allows_marketing:
        return _already(ctx, contact, channel)
    page = page_by_id(session, request.page_id) if request.page_id is not None else None
    record_in(session, ctx, ConsentRecord(
        contact_id=contact.id, channel=channel, purpose=request.purpose,
        kind=ConsentEventKind.REQUESTED, source=ConsentSource.QR,
        consent_text_id=request.consent_text_id, ip=request.ip, user_agent=request.user_agent,
        occurred_at=request.created_at,
        note=f"agreed on the sign-up page /join/{page.slug if page else '?'}",
    ))
    record_in(session, ctx, _agreement(contact, event, request.purpose,
                                       ConsentEventKind.CONFIRMED, ConsentSource.QR))
    return _welcome(ctx, contact, channel, request.purpose)


def _agreement(
    contact: Contact, event: InboundMessage, purpose: str, kind: ConsentEventKind,
    source: ConsentSource, *, consent_text_id: int | None = None, note: str | None = None,
) -> ConsentRecord:
    evidence = event.text if event.text else f"ref={event.start_token}"
    return ConsentRecord(
        contact_id=contact.id, channel=event.channel, purpose=purpose, kind=kind,
        source=source, consent_text_id=consent_text_id, evidence=evidence,
        provider_message_id=event.provider_message_id, note=note,
    )


def _pending(
    session: Session, ctx: Context, contact_id: int, channel: ChannelKind
) -> list[tuple[str, ConsentSource]]:
    """The purposes with an open double opt-in on ``channel``, each with its request's source."""
    rows = [r for r in ledger.contact_events(session, contact_id) if r.channel == channel.value]
    found = []
    for purpose in sorted({r.purpose for r in rows}):
        subject = [r for r in rows if r.purpose == purpose]
        state = derive_state(ledger.facts_of(subject), ctx.clock.now(),
                             ctx.settings.double_opt_in_expiry)
        if state.status is ConsentStatus.PENDING:
            request = next(r for r in reversed(subject)
                           if r.kind == ConsentEventKind.REQUESTED.value)
            found.append((purpose, ConsentSource(request.source)))
    return found


def _welcome(ctx: Context, contact: Contact, channel: ChannelKind, purpose: str) -> Reply:
    """Subscribed: how to stop, the right to object (GDPR Art. 21(4)), the preference link."""
    words = ctx.settings.keywords.opt_out
    text = translate(
        _language(ctx, contact), "chat.welcome", sender=ctx.settings.business.name,
        stop=words[0].strip().upper() if words else "STOP",
        link=preference_url(ctx, contact.id, channel),
    )
    return Reply(contact.id, channel, text, MessageKind.WELCOME, purpose)


def _already(ctx: Context, contact: Contact, channel: ChannelKind) -> Reply:
    text = translate(_language(ctx, contact), "chat.already_subscribed",
                     sender=ctx.settings.business.name)
    return Reply(contact.id, channel, text, MessageKind.SERVICE)


def _language(ctx: Context, contact: Contact) -> str:
    return pick_language(contact.language, ctx.settings.default_language)
