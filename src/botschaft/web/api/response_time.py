"""/api/v1/response-time: the response-time badge, for a website or another tool to show."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from botschaft.i18n import LANGUAGES, translate
from botschaft.web.api.deps import Ctx, Holder

router = APIRouter(prefix="/api/v1/response-time", tags=["response time"])


class ResponseTimeAnswer(BaseModel):
    badge: str | None  # instantly | minutes | hour | few_hours | day; None: no badge
    labels: dict[str, str]  # the badge's words per language
    p75_seconds: int | None
    samples: int
    period_days: int = 30


@router.get("", response_model=ResponseTimeAnswer)
async def get_response_time(request: Request, ctx: Ctx, holder: Holder) -> ResponseTimeAnswer:
    """How fast the business typically answers: the 75th percentile over the last 30 days
    (measured at most every ten minutes)."""
    measured = await run_in_threadpool(request.app.state.response_times.get, ctx)
    key = f"app.badge.{measured.badge.value}" if measured.badge else "app.badge.none"
    return ResponseTimeAnswer(
        badge=measured.badge.value if measured.badge else None,
        labels={language: translate(language, key) for language in LANGUAGES},
        p75_seconds=int(measured.p75.total_seconds()) if measured.p75 is not None else None,
        samples=measured.samples,
    )
