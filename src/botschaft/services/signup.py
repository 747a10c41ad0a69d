"""Sign-up pages: creating them (checked against the law's and the channels' needs), reading them.

A page pins the published versions of its consent text per language at creation, so every
agreement made on it names the exact text the visitor read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, SERVICE
from botschaft.domain.consent_text import check_consent_text
from botschaft.domain.errors import NotFound
from botschaft.domain.phone import normalise_phone
from botschaft.domain.signup import (
    RequestLimits,
    SignupPageInvalid,
    SlugTaken,
    check_slug,
)
from botschaft.i18n import LANGUAGES
from botschaft.services.audit import record_audit
from botschaft.services.consent_texts import draft_of
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.models import ConsentText
from botschaft.storage.signup import SignupPage

DEFAULT_TEMPLATE = "double_opt_in"
# Meta's rule for template names: lower-case letters, digits and underscores.
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_PHONE_CHANNELS = frozenset({ChannelKind.WHATSAPP, ChannelKind.SANDBOX})


@dataclass(frozen=True)
class PageSpec:
    """What a business asks for when it creates a page."""

    slug: str
    title: str
    channels: tuple[ChannelKind, ...]
    consent_text_key: str
    purpose: str = MARKETING
    whatsapp_template: str = DEFAULT_TEMPLATE
    business_number: str | None = None
    click_to_chat: bool = False
    keyword_default: bool = False
    limits: RequestLimits = field(default_factory=RequestLimits)


@dataclass(frozen=True)
class SignupPageView:
    id: int
    slug: str
    title: str
    channels: tuple[ChannelKind, ...]
    purpose: str
    consent_text_key: str
    consent_text_ids: Mapping[str, int]  # language → published version id
    whatsapp_template: str
    business_number: str | None
    click_to_chat: bool
    keyword_default: bool
    limits: RequestLimits
    created_at: datetime
    active: bool

    @property
    def languages(self) -> tuple[str, ...]:
        """The page's languages, in the order the product lists them."""
        return tuple(code for code in LANGUAGES if code in self.consent_text_ids)

    @property
    def phone_channel(self) -> ChannelKind | None:
        """The channel a typed phone number is for (WhatsApp, or the sandbox), if any."""
        return next((c for c in self.channels if c in _PHONE_CHANNELS), None)

    def text_id(self, language: str) -> int:
        """The consent text shown in ``language`` (the page's first language otherwise)."""
        return self.consent_text_ids.get(language) or self.consent_text_ids[self.languages[0]]

    def language_of(self, text_id: int) -> str | None:
        return next((lang for lang, tid in self.consent_text_ids.items() if tid == text_id), None)


