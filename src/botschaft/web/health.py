"""Liveness and readiness: is the process up, is the database reachable and migrated."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from botschaft import __version__
from botschaft.services.context import Context
from botschaft.storage.migrate import current_revision, head_revision

router = APIRouter()


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None
    schema_current: bool


@router.get("/healthz", response_model=Health, tags=["operations"])
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is current, 503 otherwise."""
    ctx: Context = request.app.state.ctx
    try:
        with ctx.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(ctx.db)
    except SQLAlchemyError:
        body = Health(
            status="unavailable", version=__version__, database=ctx.db.dialect,
            schema_revision=None, schema_current=False,
        )
        return JSONResponse(body.model_dump(), status_code=503)
    current = revision == head_revision()
    body = Health(
        status="ok" if current else "migrations pending",
        version=__version__,
        database=ctx.db.dialect,
        schema_revision=revision,
        schema_current=current,
    )
    return JSONResponse(body.model_dump(), status_code=200 if current else 503)
