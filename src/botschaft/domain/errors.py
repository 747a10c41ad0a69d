"""The errors Botschaft reports to people.

Every error carries a stable ``code`` (for API clients and logs) and a message that tells a
person what is wrong and how to fix it. The web layer turns them into 4xx answers and the CLI
into one line on stderr; nothing else needs to know how.
"""

from __future__ import annotations


class BotschaftError(Exception):
    """Base of every error that Botschaft reports on purpose.

    ``message`` is English, for API clients, the CLI and logs. A refusal that people also
    meet in the app names its text in the catalogues: ``key``, with ``values`` to fill in
    (the web layer translates it; the domain itself knows no languages).
    """

    code = "error"
    status = 400

    def __init__(self, message: str, *, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.values = values


class ConfigError(BotschaftError):
    code = "config_invalid"


class InvalidPhoneNumber(BotschaftError):
    code = "phone_invalid"
    status = 422


class InvalidTimeZone(BotschaftError):
    code = "timezone_invalid"
    status = 422


class ConsentTextIncomplete(BotschaftError):
    code = "consent_text_incomplete"
    status = 422

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(
            "The consent text lacks required elements: " + ", ".join(missing)
            + ". A consent must say who, what for, which data, to whom it goes, how often,"
            " how to withdraw, and link the privacy policy."
        )
        self.missing = missing


class NotFound(BotschaftError):
    code = "not_found"
    status = 404


class ConsentConflict(BotschaftError):
    """A consent event that the current state does not allow (e.g. confirming nothing)."""

    code = "consent_conflict"
    status = 409


class IdentityTaken(BotschaftError):
    code = "identity_taken"
    status = 409
