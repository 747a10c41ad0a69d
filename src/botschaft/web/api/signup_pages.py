"""/api/v1/signup-pages: create sign-up pages and get their address and embed snippets."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING
from botschaft.domain.signup import RequestLimits, sign_form_token
from botschaft.services.consent_texts import get_consent_text
from botschaft.services.context import Context
from botschaft.services.secret import signing_key
from botschaft.services.signup import (
    DEFAULT_TEMPLATE,
    PageSpec,
    SignupPageView,
    create_page,
    list_pages,
)
from botschaft.web.api.deps import Ctx, Holder
from botschaft.web.pages import render

router = APIRouter(prefix="/api/v1/signup-pages", tags=["sign-up pages"])


class SignupPageIn(BaseModel):
    slug: str = Field(description="The page's address: /join/<slug>. a-z, 0-9 and dashes.")
    title: str = Field(description="The heading visitors see.")
    channels: list[ChannelKind] = Field(
        description="whatsapp or sandbox (a phone number is typed), telegram, messenger."
    )
    consent_text_key: str = Field(
        description="Key of a published consent text; its latest version per language is"
        " pinned to the page."
    )
    purpose: str = Field(MARKETING, description="The consent purpose, e.g. marketing.")
    whatsapp_template: str = Field(
        DEFAULT_TEMPLATE,
        description="Approved WhatsApp utility template for the double opt-in message; its"
        " body takes the sender's name and the hours to answer.",
    )
    business_number: str | None = Field(
        None, description="The business's WhatsApp number, for wa.me click-to-chat links."
    )
    click_to_chat: bool = Field(
        False, description="Offer 'open the chat myself' with a QR code after agreeing."
    )
    keyword_default: bool = Field(
        False, description="Its consent text answers START in chats on its channels."
    )
    requests_per_number: int = Field(1, ge=1, description="Double opt-ins per number per period.")
    number_period_hours: int = Field(24, ge=1, description="That period, in hours.")
    submissions_per_ip: int = Field(10, ge=1, description="Sign-ups per IP address per period.")
    ip_period_minutes: int = Field(60, ge=1, description="That period, in minutes.")


class EmbedSnippets(BaseModel):
    iframe: str = Field(description="The page in an iframe, for any website.")
    forms: dict[str, str] = Field(
        description="Per language: a plain HTML form posting to /join/<slug>, with the full"
        " consent text, for a CMS without iframes."
    )


class SignupPageOut(BaseModel):
    id: int
    slug: str
    url: str
    title: str
    channels: list[ChannelKind]
    purpose: str
    consent_text_key: str
    consent_text_ids: dict[str, int]
    whatsapp_template: str
    business_number: str | None
    click_to_chat: bool
    keyword_default: bool
    requests_per_number: int
    number_period_hours: int
    submissions_per_ip: int
    ip_period_minutes: int
    created_at: datetime
    active: bool
    embed: EmbedSnippets


@router.post("", response_model=SignupPageOut, status_code=201)
async def create_signup_page(ctx: Ctx, _holder: Holder, body: SignupPageIn) -> SignupPageOut:
    """Create a page; refused (422/409) with the reason when a visitor could not rely on it."""
    spec = PageSpec(
        slug=body.slug, title=body.title, channels=tuple(body.channels),
        consent_text_key=body.consent_text_key, purpose=body.purpose,
        whatsapp_template=body.whatsapp_template, business_number=body.business_number,
        click_to_chat=body.click_to_chat, keyword_default=body.keyword_default,
        limits=RequestLimits(
            per_number=body.requests_per_number,
            number_period=timedelta(hours=body.number_period_hours),
            per_ip=body.submissions_per_ip,
            ip_period=timedelta(minutes=body.ip_period_minutes),
        ),
    )
    page = await run_in_threadpool(create_page, ctx, spec)
    return await run_in_threadpool(page_out, ctx, page)


@router.get("", response_model=list[SignupPageOut])
async def list_signup_pages(ctx: Ctx, _holder: Holder) -> list[SignupPageOut]:
    """Every sign-up page, oldest first, with its embed snippets."""
    pages = await run_in_threadpool(list_pages, ctx)
    return [await run_in_threadpool(page_out, ctx, page) for page in pages]


def page_out(ctx: Context, page: SignupPageView) -> SignupPageOut:
    """A page as the API shows it, with its address and embed snippets (the admin app too)."""
    url = f"{ctx.settings.effective_public_url}/join/{page.slug}"
    return SignupPageOut(
        id=page.id, slug=page.slug, url=url, title=page.title, channels=list(page.channels),
        purpose=page.purpose, consent_text_key=page.consent_text_key,
        consent_text_ids=dict(page.consent_text_ids), whatsapp_template=page.whatsapp_template,
        business_number=page.business_number, click_to_chat=page.click_to_chat,
        keyword_default=page.keyword_default, requests_per_number=page.limits.per_number,
        number_period_hours=int(page.limits.number_period.total_seconds() // 3600),
        submissions_per_ip=page.limits.per_ip,
        ip_period_minutes=int(page.limits.ip_period.total_seconds() // 60),
        created_at=page.created_at, active=page.active,
        embed=EmbedSnippets(
            iframe=(
                f'<iframe src="{escape(url)}?embed=1" title="{escape(page.title)}"'
                ' width="100%" height="980" style="border:0;max-width:720px"'
                ' loading="lazy"></iframe>'
            ),
            forms={language: _form_snippet(ctx, page, language, url)
                   for language in page.languages},
        ),
    )


def _form_snippet(ctx: Context, page: SignupPageView, language: str, url: str) -> str:
    """A plain form for any CMS; its token never expires but names the text it shows."""
    text_id = page.text_id(language)
    token = sign_form_token(page.slug, text_id, ctx.clock.now(), signing_key(ctx.settings),
                            embedded=True)
    ways = [c.value for c in page.channels if c in (ChannelKind.TELEGRAM, ChannelKind.MESSENGER)]
    if page.click_to_chat:
        ways.append("chat")
    return render(
        "join/snippet.html", language, page=page, text=get_consent_text(ctx, text_id).draft,
        form_token=token, action=url, business=ctx.settings.business.name, ways=ways,
    ).strip()
