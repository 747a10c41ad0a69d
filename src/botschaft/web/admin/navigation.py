"""The app's main navigation: each entry names the area (and so the roles) it leads to."""

from __future__ import annotations

from dataclasses import dataclass

from botschaft.domain.roles import Area, Role, allows


@dataclass(frozen=True)
class NavEntry:
    key: str  # the translation key of its label and the id templates mark as current
    href: str
    area: Area
    icon: str  # the name of an inline icon in templates/app/icons.html


ENTRIES = (
    NavEntry("app.nav.inbox", "/app/inbox", Area.INBOX, "inbox"),
    NavEntry("app.nav.contacts", "/app/contacts", Area.CONTACTS, "contacts"),
    NavEntry("app.nav.signup_pages", "/app/signup-pages", Area.SIGNUP_PAGES, "signup"),
    NavEntry("app.nav.campaigns", "/app/campaigns", Area.CAMPAIGNS, "campaigns"),
    NavEntry("app.nav.settings", "/app/settings", Area.SETTINGS, "settings"),
)


def entries_for(role: Role) -> tuple[NavEntry, ...]:
    """What ``role`` sees in the navigation (what it may open)."""
    return tuple(entry for entry in ENTRIES if allows(role, entry.area))
