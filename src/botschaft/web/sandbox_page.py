"""The sandbox phone in the browser: be any phone number and chat with the business.

The page only draws; everything it does goes through the sandbox phone's JSON API
(``web.sandbox_api``), so a journey tried here runs the same code as a real messenger's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from botschaft.web.pages import PAGE_POLICY, asset_response, page_language, render
from botschaft.web.sandbox_api import sandbox_switched_on

router = APIRouter(prefix="/sandbox", tags=["sandbox"],
                   dependencies=[Depends(sandbox_switched_on)])


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def sandbox_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """The simulated phone, in the language asked for or the browser's."""
    settings = request.app.state.settings
    language = page_language(request, lang)
    html = render("sandbox/phone.html", language, business=settings.business.name)
    return HTMLResponse(html, headers={
        "Content-Security-Policy": PAGE_POLICY,
        "Cache-Control": "no-store",
        "Content-Language": language,
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/static/{name}", include_in_schema=False)
async def sandbox_asset(name: str) -> Response:
    """The phone page's style sheet and script."""
    return asset_response("sandbox", name)
