"""A visitor submits a sign-up page: the double opt-in by number, or an agreement with a code.

Nothing is recorded or sent unless the form is ours (signed token naming the text shown),
the box was ticked and the abuse limits allow it. By number: the ledger gets ``requested``
(time, IP, user agent, text) and the number one double opt-in message through the gate.
Without a number: an agreement is stored, and its code ties the person's first chat message
to it (``services.chat_consent``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.channels.messages import (
    OutboundMessage,
    Template,
    TemplateComponent,
    TemplateParameter,
)
from botschaft.channels.registry import Channels
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.domain.errors import NotFound
from botschaft.domain.gate import MessageKind, Outbound
from botschaft.domain.phone import normalise_phone
from botschaft.domain.signup import (
    AgreementMissing,
    InvalidFormToken,
    RequestKind,
    check_ip_limit,
    check_number_limit,
    is_code,
    messenger_link,
    read_form_token,
    telegram_link,
    whatsapp_link,
)
from botschaft.i18n import translate
from botschaft.services.consent import ConsentRecord, consent_state, record_in
from botschaft.services.contacts import add_identity
from botschaft.services.context import Context
from botschaft.services.opt_in_requests import (
    add_request,
    open_request_by_code,
    serialise_consent_writes,
    submissions_from,
)
from botschaft.services.outbound import send_message
from botschaft.services.secret import signing_key
from botschaft.services.signup import SignupPageView
from botschaft.storage import ledger
from botschaft.storage.models import ChannelIdentity, Contact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """One press of a sign-up form's button, as the web layer read it."""

    page: SignupPageView
    form_token: str
    agreed: bool  # the checkbox, which the page never ticks for the visitor
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class RequestSent:
    """The double opt-in by number: what happened to the message."""

    number: str
    channel: ChannelKind
    language: str
    expires_at: datetime | None
    status: str  # sent | failed | skipped, or already_subscribed (nothing was sent)


@dataclass(frozen=True)
class Agreement:
    """An agreement without a number: the code the person sends from their own chat."""

    code: str
    language: str
    expires_at: datetime


def checked_text(ctx: Context, submission: Submission) -> int:
    """The consent text the form showed; refuses a foreign or stale form and a missing tick."""
    page = submission.page
    token = read_form_token(
        submission.form_token, page.slug, ctx.clock.now(), signing_key(ctx.settings)
    )
    if token.consent_text_id not in page.consent_text_ids.values():
        raise InvalidFormToken("The text of this page has changed. Please read it again.")
    if not submission.agreed:
        raise AgreementMissing("Please tick the box to agree, or leave the page.")
    return token.consent_text_id


async def request_by_number(
    ctx: Context, channels: Channels, submission: Submission, raw_number: str
) -> RequestSent:
    """Record ``requested`` for the number and send it the double opt-in message.

    Raises ``InvalidPhoneNumber`` (nothing recorded), ``LimitReached`` (nothing recorded,
    nothing sent) or the form's own errors. A number that is subscribed already gets nothing.
    """
    page = submission.page
    channel = page.phone_channel
    if channel is None:
        raise NotFound(f"The page /join/{page.slug} takes no phone numbers.")
    text_id = checked_text(ctx, submission)
    language = page.language_of(text_id) or page.languages[0]
    number = normalise_phone(raw_number, ctx.settings.default_region)
    contact_id = await asyncio.to_thread(
        lambda: _record_request(ctx, submission, channel=channel, number=number,
                                text_id=text_id, language=language)
    )
    if contact_id is None:
        return RequestSent(number, channel, language, None, "already_subscribed")
    sent = await send_message(
        ctx, channels, contact_id=contact_id, channel=channel,
        content=request_message(ctx, page, channel, language),
        intent=Outbound(MessageKind.CONSENT_REQUEST, page.purpose),
    )
    expires_at = ctx.clock.now() + ctx.settings.double_opt_in_expiry
    log.info("double opt-in requested", extra={"contact_id": contact_id, "page": page.slug,
                                               "channel": channel.value, "status": sent.status})
    return RequestSent(number, channel, language, expires_at, sent.status)


def agree_without_number(ctx: Context, submission: Submission) -> Agreement:
    """Store the visitor's agreement; its code becomes theirs when they write it in a chat."""
    text_id = checked_text(ctx, submission)
    page = submission.page
    language = page.language_of(text_id) or page.languages[0]
    with ctx.db.write() as session:
        serialise_consent_writes(session)
        _check_ip(session, ctx, submission)
        row = add_request(
            session, ctx, kind=RequestKind.PAGE_AGREEMENT, purpose=page.purpose,
            consent_text_id=text_id, language=language, page_id=page.id,
            ip=submission.ip, user_agent=submission.user_agent,
        )
        return Agreement(row.code, language, row.created_at + ctx.settings.double_opt_in_expiry)


@dataclass(frozen=True)
class ChatLink:
    """A way into the chat after agreeing: a link to open, and what to send there."""

    channel: ChannelKind
    url: str | None  # None for the sandbox: its phone is opened at /sandbox and typed into
    message: str


