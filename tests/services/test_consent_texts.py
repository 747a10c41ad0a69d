from __future__ import annotations

import pytest

from botschaft.domain.errors import ConsentTextIncomplete
from botschaft.services.consent_texts import get_consent_text, publish_consent_text
from botschaft.services.context import Context

from factories import marketing_text


def test_publishing_gives_versions_per_key_and_language(ctx: Context) -> None:
    first = publish_consent_text(ctx, marketing_text())
    second = publish_consent_text(ctx, marketing_text(frequency="einmal pro Woche"))
    english = publish_consent_text(ctx, marketing_text(language="en"))
    assert (first.version, second.version, english.version) == (1, 2, 1)
    assert first.sha256 != second.sha256


def test_publishing_the_same_text_again_returns_the_stored_version(ctx: Context) -> None:
    first = publish_consent_text(ctx, marketing_text())
    again = publish_consent_text(ctx, marketing_text())
    assert again.id == first.id


def test_an_incomplete_text_is_refused_naming_what_is_missing(ctx: Context) -> None:
    with pytest.raises(ConsentTextIncomplete, match="recipients, withdrawal"):
        publish_consent_text(ctx, marketing_text(recipients="", withdrawal="  "))


def test_a_stored_text_reads_back_with_the_same_hash(ctx: Context) -> None:
    stored = publish_consent_text(ctx, marketing_text())
    assert get_consent_text(ctx, stored.id).draft.sha256() == stored.sha256
