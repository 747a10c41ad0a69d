"""/api/v1/attributes and a contact's tags and attributes: what audiences filter on."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from botschaft.services.contact_fields import (
    AttributeType,
    AttributeView,
    declare_attribute,
    list_attributes,
    set_attributes,
    set_tags,
)
from botschaft.web.api.deps import Ctx, Holder

router = APIRouter(prefix="/api/v1", tags=["contact fields"])


class AttributeIn(BaseModel):
    key: str = Field(description="lower_case_key, used in rules and as {{ key }} in texts.")
    label: str = Field(description="What people see.")
    purpose: str = Field(description="Why the business keeps it (data minimisation).")
    type: AttributeType = AttributeType.TEXT


class AttributeOut(BaseModel):
    key: str
    label: str
    purpose: str
    type: AttributeType

    @classmethod
    def of(cls, view: AttributeView) -> AttributeOut:
        return cls(key=view.key, label=view.label, purpose=view.purpose, type=view.type)


class TagsIn(BaseModel):
    tags: list[str] = Field(description="The contact's tags from now on (replaces the old).")


class AttributesIn(BaseModel):
    attributes: dict[str, str | int | float | bool | None] = Field(
        description="Declared keys and their values; null removes a value."
    )


@router.post("/attributes", response_model=AttributeOut, status_code=201)
async def declare(ctx: Ctx, _holder: Holder, body: AttributeIn) -> AttributeOut:
    """Declare an attribute with its purpose; only declared attributes are stored."""
    view = await run_in_threadpool(
        declare_attribute, ctx, body.key, body.label, body.purpose, body.type
    )
    return AttributeOut.of(view)


@router.get("/attributes", response_model=list[AttributeOut])
async def declared(ctx: Ctx, _holder: Holder) -> list[AttributeOut]:
    return [AttributeOut.of(a) for a in await run_in_threadpool(list_attributes, ctx)]


@router.put("/contacts/{contact_id}/tags")
async def replace_tags(ctx: Ctx, _holder: Holder, contact_id: int, body: TagsIn
                       ) -> dict[str, list[str]]:
    return {"tags": await run_in_threadpool(set_tags, ctx, contact_id, body.tags)}


@router.patch("/contacts/{contact_id}/attributes")
async def change_attributes(ctx: Ctx, _holder: Holder, contact_id: int, body: AttributesIn
                            ) -> dict[str, dict[str, str]]:
    """Set or remove declared attributes; an undeclared key is refused (422)."""
    values = await run_in_threadpool(set_attributes, ctx, contact_id, body.attributes)
    return {"attributes": values}
