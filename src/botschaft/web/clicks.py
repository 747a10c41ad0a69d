"""``/c/<code>``: a campaign's tracked link. Records the click and sends the browser on.

Unknown codes get a page for people (404), not JSON: whoever follows a broken link from a
message should learn that the link is wrong, in their language.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from botschaft.services.clicks import UnknownLink, record_click
from botschaft.web.pages import PAGE_POLICY, page_language, render

router = APIRouter(tags=["tracked links"])


@router.get("/c/{code}", include_in_schema=False)
async def follow_link(request: Request, code: str, d: str | None = None) -> Response:
    """302 to the campaign's link; ``d`` (a signed delivery reference) attributes the click."""
    ctx = request.app.state.ctx
    try:
        target = await run_in_threadpool(record_click, ctx, code[:32], d)
    except UnknownLink:
        language = page_language(request, None)
        html = render("missing.html", language, business=ctx.settings.business.name,
                      title_key="clicks.missing_title", lead_key="clicks.missing_lead")
        return HTMLResponse(html, status_code=404, headers={
            "Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store",
            "Content-Language": language, "X-Content-Type-Options": "nosniff",
        })
    # no-store: every click should reach us, not a browser's cache of the redirect.
    return RedirectResponse(target.url, status_code=302, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    })
