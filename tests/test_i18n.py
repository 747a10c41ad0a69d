"""The German and English catalogues are complete: every text exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from botschaft.i18n import LANGUAGES, catalogue, pick_language, translate

SRC = Path(__file__).resolve().parent.parent / "src" / "botschaft"
# Keys are dotted names such as "chat.stop_confirmation", quoted in code and templates.
_PREFIXES = "chat|join|webchat|sandbox|preferences|signup|welcome|campaign|clicks"
_KEY = re.compile(rf"""["']((?:{_PREFIXES})\.[a-z0-9_.]+)["']""")


def _keys_used_in_code() -> set[str]:
    used: set[str] = set()
    for path in SRC.rglob("*"):
        if path.suffix in (".py", ".html", ".js") and "locales" not in path.parts:
            used |= set(_KEY.findall(path.read_text(encoding="utf-8")))
    return used


def test_both_catalogues_have_the_same_keys() -> None:
    german, english = (set(catalogue(language)) for language in LANGUAGES)
    assert german - english == set(), "missing in English"
    assert english - german == set(), "missing in German"


def test_every_key_the_code_uses_has_a_text() -> None:
    known = set(catalogue("de")) & set(catalogue("en"))
    # Keys built from a prefix at run time end with a dot or underscore in the code.
    used = {
        key for key in _keys_used_in_code()
        if not key.endswith((".", "_", ".css", ".js", ".png", ".svg", ".html"))
    }
    assert used - known == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_the_same_in_both_languages(language: str) -> None:
    other = "en" if language == "de" else "de"
    for key, text in catalogue(language).items():
        assert set(re.findall(r"{(\w+)}", text)) == set(
            re.findall(r"{(\w+)}", catalogue(other)[key])
        ), key


def test_a_browser_language_picks_the_catalogue_and_others_fall_back_to_english() -> None:
    assert pick_language("de-AT") == "de"
    assert pick_language("fr", None) == "en"
    assert translate("de", "chat.help_no_privacy_url", sender="X").startswith("Hier schreibt X")
