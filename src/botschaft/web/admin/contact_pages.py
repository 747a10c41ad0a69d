"""Contacts: search, one contact's page (identities, attributes, conversations, consent
history from the ledger), and recording a withdrawal the person asked for."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.channels import ChannelKind
from botschaft.domain.errors import BotschaftError
from botschaft.domain.roles import Area, allows
from botschaft.services.agent_consent import record_withdrawal
from botschaft.services.contact_directory import contact_detail, search_contacts
from botschaft.web.admin.auth import Ctx, Forbidden, User, app_router, read_form
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
CURRENT = "app.nav.contacts"


@router.get("/contacts")
async def contacts(request: Request, ctx: Ctx, who: User, q: str = "",
                   before: str = "") -> Response:
    """Search by name, number or address; newest first, 50 at a time."""
    before_id = int(before) if before.isdigit() else None
    found = await run_in_threadpool(
        lambda: search_contacts(ctx, q[:200], before_id=before_id))
    return app_page(request, who, "app/contacts.html", current=CURRENT, query=q[:200],
                    page=found, first_page=before_id is None)


@router.get("/contacts/{contact_id}")
async def contact(request: Request, ctx: Ctx, who: User, contact_id: int) -> Response:
    return await _contact_page(request, ctx, who, contact_id)


@router.post("/contacts/{contact_id}/withdrawals")
async def withdraw(request: Request, ctx: Ctx, who: User, contact_id: int) -> Response:
    """Record the withdrawal a person asked for outside the chat (by phone, mail, in person)."""
    if not allows(who.user.role, Area.CONSENT_WITHDRAWAL):
        raise Forbidden("Your role may not record consent changes.")
    form = await read_form(request)
    subject = form.get("subject", "")
    channel_name, _, purpose = subject.partition("/")
    try:
        if channel_name not in {c.value for c in ChannelKind} or not purpose:
            raise BotschaftError("Choose which consent the person withdrew.",
                                 key="app.error.withdrawal_subject")
        await run_in_threadpool(lambda: record_withdrawal(
            ctx, who.user.id, contact_id, channel=ChannelKind(channel_name), purpose=purpose,
            reason=form.get("reason", "")))
    except BotschaftError as error:
        message = error_text(language_of(request, who), error)
        return await _contact_page(request, ctx, who, contact_id, status=error.status,
                                   withdrawal_error=message, reason=form.get("reason", ""))
    return see_other(f"/app/contacts/{contact_id}", done="withdrawal_recorded")


async def _contact_page(request: Request, ctx: Ctx, who: User, contact_id: int, *,
                        status: int = 200, withdrawal_error: str | None = None,
                        reason: str = "") -> Response:
    detail = await run_in_threadpool(contact_detail, ctx, contact_id)
    return app_page(request, who, "app/contact.html", status=status, current=CURRENT,
                    detail=detail, withdrawal_error=withdrawal_error, reason=reason,
                    may_withdraw=allows(who.user.role, Area.CONSENT_WITHDRAWAL))