def chat_links(
    ctx: Context, page: SignupPageView, code: str, *, only: ChannelKind | None = None
) -> list[ChatLink]:
    """The page's click-to-chat links for an agreement's ``code``, in the page's order.

    Telegram and Messenger carry the code in their deep links; on WhatsApp (and the sandbox)
    the code travels in the message itself, which the wa.me link types in for the person.
    """
    word = opt_in_word(ctx)
    message = f"{word} {code}"
    links = []
    for channel in page.channels:
        if only is not None and channel is not only:
            continue
        if channel is ChannelKind.TELEGRAM:
            url = telegram_link(ctx.settings.telegram.bot_username, code)
            links.append(ChatLink(channel, url, f"/start {code}"))
        elif channel is ChannelKind.MESSENGER:
            url = messenger_link(ctx.settings.messenger.page_id, code)
            links.append(ChatLink(channel, url, message))
        elif page.click_to_chat and channel is ChannelKind.WHATSAPP and page.business_number:
            links.append(ChatLink(channel, whatsapp_link(page.business_number, word, code),
                                  message))
        elif page.click_to_chat and channel is ChannelKind.SANDBOX:
            links.append(ChatLink(channel, None, message))
    return links


def open_agreement(ctx: Context, page: SignupPageView, code: str) -> Agreement:
    """The open agreement ``code`` made on ``page``, or ``NotFound``."""
    with ctx.db.write() as session:
        row = open_request_by_code(session, ctx, code) if is_code(code) else None
        if row is None or row.page_id != page.id or row.kind != RequestKind.PAGE_AGREEMENT:
            raise NotFound("This code is unknown or has expired. Please agree on the page again.")
        return Agreement(row.code, row.language,
                         row.created_at + ctx.settings.double_opt_in_expiry)


def request_message(
    ctx: Context, page: SignupPageView, channel: ChannelKind, language: str
) -> OutboundMessage:
    """The double opt-in message: who writes, and that only the reply START subscribes.

    Outside a chat the person opened, WhatsApp carries only approved templates: a utility
    template named on the page, with the sender and the hours to answer as its body
    parameters. The text rides along for the inbox and the sandbox phone; the WhatsApp
    adapter sends only the template, which WhatsApp renders itself.
    """
    sender = ctx.settings.business.name
    hours = str(ctx.settings.double_opt_in_expiry_hours)
    template = Template(
        name=page.whatsapp_template, language=language,
        components=(TemplateComponent("body", (TemplateParameter(text=sender),
                                               TemplateParameter(text=hours))),),
    )
    text = translate(language, "chat.opt_in_request", sender=sender, word=opt_in_word(ctx),
                     hours=hours)
    return OutboundMessage(to="", text=text, template=template)


def opt_in_word(ctx: Context) -> str:
    """The opt-in word we ask people to write: the first one configured."""
    words = ctx.settings.keywords.opt_in
    return words[0].strip().upper() if words else "START"


def _record_request(
    ctx: Context, submission: Submission, *, channel: ChannelKind, number: str, text_id: int,
    language: str,
) -> int | None:
    """Check the limits and record the request in one transaction; None if subscribed."""
    page = submission.page
    with ctx.db.write() as session:
        serialise_consent_writes(session)
        _check_ip(session, ctx, submission)
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel.value, ChannelIdentity.address == number
            )
        )
        if identity is not None:
            state = consent_state(session, ctx, identity.contact_id, channel, page.purpose)
            if state.status is ConsentStatus.ACTIVE:
                # The page answers as if sent: whether a number is subscribed is not for
                # anyone who types it to learn.
                return None
            since = ctx.clock.now() - page.limits.number_period
            recent = [
                row for row in ledger.contact_events(session, identity.contact_id)
                if row.channel == channel.value and row.kind == ConsentEventKind.REQUESTED.value
                and row.occurred_at > since
            ]
            check_number_limit(len(recent), page.limits)
        contact_id = (
            identity.contact_id if identity is not None
            else _new_contact(session, ctx, channel, number, language)
        )
        record_in(session, ctx, ConsentRecord(
            contact_id=contact_id, channel=channel, purpose=page.purpose,
            kind=ConsentEventKind.REQUESTED, source=ConsentSource.WEB_FORM,
            consent_text_id=text_id, ip=submission.ip, user_agent=submission.user_agent,
            note=f"sign-up page /join/{page.slug}",
        ))
        add_request(
            session, ctx, kind=RequestKind.WEB_FORM, purpose=page.purpose,
            consent_text_id=text_id, language=language, page_id=page.id, channel=channel,
            contact_id=contact_id, ip=submission.ip, user_agent=submission.user_agent,
        )
        return contact_id


def _check_ip(session: Session, ctx: Context, submission: Submission) -> None:
    if submission.ip is None:
        return
    limits = submission.page.limits
    check_ip_limit(
        submissions_from(session, submission.ip, ctx.clock.now() - limits.ip_period), limits
    )


def _new_contact(
    session: Session, ctx: Context, channel: ChannelKind, number: str, language: str
) -> int:
    contact = Contact(
        display_name=None, language=language, time_zone=ctx.settings.default_time_zone,
        created_at=ctx.clock.now(),
    )
    session.add(contact)
    session.flush()
    add_identity(session, ctx, contact, channel, number)
    session.flush()
    return contact.id
