"""Audiences in the admin app: the list with live counts, the form over the rule model, the
count the form asks for while it is edited, roles and CSRF."""

from __future__ import annotations

import pytest

from admin_login import AppClient, create_app_user, logged_in_client
from botschaft.domain.channels import ChannelKind
from botschaft.domain.roles import Role
from botschaft.services.audiences import create_audience, get_audience, list_audiences
from botschaft.services.consent_texts import publish_consent_text
from botschaft.services.contact_fields import declare_attribute, set_attributes, set_tags
from broadcasts import campaign, person, subscriber
from web_app import RunningApp

from factories import marketing_text

FORM = {"name": "Berliner Angebote", "tags_any": "Angebote", "tags_all": "", "tags_none": "",
        "attr_key": "stadt", "attr_op": "eq", "attr_value": "Berlin", "languages": "",
        "consent": "marketing"}


@pytest.fixture
def shop(running_app: RunningApp) -> dict[str, int]:
    """Three Berliners tagged for offers on the sandbox, two of them subscribed."""
    ctx = running_app.ctx
    text = publish_consent_text(ctx, marketing_text())
    declare_attribute(ctx, "stadt", "Stadt", "Angebote der Filiale vor Ort")
    people = {
        "anna": subscriber(ctx, text, "+4915100000501", "Anna Berg", channel=ChannelKind.SANDBOX),
        "ben": subscriber(ctx, text, "+4915100000502", "Ben Kurz", channel=ChannelKind.SANDBOX),
        "dora": person(ctx, "+4915100000503", "Dora Lang", channel=ChannelKind.SANDBOX),
    }
    for contact in people.values():
        set_tags(ctx, contact.id, ["angebote"])
        set_attributes(ctx, contact.id, {"stadt": "Berlin"})
    return {name: contact.id for name, contact in people.items()}


def _owner(app: RunningApp) -> AppClient:
    return logged_in_client(app, create_app_user(app.ctx, role=Role.OWNER))  # type: ignore[return-value]


def test_a_marketer_saves_an_audience_from_the_form_and_sees_its_live_count(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    marketer = create_app_user(running_app.ctx, role=Role.MARKETER)
    with logged_in_client(running_app, marketer) as client:
        saved = client.post("/app/audiences", data=client.form(FORM))
        assert saved.status_code == 303, saved.text
        page = client.get(saved.headers["location"])
        listed = client.get("/app/audiences")
    [audience] = list_audiences(running_app.ctx)
    assert audience.rule["tags"]["any"] == ["angebote"]
    assert audience.rule["attributes"] == [{"key": "stadt", "op": "eq", "value": "Berlin"}]
    assert audience.rule["consent_purpose"] == "marketing"
    assert "The audience is saved." in page.text
    assert "3 contacts, 2 of them with consent" in page.text
    assert "Berliner Angebote" in listed.text and "<strong>2</strong>" in listed.text


def test_the_count_endpoint_counts_the_form_as_it_stands(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with _owner(running_app) as client:
        everyone = client.post("/app/audiences/count", data={**FORM, "consent": "-"},
                               headers={"X-CSRF-Token": client.csrf})
        only_sandbox = client.post("/app/audiences/count",
                                   data={**FORM, "channels": "whatsapp"},
                                   headers={"X-CSRF-Token": client.csrf})
    assert everyone.json() == {"contacts": 3, "with_consent": 3,
                               "text": "3 contacts, 3 of them with consent"}
    assert only_sandbox.json()["contacts"] == 0


def test_the_count_button_without_script_shows_the_count_and_saves_nothing(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/audiences", data=client.form({**FORM, "action": "count"}))
    assert answer.status_code == 200
    assert "3 contacts, 2 of them with consent" in answer.text
    assert list_audiences(running_app.ctx) == []


def test_an_audience_is_changed_through_its_form(running_app: RunningApp,
                                                 shop: dict[str, int]) -> None:
    audience_id = create_audience(running_app.ctx, "Alle", {}).id
    with _owner(running_app) as client:
        form = client.get(f"/app/audiences/{audience_id}")
        changed = client.post(f"/app/audiences/{audience_id}", data=client.form(
            {**FORM, "name": "Nur Angebote", "attr_key": "", "tags_none": "VIP ",
             "languages": "de, EN", "channels": ["sandbox", "whatsapp"]}))
    assert 'value="Alle"' in form.text
    assert changed.status_code == 303
    rule = get_audience(running_app.ctx, audience_id).rule
    assert rule["tags"] == {"any": ["angebote"], "all": [], "none": ["vip"]}
    assert rule["languages"] == ["de", "en"] and rule["channels"] == ["sandbox", "whatsapp"]
    assert rule["attributes"] == []


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "Give the audience a name"),
    ({"attr_value": ""}, "The attribute stadt needs a value."),
    ({"attr_op": "like"}, "Choose a condition for every attribute."),
    ({"attr_key": "farbe"}, "farbe, which is not a declared attribute"),
])
def test_a_form_the_rules_refuse_comes_back_filled_in_with_the_reason(
    running_app: RunningApp, shop: dict[str, int], change: dict[str, str], message: str
) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/audiences", data=client.form({**FORM, **change}))
        counted = client.post("/app/audiences/count", data={**FORM, **change},
                              headers={"X-CSRF-Token": client.csrf})
    assert answer.status_code == 422
    assert "Not saved:" in answer.text and message in answer.text
    assert 'value="Angebote"' in answer.text
    if "name" not in change:
        assert counted.status_code == 422 and message in counted.json()["error"]
    assert list_audiences(running_app.ctx) == []


