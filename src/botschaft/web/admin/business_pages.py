"""The owner's screens for business hours, auto-replies and the duty rotation.

Thin: each POST reads the form, calls one service function (which writes the audit row)
and redirects with a notice; a refused value draws the page again with the error, and what
was typed stays in the form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from botschaft.domain.auto_reply import FIELDS, AutoReplyKind
from botschaft.domain.business_hours import InvalidBusinessHours, next_opening
from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.i18n import LANGUAGES, translate
from botschaft.services import auto_reply_texts, business_hours, duty_rotation
from botschaft.web.admin.auth import Ctx, Owner, app_router, read_form
from botschaft.web.admin.rendering import app_page, error_text, language_of, see_other

router = app_router(tags=["admin app"])
HOURS = "/app/settings/business-hours"
AUTO_REPLIES = "/app/settings/auto-replies"
DUTY = "/app/settings/duty"
PREVIEW_NAME = "Anna Müller"


@router.get("/settings/business-hours")
async def hours_page(request: Request, ctx: Ctx, who: Owner) -> Response:
    return await _hours_page(request, ctx, who)


async def _hours_page(request: Request, ctx: Ctx, who: Owner, *, status: int = 200,
                      error: str | None = None, typed: dict[int, str] | None = None,
                      closed_error: str | None = None) -> Response:
    language = language_of(request, who)
    now = ctx.clock.now()
    view = await run_in_threadpool(business_hours.hours_view, ctx, now.year, language)
    week = typed if typed is not None else {day: ", ".join(view.week[day]) for day in range(7)}
    badge = await run_in_threadpool(request.app.state.response_times.get, ctx)
    pattern = _DAY.get(language, _DAY["en"])
    return app_page(request, who, "app/business_hours.html", status=status,
                    current="app.nav.settings", view=view, week=week, error=error,
                    closed_error=closed_error, badge=badge, year=now.year,
                    day_label=lambda day: format_date(day, pattern, locale=language))


_DAY = {"de": "EEE, d. MMMM", "en": "EEE d MMMM"}


@router.post("/settings/business-hours")
async def hours_submit(request: Request, ctx: Ctx, who: Owner) -> Response:
    form = await read_form(request)
    if form.get("action") == "clear":
        await run_in_threadpool(business_hours.forget_week, ctx, who.user.id)
        return see_other(HOURS, done="hours_cleared")
    days = {day: form.get(f"day_{day}", "") for day in range(7)}
    language = language_of(request, who)
    try:
        for day, text in days.items():
            _check_day(language, day, text)
        await run_in_threadpool(business_hours.change_week, ctx, who.user.id, days)
    except BotschaftError as exc:
        return await _hours_page(request, ctx, who, status=exc.status, typed=days,
                                 error=exc.message if language == "en" else str(exc.args[-1]))
    return see_other(HOURS, done="hours_saved")


class _DayRefused(InvalidBusinessHours):
    """A bad weekday of the form: the English message is the domain's, which names the
    interval; other languages get the catalogue's explanation with the weekday's name."""

    def __init__(self, english: str, translated: str) -> None:
        super().__init__(english)
        self.args = (english, translated)


def _check_day(language: str, day: int, text: str) -> None:
    try:
        business_hours.parse_week({day: text})
    except InvalidBusinessHours as exc:
        name = translate(language, f"app.hours.weekday.{day}")
        raise _DayRefused(
            f"{translate('en', f'app.hours.weekday.{day}')}: {exc.message}",
            translate(language, "app.hours.invalid_day", day=name),
        ) from None


@router.post("/settings/business-hours/closed-dates")
async def closed_date_add(request: Request, ctx: Ctx, who: Owner) -> Response:
    form = await read_form(request)
    try:
        day = _date(form.get("day", ""))
        await run_in_threadpool(business_hours.close_on, ctx, who.user.id, day,
                                form.get("note", ""))
    except BotschaftError as exc:
        language = language_of(request, who)
        message = exc.message if language == "en" else translate(language,
                                                                 "app.hours.closed_date_invalid")
        return await _hours_page(request, ctx, who, status=exc.status, closed_error=message)
    return see_other(HOURS, done="closed_date_added")


@router.post("/settings/business-hours/closed-dates/{day}/delete")
async def closed_date_remove(request: Request, ctx: Ctx, who: Owner, day: str) -> Response:
    removed = await run_in_threadpool(business_hours.open_again_on, ctx, who.user.id,
                                      _date(day))
    if not removed:
        raise NotFound(f"{day} is no closed date.")
    return see_other(HOURS, done="closed_date_removed")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidBusinessHours(f"{text!r} is no date; choose one (YYYY-MM-DD).") from None


@router.get("/settings/auto-replies")
async def auto_replies_page(request: Request, ctx: Ctx, who: Owner) -> Response:
    return await _auto_replies_page(request, ctx, who)


async def _auto_replies_page(
    request: Request, ctx: Ctx, who: Owner, *, status: int = 200,
    typed: dict[str, Any] | None = None, error: str | None = None,
    previews: dict[str, str] | None = None, preview_name: str = PREVIEW_NAME,
) -> Response:
    setup = await run_in_threadpool(auto_reply_texts.setup, ctx)
    kinds = []
    for kind in AutoReplyKind:
        mine = typed if typed is not None and typed["kind"] == kind.value else None
        kinds.append({
            "kind": kind.value,
            "enabled": mine["enabled"] if mine else kind in setup.enabled,
            "texts": {lang: (mine["texts"][lang] if mine else setup.text(kind, lang))
                      for lang in LANGUAGES},
            "own": {lang: setup.is_own(kind, lang) for lang in LANGUAGES},
            "error": error if mine else None,
            "previews": previews if mine else None,
        })
    hours_set = await run_in_threadpool(_hours_configured, ctx)
    return app_page(request, who, "app/auto_replies.html", status=status,
                    current="app.nav.settings", kinds=kinds,
                    fields=FIELDS, preview_name=preview_name, hours_set=hours_set)


def _hours_configured(ctx: Ctx) -> bool:
    with ctx.db.read() as session:
        return business_hours.load_hours(session, ctx) is not None


@router.post("/settings/auto-replies/{kind}")
async def auto_reply_submit(request: Request, ctx: Ctx, who: Owner, kind: str) -> Response:
    try:
        chosen = AutoReplyKind(kind)
    except ValueError:
        raise NotFound(f"There is no auto-reply {kind!r}.") from None
    form = await read_form(request)
    texts = {lang: form.get(f"text_{lang}", "") for lang in LANGUAGES}
    enabled = form.get("enabled") == "on"
    typed: dict[str, Any] = {"kind": chosen.value, "enabled": enabled, "texts": texts}
    language = language_of(request, who)
    try:
        if form.get("action") == "preview":
            name = form.get("preview_name", "").strip()[:100]
            previews = await run_in_threadpool(_previews, ctx, chosen, texts, name)
            return await _auto_replies_page(request, ctx, who, typed=typed, previews=previews,
                                            preview_name=name)
        await run_in_threadpool(
            lambda: auto_reply_texts.change_auto_reply(
                ctx, who.user.id, chosen, enabled=enabled, texts=texts)
        )
    except BotschaftError as exc:
        message = exc.message if language == "en" else error_text(language, exc)
        return await _auto_replies_page(request, ctx, who, status=exc.status, typed=typed,
                                        error=message)
    return see_other(AUTO_REPLIES, done="auto_reply_saved")


def _previews(ctx: Ctx, kind: AutoReplyKind, texts: dict[str, str], name: str
              ) -> dict[str, str]:
    with ctx.db.read() as session:
        hours = business_hours.load_hours(session, ctx)
    now = ctx.clock.now()
    opens = next_opening(hours, now) if hours is not None else None
    if opens == now and hours is not None:
        opens = None  # open right now: the preview shows the fallback wording
    return {
        lang: auto_reply_texts.preview(ctx, lang,
                                       text or auto_reply_texts.default_text(kind, lang),
                                       name=name, opens=opens)
        for lang, text in texts.items()
    }


@router.get("/settings/duty")
async def duty_page(request: Request, ctx: Ctx, who: Owner) -> Response:
    return await _duty_page(request, ctx, who)


async def _duty_page(request: Request, ctx: Ctx, who: Owner, *, status: int = 200,
                     error: str | None = None) -> Response:
    today = ctx.clock.now().date()
    view = await run_in_threadpool(duty_rotation.rotation_view, ctx, today)
    language = language_of(request, who)
    pattern = _DAY.get(language, _DAY["en"])
    return app_page(request, who, "app/duty.html", status=status, current="app.nav.settings",
                    view=view, error=error,
                    day_label=lambda day: format_date(day, pattern, locale=language))


@router.post("/settings/duty")
async def duty_submit(request: Request, ctx: Ctx, who: Owner) -> Response:
    form = await read_form(request)
    try:
        weekdays = {day: _person(form.get(f"weekday_{day}", "")) for day in range(7)}
        weeks = {
            (int(year), int(week)): _person(value)
            for key, value in form.items() if key.startswith("week_")
            for year, week in [key.removeprefix("week_").split("_", 1)]
        }
        await run_in_threadpool(_save_rotation, ctx, who.user.id, weekdays, weeks)
    except (BotschaftError, ValueError) as exc:
        language = language_of(request, who)
        message = translate(language, "app.duty.invalid")
        if language == "en" and isinstance(exc, BotschaftError):
            message = exc.message
        return await _duty_page(request, ctx, who, status=422, error=message)
    return see_other(DUTY, done="duty_saved")


def _person(value: str) -> int | None:
    return int(value) if value.strip() else None


def _save_rotation(ctx: Ctx, actor_id: int, weekdays: dict[int, int | None],
                   weeks: dict[tuple[int, int], int | None]) -> None:
    for day, person in weekdays.items():
        duty_rotation.set_weekday(ctx, actor_id, day, person)
    for (year, week), person in weeks.items():
        duty_rotation.set_week(ctx, actor_id, year, week, person)