def create_page(ctx: Context, spec: PageSpec, *, actor_id: int | None = None) -> SignupPageView:
    """Store a new active page; refuses anything a visitor could not rely on.

    Refused: a slug that is taken or unusable, no channel or one that is not switched on or
    has no way in, the service purpose or a purpose no consent text is for, a consent text
    that is missing or fails the lint, a template name Meta would refuse, click-to-chat on
    WhatsApp without the business number, limits below one.
    """
    check_slug(spec.slug)
    title = spec.title.strip()
    if not title or len(title) > 200:
        raise SignupPageInvalid("A sign-up page needs a title of 1 to 200 characters.")
    _check_channels(ctx.settings, spec)
    if not _TEMPLATE_NAME.fullmatch(spec.whatsapp_template):
        raise SignupPageInvalid(
            f"{spec.whatsapp_template!r} is no WhatsApp template name"
            " (lower-case letters, digits and underscores)."
        )
    number = _business_number(ctx, spec)
    _check_limits(spec.limits)
    with ctx.db.write() as session:
        if session.scalar(select(SignupPage.id).where(SignupPage.slug == spec.slug)):
            raise SlugTaken(f"There is a sign-up page /join/{spec.slug} already.")
        texts = _pinned_texts(session, spec)
        row = SignupPage(
            slug=spec.slug, title=title, channels=[c.value for c in spec.channels],
            purpose=spec.purpose, consent_text_key=spec.consent_text_key,
            consent_text_ids=texts, whatsapp_template=spec.whatsapp_template,
            business_number=number, click_to_chat=spec.click_to_chat,
            keyword_default=spec.keyword_default,
            requests_per_number=spec.limits.per_number,
            number_period_hours=int(spec.limits.number_period.total_seconds() // 3600),
            submissions_per_ip=spec.limits.per_ip,
            ip_period_minutes=int(spec.limits.ip_period.total_seconds() // 60),
            created_at=ctx.clock.now(), active=True,
        )
        session.add(row)
        session.flush()
        record_audit(session, actor_id, "signup_page.created", f"signup_page:{row.id}",
                     {"slug": row.slug, "channels": row.channels, "purpose": row.purpose},
                     at=row.created_at)
        return view_of(row)


def set_page_active(ctx: Context, actor_id: int, page_id: int, active: bool) -> SignupPageView:
    """Take a page down (its address then says it does not exist) or put it up again."""
    with ctx.db.write() as session:
        row = session.get(SignupPage, page_id)
        if row is None:
            raise NotFound(f"There is no sign-up page #{page_id}.")
        if row.active != active:
            row.active = active
            record_audit(session, actor_id,
                         "signup_page.activated" if active else "signup_page.deactivated",
                         f"signup_page:{row.id}", {"slug": row.slug}, at=ctx.clock.now())
        return view_of(row)


def page_by_number(ctx: Context, page_id: int) -> SignupPageView:
    """Any page, active or not, by its id (for the admin app)."""
    with ctx.db.read() as session:
        row = session.get(SignupPage, page_id)
        if row is None:
            raise NotFound(f"There is no sign-up page #{page_id}.")
        return view_of(row)


def consent_text_choices(ctx: Context) -> list[tuple[str, str, tuple[str, ...]]]:
    """Published consent texts a page can pin: (key, purpose, languages), by key."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(ConsentText.key, ConsentText.consent_purpose, ConsentText.language)
            .distinct().order_by(ConsentText.key, ConsentText.language)
        ).all()
    found: dict[str, tuple[str, list[str]]] = {}
    for key, purpose, language in rows:
        found.setdefault(key, (purpose, []))[1].append(language)
    return [(key, purpose, tuple(languages)) for key, (purpose, languages) in found.items()]


def list_pages(ctx: Context) -> list[SignupPageView]:
    """Every page, oldest first."""
    with ctx.db.read() as session:
        return [view_of(r) for r in session.scalars(select(SignupPage).order_by(SignupPage.id))]


def get_page(ctx: Context, slug: str) -> SignupPageView:
    """The active page at ``/join/<slug>``, or ``NotFound``."""
    with ctx.db.read() as session:
        row = session.scalar(select(SignupPage).where(SignupPage.slug == slug))
        if row is None or not row.active:
            raise NotFound(f"There is no sign-up page /join/{slug}.")
        return view_of(row)


def default_page_for(session: Session, channel: ChannelKind) -> SignupPageView | None:
    """The page whose consent text START in a chat on ``channel`` answers with.

    A page marked ``keyword_default`` wins; otherwise the oldest active page on the channel.
    """
    rows = session.scalars(
        select(SignupPage).where(SignupPage.active.is_(True)).order_by(SignupPage.id)
    ).all()
    on_channel = [r for r in rows if channel.value in r.channels]
    chosen = next((r for r in on_channel if r.keyword_default), None) or next(
        iter(on_channel), None
    )
    return view_of(chosen) if chosen is not None else None


def page_by_id(session: Session, page_id: int) -> SignupPageView | None:
    row = session.get(SignupPage, page_id)
    return view_of(row) if row is not None else None


def view_of(row: SignupPage) -> SignupPageView:
    return SignupPageView(
        id=row.id, slug=row.slug, title=row.title,
        channels=tuple(ChannelKind(c) for c in row.channels), purpose=row.purpose,
        consent_text_key=row.consent_text_key,
        consent_text_ids={str(k): int(v) for k, v in row.consent_text_ids.items()},
        whatsapp_template=row.whatsapp_template, business_number=row.business_number,
        click_to_chat=row.click_to_chat, keyword_default=row.keyword_default,
        limits=RequestLimits(
            per_number=row.requests_per_number,
            number_period=timedelta(hours=row.number_period_hours),
            per_ip=row.submissions_per_ip,
            ip_period=timedelta(minutes=row.ip_period_minutes),
        ),
        created_at=row.created_at, active=row.active,
    )


def _check_channels(settings: Settings, spec: PageSpec) -> None:
    channels = spec.channels
    if not channels or len(set(channels)) != len(channels):
        raise SignupPageInvalid("A sign-up page names one or more channels, each once.")
    if ChannelKind.WEBCHAT in channels:
        raise SignupPageInvalid(
            "The website chat needs no sign-up page: its visitors write to you directly."
        )
    if set(channels) >= _PHONE_CHANNELS:
        raise SignupPageInvalid(
            "A page takes phone numbers for one channel: WhatsApp or the sandbox, not both."
        )
    switched_on = {
        # A page for a switched-off sandbox would send people to a phone that is not there.
        ChannelKind.SANDBOX: settings.sandbox_enabled,
        ChannelKind.WHATSAPP: settings.whatsapp.enabled,
        ChannelKind.TELEGRAM: settings.telegram.enabled and bool(settings.telegram.bot_username),
        ChannelKind.MESSENGER: settings.messenger.enabled and bool(settings.messenger.page_id),
    }
    for channel in channels:
        if not switched_on.get(channel, False):
            raise SignupPageInvalid(
                f"The {channel.value} channel is not ready for sign-ups: switch it on"
                f" ({_switch(channel)}) and, for Telegram, set"
                " BOTSCHAFT_TELEGRAM__BOT_USERNAME; for Messenger, BOTSCHAFT_MESSENGER__PAGE_ID."
            )


def _switch(channel: ChannelKind) -> str:
    # The sandbox's switch is a top-level setting; the providers' are in their sections.
    if channel is ChannelKind.SANDBOX:
        return "BOTSCHAFT_SANDBOX_ENABLED"
    return f"BOTSCHAFT_{channel.value.upper()}__ENABLED"


def _business_number(ctx: Context, spec: PageSpec) -> str | None:
    if spec.business_number:
        return normalise_phone(spec.business_number, ctx.settings.default_region)
    if spec.click_to_chat and ChannelKind.WHATSAPP in spec.channels:
        raise SignupPageInvalid(
            "Click-to-chat on WhatsApp needs the business's WhatsApp number (business_number)."
        )
    return None


def _check_limits(limits: RequestLimits) -> None:
    if min(limits.per_number, limits.per_ip) < 1:
        raise SignupPageInvalid("The request limits must allow at least one request.")
    if limits.number_period < timedelta(hours=1) or limits.ip_period < timedelta(minutes=1):
        raise SignupPageInvalid("The limit periods are at least an hour (number), a minute (IP).")


def _pinned_texts(session: Session, spec: PageSpec) -> dict[str, int]:
    if spec.purpose == SERVICE:
        raise SignupPageInvalid(
            "The 'service' purpose needs no sign-up: answering someone who wrote is allowed."
        )
    known = set(session.scalars(select(ConsentText.consent_purpose).distinct())) | {MARKETING}
    if spec.purpose not in known:
        raise SignupPageInvalid(
            f"{spec.purpose!r} is no known purpose: publish a consent text for it first."
        )
    pinned: dict[str, int] = {}
    for language in LANGUAGES:
        latest = session.scalar(
            select(ConsentText)
            .where(ConsentText.key == spec.consent_text_key, ConsentText.language == language)
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if latest is None:
            continue
        if latest.consent_purpose != spec.purpose:
            raise SignupPageInvalid(
                f"Consent text {spec.consent_text_key!r} ({language}) is for"
                f" {latest.consent_purpose!r}, not for {spec.purpose!r}."
            )
        check_consent_text(draft_of(latest))  # published texts passed; the rule may be newer
        pinned[language] = latest.id
    if not pinned:
        raise NotFound(
            f"There is no published consent text {spec.consent_text_key!r} in"
            f" {' or '.join(LANGUAGES)}."
        )
    return pinned
