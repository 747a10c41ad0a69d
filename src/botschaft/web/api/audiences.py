"""/api/v1/audiences: saved audience rules, and their live counts before sending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from botschaft.services.audiences import (
    AudienceCount,
    AudienceView,
    count_audience,
    count_rule,
    create_audience,
    delete_audience,
    get_audience,
    list_audiences,
    update_audience,
)
from botschaft.web.api.deps import Ctx, Holder

router = APIRouter(prefix="/api/v1/audiences", tags=["audiences"])

RULE_DESCRIPTION = (
    "A structured filter; every part that is set must hold. tags: {any, all, none} lists of"
    " tag names; attributes: [{key, op: eq|in|exists, value | values}] on declared"
    " attributes; channels and languages: lists; consent_purpose: the consent people need"
    " (marketing by default, null for none). See docs/audiences.md."
)
RULE_EXAMPLE = {
    "tags": {"any": ["angebote"], "none": ["mitarbeiter"]},
    "attributes": [{"key": "stadt", "op": "eq", "value": "Berlin"}],
    "channels": ["whatsapp"], "languages": ["de"], "consent_purpose": "marketing",
}


class AudienceIn(BaseModel):
    name: str = Field(description="A name people recognise, unique.")
    rule: dict[str, Any] = Field(
        default_factory=dict, description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE]
    )


class AudienceChange(BaseModel):
    name: str | None = None
    rule: dict[str, Any] | None = Field(None, description=RULE_DESCRIPTION)


class RuleIn(BaseModel):
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE])


class AudienceOut(BaseModel):
    id: int
    name: str
    rule: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: AudienceView) -> AudienceOut:
        return cls(id=view.id, name=view.name, rule=view.rule, created_at=view.created_at,
                   updated_at=view.updated_at)


class CountOut(BaseModel):
    contacts: int = Field(description="Contacts the rule selects (erased ones left out).")
    with_consent: int = Field(description="Of them, those with the rule's consent purpose.")

    @classmethod
    def of(cls, count: AudienceCount) -> CountOut:
        return cls(contacts=count.contacts, with_consent=count.with_consent)


@router.post("", response_model=AudienceOut, status_code=201)
async def create(ctx: Ctx, _holder: Holder, body: AudienceIn) -> AudienceOut:
    """Save a rule; 422 says what is wrong with it, 409 if the name is taken."""
    return AudienceOut.of(await run_in_threadpool(create_audience, ctx, body.name, body.rule))


@router.get("", response_model=list[AudienceOut])
async def list_all(ctx: Ctx, _holder: Holder) -> list[AudienceOut]:
    return [AudienceOut.of(a) for a in await run_in_threadpool(list_audiences, ctx)]


@router.post("/count", response_model=CountOut)
async def count_unsaved(ctx: Ctx, _holder: Holder, body: RuleIn) -> CountOut:
    """The live count of a rule not saved yet, e.g. while someone edits it."""
    return CountOut.of(await run_in_threadpool(count_rule, ctx, body.rule))


@router.get("/{audience_id}", response_model=AudienceOut)
async def get(ctx: Ctx, _holder: Holder, audience_id: int) -> AudienceOut:
    return AudienceOut.of(await run_in_threadpool(get_audience, ctx, audience_id))


@router.patch("/{audience_id}", response_model=AudienceOut)
async def change(ctx: Ctx, _holder: Holder, audience_id: int, body: AudienceChange
                 ) -> AudienceOut:
    return AudienceOut.of(
        await run_in_threadpool(update_audience, ctx, audience_id, body.name, body.rule)
    )


@router.delete("/{audience_id}", status_code=204)
async def delete(ctx: Ctx, _holder: Holder, audience_id: int) -> Response:
    """Delete an audience no campaign uses (409 otherwise: campaigns keep their record)."""
    await run_in_threadpool(delete_audience, ctx, audience_id)
    return Response(status_code=204)


@router.get("/{audience_id}/count", response_model=CountOut)
async def count(ctx: Ctx, _holder: Holder, audience_id: int) -> CountOut:
    """How many the saved rule selects now, and how many of them have its consent."""
    return CountOut.of(await run_in_threadpool(count_audience, ctx, audience_id))
