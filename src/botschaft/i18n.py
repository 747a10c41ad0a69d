"""User-facing text in German and English, from gettext catalogues (locales/<lang>/*.po).

Message ids are stable keys (``chat.stop_confirmation``); the catalogues hold the words. A
test keeps both catalogues complete, so a missing translation fails CI, not a customer.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("de", "en")
FALLBACK = "en"
_LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The translations of one language, read once per process."""
    path = _LOCALES / language / "LC_MESSAGES" / "botschaft.po"
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string}


def pick_language(*candidates: str | None) -> str:
    """The first supported language among the candidates (e.g. contact's, workspace's)."""
    for candidate in candidates:
        if candidate:
            short = candidate.replace("_", "-").split("-")[0].lower()
            if short in LANGUAGES:
                return short
    return FALLBACK


def translate(language: str, key: str, **values: Any) -> str:
    """The text for ``key`` in ``language`` (falling back to English), with ``values`` filled in.

    A key missing from every catalogue is a programming error and raises ``KeyError``.
    """
    text = catalogue(pick_language(language)).get(key) or catalogue(FALLBACK)[key]
    return text.format(**values) if values else text
