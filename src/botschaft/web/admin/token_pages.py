"""API tokens (owner only): create one (shown once), revoke; and the audit log."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.errors import BotschaftError
from botschaft.services.api_tokens import create_token, list_tokens, revoke_token
from botschaft.services.audit import list_audit
from botschaft.web.admin.auth import Ctx, Owner, app_router, read_form
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
# The audit log's filter: the groups of actions a reader asks about.
AUDIT_GROUPS = ("consent.", "user.", "api_token.", "signup_page.", "campaign.", "setup.",
                "export.", "erasure.", "settings.")


@router.get("/settings/api-tokens")
async def tokens(request: Request, ctx: Ctx, who: Owner) -> Response:
    return await _tokens_page(request, ctx, who)


@router.post("/settings/api-tokens")
async def create(request: Request, ctx: Ctx, who: Owner) -> Response:
    form = await read_form(request)
    try:
        issued = await run_in_threadpool(
            lambda: create_token(ctx, form.get("name", ""), actor_id=who.user.id))
    except BotschaftError as error:
        return await _tokens_page(request, ctx, who, status=error.status,
                                  error=error_text(language_of(request, who), error))
    # Shown on this answer only: the token is not stored, and a reload does not repeat it.
    return await _tokens_page(request, ctx, who, issued=issued.token, issued_name=issued.name)


@router.post("/settings/api-tokens/{token_id}/revoke")
async def revoke(ctx: Ctx, who: Owner, token_id: int) -> Response:
    await run_in_threadpool(lambda: revoke_token(ctx, token_id, actor_id=who.user.id))
    return see_other("/app/settings/api-tokens", done="token_revoked")


@router.get("/settings/audit-log")
async def audit_log(request: Request, ctx: Ctx, who: Owner, before: str = "",
                    group: str = "") -> Response:
    """Who did what, newest first, 50 at a time (keyset-paged by id)."""
    chosen = group if group in AUDIT_GROUPS else ""
    before_id = int(before) if before.isdigit() else None
    entries = await run_in_threadpool(
        lambda: list_audit(ctx, before_id=before_id, action_prefix=chosen or None, limit=51))
    older = entries[49].id if len(entries) > 50 else None
    return app_page(request, who, "app/audit_log.html", current="app.nav.settings",
                    entries=entries[:50], older=older, group=chosen, groups=AUDIT_GROUPS)


async def _tokens_page(request: Request, ctx: Ctx, who: Owner, *, status: int = 200,
                       error: str | None = None, issued: str | None = None,
                       issued_name: str | None = None) -> Response:
    found = await run_in_threadpool(list_tokens, ctx)
    response = app_page(request, who, "app/api_tokens.html", status=status,
                        current="app.nav.settings", tokens=found, error=error, issued=issued,
                        issued_name=issued_name)
    return response
