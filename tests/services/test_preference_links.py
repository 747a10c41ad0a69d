"""Preference links and the footer of marketing messages."""

from __future__ import annotations

import re
from pathlib import Path

from botschaft.domain.channels import ChannelKind
from botschaft.domain.preference_token import read_preference_token
from botschaft.services.contacts import ContactView
from botschaft.services.context import Context
from botschaft.services.preference_links import marketing_footer, preference_url
from botschaft.services.secret import signing_key
from botschaft.settings import Settings

URL = re.compile(r"https?://\S+")


def test_the_link_names_the_public_url_and_opens_this_persons_page(
    ctx: Context, contact: ContactView
) -> None:
    url = preference_url(ctx, contact.id, ChannelKind.WHATSAPP)
    assert url.startswith(f"{ctx.settings.effective_public_url}/p/")
    token = url.rsplit("/", 1)[1]
    assert read_preference_token(token, signing_key(ctx.settings)) == (
        contact.id, ChannelKind.WHATSAPP,
    )


def test_the_footer_says_how_to_stop_and_links_the_page_in_german(
    ctx: Context, contact: ContactView
) -> None:
    footer = marketing_footer(ctx, contact.id, ChannelKind.WHATSAPP, "de")
    link = preference_url(ctx, contact.id, ChannelKind.WHATSAPP)
    assert footer == f"Abmelden: STOP schreiben. Pause oder weniger Nachrichten: {link}"


def test_the_footer_speaks_english_and_falls_back_to_it(
    ctx: Context, contact: ContactView
) -> None:
    english = marketing_footer(ctx, contact.id, ChannelKind.WHATSAPP, "en-GB")
    assert english.startswith("Unsubscribe: write STOP. Pause or fewer messages: http")
    assert marketing_footer(ctx, contact.id, ChannelKind.WHATSAPP, "fr") == english


def test_the_footer_names_the_first_configured_opt_out_word(
    ctx: Context, contact: ContactView, tmp_path: Path
) -> None:
    own = Context(ctx.db, Settings(data_dir=tmp_path / "data",
                                   database_url=ctx.settings.database_url,
                                   keywords={"opt_out": ["abbestellen", "stop"]}),  # type: ignore[arg-type]
                  ctx.clock)
    footer = marketing_footer(own, contact.id, ChannelKind.WHATSAPP, "de")
    assert footer.startswith("Abmelden: ABBESTELLEN schreiben.")


def test_without_opt_out_words_the_footer_gives_the_link_only(
    ctx: Context, contact: ContactView, tmp_path: Path
) -> None:
    own = Context(ctx.db, Settings(data_dir=tmp_path / "data",
                                   database_url=ctx.settings.database_url,
                                   keywords={"opt_out": []}),  # type: ignore[arg-type]
                  ctx.clock)
    footer = marketing_footer(own, contact.id, ChannelKind.WHATSAPP, "en")
    assert footer.startswith("Unsubscribe, pause or fewer messages: http")
    assert "STOP" not in footer


def test_the_footer_is_short_enough_for_any_message(ctx: Context, contact: ContactView) -> None:
    for language in ("de", "en"):
        footer = marketing_footer(ctx, contact.id, ChannelKind.WHATSAPP, language)
        assert len(URL.sub("", footer)) <= 70, footer
