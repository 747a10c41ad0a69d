"""Creating sign-up pages: what a visitor could not rely on is refused, with the reason."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import insert

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent_text import ConsentTextDraft
from botschaft.domain.errors import BotschaftError, ConsentTextIncomplete, NotFound
from botschaft.domain.signup import InvalidSlug, SignupPageInvalid, SlugTaken
from botschaft.services.consent_texts import publish_consent_text
from botschaft.services.context import Context
from botschaft.services.signup import PageSpec, create_page, default_page_for, list_pages
from botschaft.settings import TelegramSettings
from botschaft.storage.models import ConsentText

from factories import marketing_text


def _spec(**changes: object) -> PageSpec:
    fields: dict[str, object] = {
        "slug": "angebote", "title": "Angebote", "channels": (ChannelKind.SANDBOX,),
        "consent_text_key": "newsletter",
    }
    fields.update(changes)
    return PageSpec(**fields)  # type: ignore[arg-type]


def test_a_page_pins_the_latest_text_version_of_each_language(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    latest = publish_consent_text(ctx, marketing_text(frequency="einmal pro Woche"))
    english = publish_consent_text(ctx, marketing_text(language="en", company="Sunshine Ltd"))

    page = create_page(ctx, _spec())

    assert dict(page.consent_text_ids) == {"de": latest.id, "en": english.id}
    assert page.languages == ("de", "en")
    assert [p.slug for p in list_pages(ctx)] == ["angebote"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"slug": "Angebote!"}, InvalidSlug),
        ({"title": " "}, SignupPageInvalid),
        ({"channels": ()}, SignupPageInvalid),
        ({"channels": (ChannelKind.WEBCHAT,)}, SignupPageInvalid),
        ({"channels": (ChannelKind.WHATSAPP,)}, SignupPageInvalid),  # not switched on
        ({"channels": (ChannelKind.TELEGRAM,)}, SignupPageInvalid),
        ({"purpose": "service"}, SignupPageInvalid),
        ({"purpose": "gesundheitsdaten"}, SignupPageInvalid),
        ({"consent_text_key": "gibt-es-nicht"}, NotFound),
        ({"whatsapp_template": "Double Opt-In"}, SignupPageInvalid),
        ({"business_number": "12"}, BotschaftError),
    ],
)
def test_a_page_a_visitor_could_not_rely_on_is_refused(
    ctx: Context, changes: dict[str, object], error: type[Exception]
) -> None:
    publish_consent_text(ctx, marketing_text())
    with pytest.raises(error):
        create_page(ctx, _spec(**changes))
    assert list_pages(ctx) == []


def test_a_custom_purpose_needs_its_own_consent_text(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    publish_consent_text(ctx, marketing_text(key="reise", consent_purpose="reiseinfo"))
    with pytest.raises(SignupPageInvalid, match="is for 'marketing'"):
        create_page(ctx, _spec(purpose="reiseinfo"))
    assert create_page(ctx, _spec(purpose="reiseinfo", consent_text_key="reise")).purpose == (
        "reiseinfo")


def test_a_stored_text_that_fails_the_lint_is_refused(ctx: Context) -> None:
    draft = ConsentTextDraft(**{**marketing_text().__dict__, "recipients": ""})
    with ctx.db.write() as session:
        session.execute(insert(ConsentText).values(
            key=draft.key, version=1, language="de", consent_purpose=draft.consent_purpose,
            intro="", company=draft.company, purpose=draft.purpose,
            data_categories=draft.data_categories, recipients="", frequency=draft.frequency,
            withdrawal=draft.withdrawal, privacy_policy_url=draft.privacy_policy_url,
            sha256=draft.sha256(), created_at=ctx.clock.now(),
        ))
    with pytest.raises(ConsentTextIncomplete, match="recipients"):
        create_page(ctx, _spec())


def test_a_slug_names_one_page(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    create_page(ctx, _spec())
    with pytest.raises(SlugTaken):
        create_page(ctx, _spec(title="Noch eine"))


def test_click_to_chat_on_whatsapp_needs_the_business_number(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    whatsapp = ctx.settings.whatsapp.model_copy(update={
        "enabled": True, "phone_number_id": "1", "access_token": SecretStr("t"),
        "app_secret": SecretStr("s"), "verify_token": SecretStr("v")})
    on = Context(ctx.db, ctx.settings.model_copy(update={"whatsapp": whatsapp}), ctx.clock)
    with pytest.raises(SignupPageInvalid, match="business_number"):
        create_page(on, _spec(channels=(ChannelKind.WHATSAPP,), click_to_chat=True))
    page = create_page(on, _spec(channels=(ChannelKind.WHATSAPP,), click_to_chat=True,
                                 business_number="030 1234567"))
    assert page.business_number == "+49301234567"


def test_start_in_a_chat_answers_with_the_marked_page_else_the_oldest(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    telegram = TelegramSettings(enabled=True, bot_token=SecretStr("1:x"),
                                bot_username="reise_bot", webhook_secret=SecretStr("s"))
    on = Context(ctx.db, ctx.settings.model_copy(update={"telegram": telegram}), ctx.clock)
    create_page(on, _spec(slug="erste"))
    create_page(on, _spec(slug="zweite", channels=(ChannelKind.SANDBOX, ChannelKind.TELEGRAM),
                          keyword_default=True))
    with ctx.db.read() as session:
        sandbox = default_page_for(session, ChannelKind.SANDBOX)
        telegram_page = default_page_for(session, ChannelKind.TELEGRAM)
        whatsapp = default_page_for(session, ChannelKind.WHATSAPP)
    assert sandbox is not None and sandbox.slug == "zweite"
    assert telegram_page is not None and telegram_page.slug == "zweite"
    assert whatsapp is None


def test_a_page_for_a_switched_off_sandbox_is_refused(ctx: Context) -> None:
    publish_consent_text(ctx, marketing_text())
    off = Context(ctx.db, ctx.settings.model_copy(update={"sandbox_enabled": False}), ctx.clock)
    with pytest.raises(SignupPageInvalid, match="BOTSCHAFT_SANDBOX_ENABLED"):
        create_page(off, _spec())
