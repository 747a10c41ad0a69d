"""The owner's screens for business hours, auto-replies and the rotation, over real HTTP."""

from __future__ import annotations

from datetime import date

from admin_login import create_app_user, logged_in_client
from botschaft.domain.auto_reply import AutoReplyKind
from botschaft.domain.roles import Role
from botschaft.services.audit import list_audit
from botschaft.services.auto_reply_texts import setup
from botschaft.services.business_hours import hours_view
from botschaft.services.duty_rotation import rotation_view
from web_app import RunningApp

WEEK = {f"day_{day}": "09:00-12:30, 13:30-18:00" for day in range(5)} | {"day_5": "",
                                                                         "day_6": ""}


def test_the_owner_sets_the_week_and_an_audit_row_says_so(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        saved = client.post("/app/settings/business-hours", data=client.form(WEEK))
        assert saved.status_code == 303
        page = client.get(saved.headers["location"])
    assert "Business hours saved." in page.text
    assert 'value="09:00-12:30, 13:30-18:00"' in page.text
    view = hours_view(running_app.ctx, 2026, "en")
    assert view.week[0] == ("09:00-12:30", "13:30-18:00") and view.week[5] == ()
    [entry] = [e for e in list_audit(running_app.ctx) if e.action == "business_hours.changed"]
    assert entry.actor_id == owner.id and entry.detail["to"]["0"] == ["09:00-12:30",
                                                                       "13:30-18:00"]


def test_a_mistyped_day_is_refused_naming_the_day_and_keeping_what_was_typed(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        bad = WEEK | {"day_1": "9 bis 17"}
        english = client.post("/app/settings/business-hours", data=client.form(bad))
        german = client.post("/app/settings/business-hours", data=client.form(bad),
                             headers={"Accept-Language": "de"})
    assert english.status_code == 422
    assert "Tuesday: &#39;9 bis 17&#39; is no opening interval" in english.text
    assert 'value="9 bis 17"' in english.text
    assert "Dienstag: Das lässt sich nicht lesen." in german.text
    assert not hours_view(running_app.ctx, 2026, "en").configured


def test_the_page_shows_the_zone_and_the_holidays_of_the_configured_state(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        page = client.get("/app/settings/business-hours", headers={"Accept-Language": "de"})
    assert "Europe/Berlin" in page.text
    assert "Tag der Deutschen Einheit" in page.text
    assert "Heilige Drei Könige" not in page.text  # the default region is DE without a state


def test_a_closed_date_is_added_and_removed_with_audit_rows(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        added = client.post("/app/settings/business-hours/closed-dates",
                            data=client.form({"day": "2026-12-24", "note": "Heiligabend"}))
        assert added.status_code == 303
        twice = client.post("/app/settings/business-hours/closed-dates",
                            data=client.form({"day": "2026-12-24", "note": ""}))
        assert twice.status_code == 422
        assert ((date(2026, 12, 24), "Heiligabend"),) == hours_view(
            running_app.ctx, 2026, "en").closed_dates
        removed = client.post("/app/settings/business-hours/closed-dates/2026-12-24/delete",
                              data=client.form({}))
        assert removed.status_code == 303
    assert hours_view(running_app.ctx, 2026, "en").closed_dates == ()
    actions = [e.action for e in list_audit(running_app.ctx, action_prefix="business_hours")]
    assert actions == ["business_hours.closed_date_removed", "business_hours.closed_date_added"]


def test_the_owner_switches_the_away_message_on_with_an_own_german_text(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        page = client.get("/app/settings/auto-replies")
        assert "Hi {first_name}, thanks for your message!" in page.text  # the English default
        saved = client.post("/app/settings/auto-replies/away", data=client.form({
            "enabled": "on", "text_de": "Wir sind zu, {first_name}.", "text_en": "",
            "action": "save"}))
        assert saved.status_code == 303
    configured = setup(running_app.ctx)
    assert configured.enabled == {AutoReplyKind.AWAY}
    assert configured.text(AutoReplyKind.AWAY, "de") == "Wir sind zu, {first_name}."
    assert not configured.is_own(AutoReplyKind.AWAY, "en")
    [entry] = list_audit(running_app.ctx, action_prefix="auto_reply")
    assert entry.detail == {"enabled": True, "text_de": "Wir sind zu, {first_name}."}


def test_the_preview_fills_in_a_name_and_saves_nothing(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        page = client.post("/app/settings/auto-replies/greeting", data=client.form({
            "text_de": "Hallo {first_name}!", "text_en": "Hello {name}, welcome to {business}.",
            "preview_name": "Jonas Weber", "action": "preview"}))
    assert page.status_code == 200
    assert "Hallo Jonas!" in page.text
    assert "Hello Jonas Weber, welcome to Botschaft." in page.text
    assert setup(running_app.ctx).enabled == frozenset()
    assert list_audit(running_app.ctx, action_prefix="auto_reply") == []


def test_an_unknown_placeholder_is_refused_in_the_owners_language(
    running_app: RunningApp,
) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/settings/auto-replies/receipt", headers={
            "Accept-Language": "de"}, data=client.form({
                "enabled": "on", "text_de": "Danke {vorname}!", "text_en": "", "action": "save"}))
    assert answer.status_code == 422
    assert "Platzhalter, den es nicht gibt" in answer.text
    assert "Danke {vorname}!" in answer.text
    assert setup(running_app.ctx).enabled == frozenset()


def test_the_owner_puts_an_agent_on_duty_for_a_weekday_and_a_week(
    running_app: RunningApp,
) -> None:
    ctx = running_app.ctx
    owner = create_app_user(ctx, role=Role.OWNER)
    agent = create_app_user(ctx, role=Role.AGENT)
    with logged_in_client(running_app, owner) as client:
        page = client.get("/app/settings/duty")
        assert "Anna Agent" in page.text
        saved = client.post("/app/settings/duty", data=client.form({
            "weekday_0": str(agent.id), "week_2026_11": str(owner.id)}))
        assert saved.status_code == 303
    view = rotation_view(ctx, date(2026, 3, 2))
    assert view.weekdays[0] == agent.id
    assert next(w for w in view.weeks if w.iso_week == 11).user_id == owner.id
    actions = sorted(e.action for e in list_audit(ctx, action_prefix="duty"))
    assert actions == ["duty.week_changed", "duty.weekday_changed"]


def test_a_marketer_cannot_be_put_on_duty(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/settings/duty", data=client.form({
            "weekday_2": str(marketer.id)}))
    assert answer.status_code == 422
    assert "Only an active agent or owner can be on duty" in answer.text


def test_an_agent_cannot_open_or_change_these_settings(running_app: RunningApp) -> None:
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        pages = [client.get(path).status_code for path in (
            "/app/settings/business-hours", "/app/settings/auto-replies", "/app/settings/duty")]
        change = client.post("/app/settings/business-hours", data=client.form(WEEK))
    assert pages == [403, 403, 403]
    assert change.status_code == 403
    assert not hours_view(running_app.ctx, 2026, "en").configured


def test_a_form_without_the_csrf_token_changes_nothing(running_app: RunningApp) -> None:
    owner = create_app_user(running_app.ctx, role=Role.OWNER)
    with logged_in_client(running_app, owner) as client:
        answer = client.post("/app/settings/business-hours", data=WEEK)
    assert answer.status_code == 403
    assert not hours_view(running_app.ctx, 2026, "en").configured
