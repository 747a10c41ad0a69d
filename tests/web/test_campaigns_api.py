"""/api/v1/audiences, /api/v1/campaigns and contact fields: over HTTP, with a bearer token."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from botschaft.domain.channels import ChannelKind
from botschaft.services.consent_texts import publish_consent_text
from botschaft.storage.broadcast import Delivery
from broadcasts import person, subscriber
from web_app import RunningApp

from factories import marketing_text

SANDBOX_TEMPLATE = {"kind": "template", "template": {
    "name": "wochenangebot", "language": "de", "params": ["{{ first_name }}"],
    "text": "Hallo {{1}}, die Angebote der Woche von Botschaft. Abmelden: STOP"}}


@pytest.fixture
def shop(running_app: RunningApp) -> dict[str, int]:
    ctx = running_app.ctx
    text = publish_consent_text(ctx, marketing_text())
    anna = subscriber(ctx, text, "+4915100000401", "Anna Berg", channel=ChannelKind.SANDBOX)
    ben = subscriber(ctx, text, "+4915100000402", "Ben Kurz", channel=ChannelKind.SANDBOX)
    dora = person(ctx, "+4915100000403", "Dora Lang", channel=ChannelKind.SANDBOX)
    return {"anna": anna.id, "ben": ben.id, "dora": dora.id}


def _audience(client: httpx.Client) -> int:
    response = client.post("/api/v1/audiences", json={
        "name": "Berliner Angebote",
        "rule": {"tags": {"any": ["angebote"]},
                 "attributes": [{"key": "stadt", "op": "eq", "value": "Berlin"}]}})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _tag_and_place(client: httpx.Client, shop: dict[str, int]) -> None:
    assert client.post("/api/v1/attributes", json={
        "key": "stadt", "label": "Stadt", "purpose": "Angebote der Filiale vor Ort",
    }).status_code == 201
    for name in ("anna", "ben", "dora"):
        assert client.put(f"/api/v1/contacts/{shop[name]}/tags",
                          json={"tags": ["angebote"]}).status_code == 200
        assert client.patch(f"/api/v1/contacts/{shop[name]}/attributes",
                            json={"attributes": {"stadt": "Berlin"}}).status_code == 200


def _campaign(client: httpx.Client, audience_id: int, content: dict[str, object]) -> int:
    response = client.post("/api/v1/campaigns", json={
        "name": "Wochenangebot", "channel": "sandbox", "audience_id": audience_id,
        "content": content})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_audience_is_saved_and_counted_live(running_app: RunningApp,
                                               shop: dict[str, int]) -> None:
    with running_app.client() as client:
        _tag_and_place(client, shop)
        audience_id = _audience(client)
        assert client.get(f"/api/v1/audiences/{audience_id}/count").json() == {
            "contacts": 3, "with_consent": 2}
        unsaved = client.post("/api/v1/audiences/count", json={"rule": {"consent_purpose": None}})
        assert unsaved.json() == {"contacts": 3, "with_consent": 3}
        assert [a["id"] for a in client.get("/api/v1/audiences").json()] == [audience_id]


def test_a_malformed_rule_or_undeclared_attribute_is_a_422_that_says_why(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with running_app.client() as client:
        bad = client.post("/api/v1/audiences", json={"name": "x", "rule": {"tags": ["vip"]}})
        undeclared = client.patch(f"/api/v1/contacts/{shop['anna']}/attributes",
                                  json={"attributes": {"farbe": "blau"}})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "audience_rule_invalid"
    assert "tags is an object" in bad.json()["error"]["message"]
    assert undeclared.status_code == 422
    assert undeclared.json()["error"]["code"] == "attribute_undeclared"


def test_a_campaign_is_previewed_tested_started_paused_and_summed_up(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with running_app.client() as client:
        _tag_and_place(client, shop)
        campaign_id = _campaign(client, _audience(client), SANDBOX_TEMPLATE)
        preview = client.get(f"/api/v1/campaigns/{campaign_id}/preview",
                             params={"contact": shop["anna"]}).json()
        assert preview["decision"] == "send"
        assert preview["message"]["template"]["components"][0]["parameters"][0]["text"] == "Anna"
        assert client.get(f"/api/v1/campaigns/{campaign_id}/preview",
                          params={"contact": shop["dora"]}).json()["decision"] == "no_consent"
        assert client.get(f"/api/v1/campaigns/{campaign_id}/lint").json() == {
            "ok": True, "findings": []}

        tested = client.post(f"/api/v1/campaigns/{campaign_id}/test-send",
                             json={"contacts": [shop["anna"], shop["dora"]]}).json()
        assert [(m["status"], m["skip_reason"]) for m in tested] == [
            ("sent", None), ("skipped", "no_consent")]

        started = client.post(f"/api/v1/campaigns/{campaign_id}/start").json()
        assert (started["planned"], started["queued"], started["skipped"]) == (
            3, 2, {"no_consent": 1})
        assert started["campaign"]["status"] == "running"
        assert client.post(f"/api/v1/campaigns/{campaign_id}/pause").json()["status"] == "paused"
        assert client.post(f"/api/v1/campaigns/{campaign_id}/resume"
                           ).json()["status"] == "running"
        cancelled = client.post(f"/api/v1/campaigns/{campaign_id}/cancel").json()
        assert (cancelled["status"], cancelled["skipped"]) == ("cancelled", 3)
        summary = client.get(f"/api/v1/campaigns/{campaign_id}/summary").json()
    assert summary["targeted"] == 3
    assert summary["skipped"] == {"cancelled": 2, "no_consent": 1}
    assert (summary["sent"], summary["pending"], summary["opted_out_48h"]) == (0, 0, 0)


def test_a_lint_failure_is_a_422_in_the_callers_language(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with running_app.client() as client:
        audience = client.post("/api/v1/audiences", json={
            "name": "Ohne Einwilligung", "rule": {"consent_purpose": None}}).json()
        campaign_id = _campaign(client, audience["id"], SANDBOX_TEMPLATE)
        german = client.post(f"/api/v1/campaigns/{campaign_id}/start",
                             headers={"Accept-Language": "de-DE,de;q=0.9"})
        english = client.post(f"/api/v1/campaigns/{campaign_id}/start",
                              headers={"Accept-Language": "en"})
        lint = client.get(f"/api/v1/campaigns/{campaign_id}/lint",
                          headers={"Accept-Language": "de"}).json()
    assert german.status_code == 422
    assert german.json()["error"]["code"] == "campaign_lint_failed"
    assert "Einwilligung" in german.json()["error"]["message"]
    assert "marketing consent" in english.json()["error"]["message"]
    assert lint["ok"] is False
    assert [f["code"] for f in lint["findings"]] == ["audience_without_consent"]
    with running_app.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_personalisation_error_is_a_422_at_creation(running_app: RunningApp,
                                                      shop: dict[str, int]) -> None:
    with running_app.client() as client:
        audience_id = client.post("/api/v1/audiences", json={"name": "Alle"}).json()["id"]
        response = client.post("/api/v1/campaigns", json={
            "name": "Kaputt", "channel": "sandbox", "audience_id": audience_id,
            "content": {"kind": "text", "text": "Hallo {{ kontostand }}"}})
    assert response.status_code == 422
    assert "kontostand" in response.json()["error"]["message"]


def test_unknown_campaigns_and_wrong_states_are_404_and_409(running_app: RunningApp,
                                                            shop: dict[str, int]) -> None:
    with running_app.client() as client:
        missing = client.post("/api/v1/campaigns/999/start")
        audience_id = client.post("/api/v1/audiences", json={"name": "Alle"}).json()["id"]
        campaign_id = _campaign(client, audience_id, SANDBOX_TEMPLATE)
        not_running = client.post(f"/api/v1/campaigns/{campaign_id}/pause")
    assert missing.status_code == 404
    assert not_running.status_code == 409
    assert not_running.json()["error"]["code"] == "campaign_state_conflict"


def test_the_api_wants_a_token(running_app: RunningApp) -> None:
    with httpx.Client(base_url=running_app.base_url) as anonymous:
        assert anonymous.get("/api/v1/campaigns").status_code == 401
        assert anonymous.post("/api/v1/audiences/count", json={"rule": {}}).status_code == 401


def test_content_the_channel_cannot_carry_is_refused_at_creation(
    running_app: RunningApp, shop: dict[str, int]
) -> None:
    with running_app.client() as client:
        audience_id = client.post("/api/v1/audiences", json={"name": "Alle"}).json()["id"]
        too_many = client.post("/api/v1/campaigns", json={
            "name": "Viele Knöpfe", "channel": "sandbox", "audience_id": audience_id,
            "content": {"kind": "buttons", "text": "Botschaft fragt",
                        "buttons": [{"title": f"Nr. {n}"} for n in range(5)]}})
        switched_off = client.post("/api/v1/campaigns", json={
            "name": "Telegram", "channel": "telegram", "audience_id": audience_id,
            "content": {"kind": "text", "text": "Botschaft"}})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "content_unsupported"
    assert switched_off.status_code == 404