def test_a_rule_on_an_undeclared_attribute_is_refused_in_the_persons_language(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/audiences", data=client.form({**FORM, "attr_key": "farbe"}),
                             headers={"Accept-Language": "de"})
    assert answer.status_code == 422
    assert "Die Regel filtert nach farbe, das ist kein angelegtes Merkmal." in answer.text
    assert "declared attribute" not in answer.text


def test_a_taken_name_is_refused_in_the_form(running_app: RunningApp,
                                             shop: dict[str, int]) -> None:
    create_audience(running_app.ctx, "Berliner Angebote", {})
    with _owner(running_app) as client:
        answer = client.post("/app/audiences", data=client.form(FORM))
    assert answer.status_code == 409
    assert "There is an audience with this name already." in answer.text


def test_an_audience_in_use_is_not_deleted_and_a_free_one_is(running_app: RunningApp) -> None:
    ctx = running_app.ctx
    used = create_audience(ctx, "Benutzt", {}).id
    free = create_audience(ctx, "Frei", {}).id
    campaign(ctx, used, channel=ChannelKind.SANDBOX)
    with _owner(running_app) as client:
        refused = client.post(f"/app/audiences/{used}/delete", data=client.form({}))
        deleted = client.post(f"/app/audiences/{free}/delete", data=client.form({}))
    assert refused.status_code == 409 and "A campaign uses this audience" in refused.text
    assert deleted.status_code == 303
    assert [a.id for a in list_audiences(ctx)] == [used]


def test_an_unknown_audience_is_a_404_page(running_app: RunningApp) -> None:
    with _owner(running_app) as client:
        answer = client.get("/app/audiences/999")
        posted = client.post("/app/audiences/999", data=client.form(FORM))
    assert answer.status_code == 404 and posted.status_code == 404
    assert "<html" in answer.text


def test_agents_may_not_open_or_change_audiences(running_app: RunningApp) -> None:
    agent = create_app_user(running_app.ctx, role=Role.AGENT)
    with logged_in_client(running_app, agent) as client:
        listed = client.get("/app/audiences")
        created = client.post("/app/audiences", data=client.form(FORM))
        counted = client.post("/app/audiences/count", data=FORM,
                              headers={"X-CSRF-Token": client.csrf})
    assert (listed.status_code, created.status_code, counted.status_code) == (403, 403, 403)
    assert list_audiences(running_app.ctx) == []


def test_a_form_without_the_csrf_token_is_refused(running_app: RunningApp) -> None:
    with _owner(running_app) as client:
        answer = client.post("/app/audiences", data=FORM)
        counted = client.post("/app/audiences/count", data=FORM)
    assert answer.status_code == 403 and counted.status_code == 403
    assert list_audiences(running_app.ctx) == []


def test_a_visitor_without_a_session_is_sent_to_the_login(running_app: RunningApp) -> None:
    with AppClient(base_url=running_app.base_url) as client:
        answer = client.get("/app/audiences")
    assert answer.status_code == 303 and "/app/login" in answer.headers["location"]
