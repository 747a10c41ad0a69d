"""The inbox's own settings screen: canned responses and labels, for every agent."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from botschaft.services import canned
from botschaft.web.admin.auth import Ctx, app_router, read_form
from botschaft.web.admin.rendering import app_page, see_other
from botschaft.web.inbox.pages import Agent, actor_of

router = app_router(tags=["inbox"])


@router.get("/inbox-settings")
async def settings_page(request: Request, ctx: Ctx, who: Agent) -> Response:
    responses = await run_in_threadpool(canned.canned_responses, ctx)
    labels = await run_in_threadpool(canned.labels, ctx)
    return app_page(request, who, "app/inbox/settings.html", current="app.nav.inbox",
                    responses=responses, labels=labels, colors=canned.LABEL_COLORS)


@router.post("/inbox-settings/canned")
async def save_canned(request: Request, ctx: Ctx, who: Agent) -> Response:
    form = await read_form(request)
    existing = form.get("id", "")
    await run_in_threadpool(
        lambda: canned.save_canned(ctx, actor_of(who), form.get("shortcut", ""),
                                   form.get("text", ""),
                                   int(existing) if existing.isdigit() else None))
    return see_other("/app/inbox-settings", done="inbox_canned_saved")


@router.post("/inbox-settings/canned/{canned_id}/delete")
async def delete_canned(ctx: Ctx, who: Agent, canned_id: int) -> Response:
    await run_in_threadpool(canned.delete_canned, ctx, actor_of(who), canned_id)
    return see_other("/app/inbox-settings", done="inbox_canned_deleted")


@router.post("/inbox-settings/labels")
async def create_label(request: Request, ctx: Ctx, who: Agent) -> Response:
    form = await read_form(request)
    await run_in_threadpool(canned.create_label, ctx, actor_of(who), form.get("name", ""),
                            form.get("color", "slate"))
    return see_other("/app/inbox-settings", done="inbox_label_created")


@router.post("/inbox-settings/labels/{label_id}/delete")
async def delete_label(ctx: Ctx, who: Agent, label_id: int) -> Response:
    await run_in_threadpool(canned.delete_label, ctx, actor_of(who), label_id)
    return see_other("/app/inbox-settings", done="inbox_label_deleted")


@router.get("/inbox-canned.json", response_class=JSONResponse)
async def canned_json(ctx: Ctx, _who: Agent) -> JSONResponse:
    """Shortcut to text, for the composer's expansion as the agent types."""
    return JSONResponse(await run_in_threadpool(canned.canned_map, ctx),
                        headers={"Cache-Control": "no-store"})
