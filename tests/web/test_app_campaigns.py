"""Campaigns in the admin app: the list, the "new campaign" form, a campaign's page with its
lint, preview and test send, starting, scheduling, pausing, cancelling, the live summary,
roles and CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_login import AppClient, create_app_user, logged_in_client
from botschaft.domain.channels import ChannelKind
from botschaft.domain.roles import Role
from botschaft.services.campaigns import get_campaign, list_campaigns
from botschaft.services.consent_texts import publish_consent_text
from botschaft.storage.accounts import AuditEntry
from broadcasts import audience, campaign, person, subscriber
from web_app import RunningApp

from factories import marketing_text

TEXT = "Hallo {{ first_name }}! Die Angebote der Woche von Botschaft: https://shop.example/angebot"
# Outside the 24-hour window (nobody here wrote first) marketing needs a template.
TEMPLATE = {"kind": "template", "template": {
    "name": "wochenangebot", "language": "de", "params": ["{{ first_name }}"],
    "text": "Hallo {{1}}! Die Angebote der Woche von Botschaft. Abmelden: STOP"}}


@pytest.fixture
def shop(running_app: RunningApp) -> dict[str, int]:
    ctx = running_app.ctx
    text = publish_consent_text(ctx, marketing_text())
    anna = subscriber(ctx, text, "+4915100000601", "Anna Berg", channel=ChannelKind.SANDBOX)
    ben = subscriber(ctx, text, "+4915100000602", "Ben Kurz", channel=ChannelKind.SANDBOX)
    dora = person(ctx, "+4915100000603", "Dora Lang", channel=ChannelKind.SANDBOX)
    return {"anna": anna.id, "ben": ben.id, "dora": dora.id, "audience": audience(ctx)}


def _form(shop: dict[str, int], **changes: str) -> dict[str, str]:
    return {"name": "Wochenangebot", "channel": "sandbox", "audience_id": str(shop["audience"]),
            "kind": "text", "text": TEXT, "track_links": "yes", **changes}


def _owner(app: RunningApp) -> AppClient:
    return logged_in_client(app, create_app_user(app.ctx, role=Role.OWNER))  # type: ignore[return-value]


def _draft(app: RunningApp, shop: dict[str, int], content: dict[str, object] = TEMPLATE
           ) -> int:
    return campaign(app.ctx, shop["audience"], content, channel=ChannelKind.SANDBOX)


def test_a_marketer_writes_a_draft_from_the_form_and_sees_it_listed(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, marketer) as client:
        form = client.get("/app/campaigns/new")
        created = client.post("/app/campaigns", data=client.form(_form(shop)))
        assert created.status_code == 303, created.text
        page = client.get(created.headers["location"])
        listed = client.get("/app/campaigns")
    [made] = list_campaigns(running_app.ctx)
    assert "{{ first_name }}" in form.text  # the fields personalisation may read
    assert made.content == {"kind": "text", "text": TEXT} and made.track_links
    assert "The draft is created." in page.text and "Nothing holds the campaign back." in page.text
    assert "Wochenangebot" in listed.text and "Draft" in listed.text


@pytest.mark.parametrize(("changes", "expected"), [
    ({"kind": "media", "media_kind": "image", "media_url": "https://shop.example/flyer.jpg",
      "text": "Flyer"},
     {"kind": "media", "text": "Flyer",
      "media": {"kind": "image", "url": "https://shop.example/flyer.jpg"}}),
    ({"kind": "buttons", "button_1": "Ja", "button_2": "", "button_3": "Nein"},
     {"kind": "buttons", "text": TEXT,
      "buttons": [{"id": "b1", "title": "Ja"}, {"id": "b2", "title": "Nein"}]}),
    ({"kind": "template", "template_name": "wochenangebot", "template_language": "de",
      "template_params": "{{ first_name }}\n\nBerlin\n",
      "template_text": "Hallo {{1}} in {{2}}, Botschaft. Abmelden: STOP"},
     {"kind": "template", "template": {
         "name": "wochenangebot", "language": "de", "params": ["{{ first_name }}", "Berlin"],
         "text": "Hallo {{1}} in {{2}}, Botschaft. Abmelden: STOP"}}),
])
def test_each_kind_of_content_is_written_as_the_api_stores_it(
    running_app: RunningApp, shop: dict[str, int], changes: dict[str, str],
    expected: dict[str, object],
) -> None:
    with _owner(running_app) as client:
        created = client.post("/app/campaigns", data=client.form(_form(shop, **changes)))
    assert created.status_code == 303, created.text
    assert list_campaigns(running_app.ctx)[0].content == expected


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Give the campaign a name"),
    ({"channel": "fax"}, "Choose a messenger."),
    ({"audience_id": "x"}, "Choose an audience."),
    ({"audience_id": "999"}, "Choose an audience."),
    ({"text": ""}, "The text is missing."),
    ({"kind": "media", "media_url": "ftp://x"}, "starting with https://"),
    ({"kind": "buttons"}, "Give at least one button a title."),
    ({"kind": "template"}, "A template needs its name and language."),
    ({"text": "Hallo {{ lieblingsfarbe }}"}, "lieblingsfarbe, which is not a contact field"),
    ({"text": "Hallo {{ first_name"}, "personalisation error on line 1"),
    ({"channel": "whatsapp"}, "This messenger is not switched on."),
])
def test_a_draft_the_rules_refuse_keeps_the_form_and_says_why(
    running_app: RunningApp, shop: dict[str, int], changes: dict[str, str], message: str
) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/campaigns", data=client.form(_form(shop, **changes)))
    assert 400 <= answer.status_code < 500
    assert "Not created:" in answer.text and message in answer.text, answer.text
    assert 'value="' + (changes.get("name", "Wochenangebot")) + '"' in answer.text
    assert list_campaigns(running_app.ctx) == []


@pytest.mark.parametrize(("changes", "german"), [
    ({"text": "Hallo {{ lieblingsfarbe }}"},
     "Der Kampagnentext liest lieblingsfarbe, das ist kein Kontaktfeld. Bekannte Felder:"),
    ({"text": "Hallo {{ first_name"},
     "Der Kampagnentext hat in Zeile 1 einen Fehler in der Personalisierung:"),
])
def test_a_personalisation_refusal_is_in_the_persons_language(
    running_app: RunningApp, shop: dict[str, int], changes: dict[str, str], german: str
) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/campaigns", data=client.form(_form(shop, **changes)),
                             headers={"Accept-Language": "de"})
    assert answer.status_code == 422
    assert "Nicht angelegt:" in answer.text and german in answer.text, answer.text
    assert "contact field" not in answer.text and "personalisation error" not in answer.text


def test_the_lint_shows_what_blocks_in_the_persons_language(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = campaign(running_app.ctx, shop["audience"],
                           {"kind": "text", "text": "Angebote der Woche!"},
                           channel=ChannelKind.SANDBOX)
    with _owner(running_app) as client:
        english = client.get(f"/app/campaigns/{campaign_id}")
        german = client.get(f"/app/campaigns/{campaign_id}", headers={"Accept-Language": "de"})
        refused = client.post(f"/app/campaigns/{campaign_id}/start", data=client.form({}))
    assert "The campaign cannot start like this:" in english.text
    assert "The message does not name the sender: mention “Botschaft” in it." in english.text
    assert "So kann die Kampagne nicht starten:" in german.text
    assert "Die Nachricht nennt den Absender nicht: Erwähnen Sie „Botschaft“ darin." in german.text
    assert refused.status_code == 422
    assert "The campaign cannot start yet: The message does not name the sender" in refused.text
    assert get_campaign(running_app.ctx, campaign_id).status.value == "draft"


def test_the_preview_shows_one_contacts_message_and_the_gates_decision(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = _draft(running_app, shop)
    with _owner(running_app) as client:
        anna = client.get(f"/app/campaigns/{campaign_id}?contact={shop['anna']}")
        dora = client.get(f"/app/campaigns/{campaign_id}?contact={shop['dora']}")
        nobody = client.get(f"/app/campaigns/{campaign_id}?contact=999")
        searched = client.get(f"/app/campaigns/{campaign_id}?q=Ben")
        free_form = client.get(
            f"/app/campaigns/{_draft(running_app, shop, {'kind': 'text', 'text': TEXT})}"
            f"?contact={shop['anna']}")
    assert "Hallo Anna!" in anna.text and "would be sent now" in anna.text
    assert "wochenangebot · de" in anna.text
    assert "/c/" in free_form.text  # the link is tracked
    assert "would not be sent: 24-hour window closed" in free_form.text
    assert "would not be sent: no consent" in dora.text
    assert nobody.status_code == 200 and "There is no such contact" in nobody.text
    assert "Ben Kurz" in searched.text and "Anna Berg" not in searched.text


def test_a_test_send_goes_through_the_gate_and_says_what_happened(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = _draft(running_app, shop)
    with _owner(running_app) as client:
        answer = client.post(f"/app/campaigns/{campaign_id}/test-send", data=client.form(
            {"contacts": [str(shop["anna"]), str(shop["dora"])]}))
        empty = client.post(f"/app/campaigns/{campaign_id}/test-send", data=client.form({}))
        wrong = client.post(f"/app/campaigns/{campaign_id}/test-send",
                            data=client.form({"contacts": "anna"}))
    assert answer.status_code == 200
    results = answer.text.split("Test send</h3>")[1]
    assert "Anna Berg" in results and ">sent<" in results
    assert "Dora Lang" in results and "not sent: no consent" in results
    assert empty.status_code == 422 and "Choose 1 to 10 contacts" in empty.text
    assert wrong.status_code == 422 and "from the list" in wrong.text
    assert get_campaign(running_app.ctx, campaign_id).status.value == "draft"


def test_send_now_plans_the_campaign_and_the_summary_follows_it(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = _draft(running_app, shop)
    with _owner(running_app) as client:
        started = client.post(f"/app/campaigns/{campaign_id}/start", data=client.form({}))
        page = client.get(started.headers["location"])
        summary = client.get(f"/app/campaigns/{campaign_id}/summary")
        again = client.post(f"/app/campaigns/{campaign_id}/start", data=client.form({}))
    assert started.status_code == 303
    assert "The campaign is being sent." in page.text
    assert f'data-summary-url="/app/campaigns/{campaign_id}/summary"' in page.text
    body = summary.json()
    assert body["status"] == "running" and body["status_text"] == "Sending"
    assert body["figures"]["targeted"] == 3 and body["figures"]["pending"] == 2
    assert body["skipped"] == [["no consent", 1]]
    assert again.status_code == 409 and "not possible in the campaign" in again.text


def test_pause_resume_and_cancel_change_its_course(running_app: RunningApp,
                                                   shop: dict[str, int]) -> None:
    campaign_id = _draft(running_app, shop)
    status = lambda: get_campaign(running_app.ctx, campaign_id).status.value  # noqa: E731
    with _owner(running_app) as client:
        early = client.post(f"/app/campaigns/{campaign_id}/pause", data=client.form({}))
        client.post(f"/app/campaigns/{campaign_id}/start", data=client.form({}))
        paused = client.post(f"/app/campaigns/{campaign_id}/pause", data=client.form({}))
        assert status() == "paused"
        resumed = client.post(f"/app/campaigns/{campaign_id}/resume", data=client.form({}))
        assert status() == "running"
        cancelled = client.post(f"/app/campaigns/{campaign_id}/cancel", data=client.form({}))
        page = client.get(f"/app/campaigns/{campaign_id}")
    assert early.status_code == 409
    assert [r.status_code for r in (paused, resumed, cancelled)] == [303, 303, 303]
    assert status() == "cancelled"
    assert "campaign cancelled" in page.text and "data-summary-url" not in page.text


def test_what_a_person_does_to_a_campaign_is_in_the_audit_log_with_their_name(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = _draft(running_app, shop)
    owner = create_app_user(running_app.ctx, role=Role.OWNER, name="Olga Sonnenberg")
    with logged_in_client(running_app, owner) as client:
        for step in ("start", "pause", "resume", "cancel"):
            assert client.post(f"/app/campaigns/{campaign_id}/{step}",
                               data=client.form({})).status_code == 303
        log_page = client.get("/app/settings/audit-log", params={"group": "campaign."})
    with running_app.ctx.db.read() as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.detail)
            .where(AuditEntry.target == f"campaign:{campaign_id}").order_by(AuditEntry.id)
        ).all()
    assert [action for action, _, _ in entries] == [
        "campaign.started", "campaign.paused", "campaign.resumed", "campaign.cancelled"]
    assert {actor for _, actor, _ in entries} == {owner.id}
    assert entries[-1][2] == {"skipped": 2}  # the two still queued when it was cancelled
    assert "Campaign paused" in log_page.text and "Olga Sonnenberg" in log_page.text


def test_scheduling_takes_a_wall_time_in_the_business_time_zone(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    campaign_id = _draft(running_app, shop)
    with _owner(running_app) as client:
        past = client.post(f"/app/campaigns/{campaign_id}/schedule",
                           data=client.form({"send_at": "2026-03-01T09:00"}))
        garbage = client.post(f"/app/campaigns/{campaign_id}/schedule",
                              data=client.form({"send_at": "morgen früh"}))
        planned = client.post(f"/app/campaigns/{campaign_id}/schedule",
                              data=client.form({"send_at": "2026-03-05T09:00"}))
        page = client.get(f"/app/campaigns/{campaign_id}")
    assert past.status_code == 422 and "not in the future (Europe/Berlin)" in past.text
    assert garbage.status_code == 422 and "Give a date and a time." in garbage.text
    assert planned.status_code == 303
    view = get_campaign(running_app.ctx, campaign_id)
    assert view.status.value == "scheduled"
    assert view.scheduled_at is not None and view.scheduled_at.isoformat().startswith(
        "2026-03-05T08:00")  # 09:00 in Berlin is 08:00 UTC in March
    assert "scheduled for 5 Mar 2026, 09:00" in page.text


def test_an_unknown_campaign_is_a_404_page(running_app: RunningApp) -> None:
    with _owner(running_app) as client:
        shown = client.get("/app/campaigns/999")
        started = client.post("/app/campaigns/999/start", data=client.form({}))
        summary = client.get("/app/campaigns/999/summary")
    assert (shown.status_code, started.status_code, summary.status_code) == (404, 404, 404)


def test_agents_may_not_open_or_run_campaigns(running_app: RunningApp,
                                              shop: dict[str, int]) -> None:
    campaign_id = _draft(running_app, shop)
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        answers = [
            client.get("/app/campaigns"), client.get("/app/campaigns/new"),
            client.get(f"/app/campaigns/{campaign_id}"),
            client.get(f"/app/campaigns/{campaign_id}/summary"),
            client.post("/app/campaigns", data=client.form(_form(shop))),
            client.post(f"/app/campaigns/{campaign_id}/start", data=client.form({})),
            client.post(f"/app/campaigns/{campaign_id}/test-send",
                        data=client.form({"contacts": str(shop["anna"])})),
        ]
        home = client.get("/app/")
    assert [a.status_code for a in answers] == [403] * len(answers)
    assert 'href="/app/campaigns"' not in home.text
    assert get_campaign(running_app.ctx, campaign_id).status.value == "draft"


def test_the_navigation_leads_marketers_to_campaigns(running_app: RunningApp) -> None:
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, marketer) as client:
        home = client.get("/app/")
    assert 'href="/app/campaigns"' in home.text and "later" not in home.text


def test_changes_without_the_csrf_token_are_refused(running_app: RunningApp,
                                                    shop: dict[str, int]) -> None:
    campaign_id = _draft(running_app, shop)
    with _owner(running_app) as client:
        created = client.post("/app/campaigns", data=_form(shop))
        started = client.post(f"/app/campaigns/{campaign_id}/start")
        tested = client.post(f"/app/campaigns/{campaign_id}/test-send",
                             data={"contacts": str(shop["anna"])})
    assert (created.status_code, started.status_code, tested.status_code) == (403, 403, 403)
    assert len(list_campaigns(running_app.ctx)) == 1
    assert get_campaign(running_app.ctx, campaign_id).status.value == "draft"
