"""Test data that reads like a real business's."""

from __future__ import annotations

from botschaft.domain.consent import MARKETING
from botschaft.domain.consent_text import ConsentTextDraft


def marketing_text(**changes: str) -> ConsentTextDraft:
    fields = {
        "key": "newsletter",
        "language": "de",
        "consent_purpose": MARKETING,
        "company": "Reisebüro Sonnenschein GmbH, Hauptstraße 1, 10115 Berlin",
        "purpose": "Angebote und Reisetipps per WhatsApp",
        "data_categories": "Telefonnummer, Name, Zeitpunkt und Inhalt der Einwilligung",
        "recipients": "Meta Platforms Ireland Ltd. als Betreiber von WhatsApp",
        "frequency": "höchstens zwei Nachrichten pro Woche",
        "withdrawal": "Jederzeit mit der Nachricht STOP widerrufbar",
        "privacy_policy_url": "https://sonnenschein.example/datenschutz",
    }
    fields.update(changes)
    return ConsentTextDraft(**fields)
