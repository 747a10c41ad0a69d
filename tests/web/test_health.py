from __future__ import annotations

from fastapi.testclient import TestClient

from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.web.app import create_app


def test_healthz_reports_ok_on_a_migrated_database(ctx: Context, settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"embedded_worker": False}))) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["schema_current"] is True


def test_healthz_is_503_before_migration(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"embedded_worker": False}))) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "migrations pending"


def test_the_openapi_document_is_served(ctx: Context, settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"embedded_worker": False}))) as client:
        document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "Botschaft"
    assert "/healthz" in document["paths"]
