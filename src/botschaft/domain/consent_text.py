"""Consent texts: what a person is shown before they agree, with every element the law asks.

A text is immutable; a change is a new version. Its SHA-256 over a canonical form identifies
exactly what was shown and is stored with every consent event that used it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlparse

from botschaft.domain.errors import ConsentTextIncomplete

# The elements the data-protection authorities expect in a messenger-marketing consent
# (who, what for, which data, to whom, how often, how to withdraw, privacy policy).
REQUIRED_ELEMENTS: tuple[str, ...] = (
    "company",
    "purpose",
    "data_categories",
    "recipients",
    "frequency",
    "withdrawal",
    "privacy_policy_url",
)


@dataclass(frozen=True)
class ConsentTextDraft:
    """The content of one consent text version, before it is stored."""

    key: str
    language: str
    consent_purpose: str
    company: str
    purpose: str
    data_categories: str
    recipients: str
    frequency: str
    withdrawal: str
    privacy_policy_url: str
    intro: str = ""

    def sha256(self) -> str:
        """Hash of the canonical JSON of every field: equal texts, equal hashes."""
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def rendered(self) -> str:
        """The full text as a person reads it, every element in a fixed order."""
        parts = [self.intro] if self.intro.strip() else []
        parts += [
            self.company,
            self.purpose,
            self.data_categories,
            self.recipients,
            self.frequency,
            self.withdrawal,
            self.privacy_policy_url,
        ]
        return "\n\n".join(p.strip() for p in parts)


def lint_consent_text(draft: ConsentTextDraft) -> tuple[str, ...]:
    """Return the names of required elements that are missing or unusable (empty = fine)."""
    missing = [name for name in REQUIRED_ELEMENTS if not str(getattr(draft, name)).strip()]
    url = draft.privacy_policy_url.strip()
    if url and not _is_web_url(url):
        missing.append("privacy_policy_url (not an http(s) URL)")
    for name in ("key", "language", "consent_purpose"):
        if not str(getattr(draft, name)).strip():
            missing.append(name)
    return tuple(missing)


def check_consent_text(draft: ConsentTextDraft) -> None:
    """Raise ``ConsentTextIncomplete`` naming every missing element."""
    missing = lint_consent_text(draft)
    if missing:
        raise ConsentTextIncomplete(missing)


def draft_field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ConsentTextDraft))


def _is_web_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)
