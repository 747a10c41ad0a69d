"""Who may do what in the admin app: the three roles and the areas each may enter.

The server checks these on every request; the navigation only hides what a role may not
open anyway.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"  # everything, including people, tokens and settings
    MARKETER = "marketer"  # contacts, sign-up pages, campaigns
    AGENT = "agent"  # the inbox, and contacts to read


class Area(StrEnum):
    INBOX = "inbox"
    CONTACTS = "contacts"
    # Recording a withdrawal someone asked for by phone or mail: the one consent change a
    # person of the team may make, and only as a new ledger event.
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    SIGNUP_PAGES = "signup_pages"
    CAMPAIGNS = "campaigns"
    SETTINGS = "settings"
    USERS = "users"
    API_TOKENS = "api_tokens"
    AUDIT_LOG = "audit_log"


_EVERYONE = frozenset(Role)
_MARKETING = frozenset({Role.OWNER, Role.MARKETER})
_OWNER = frozenset({Role.OWNER})

ROLES_FOR: dict[Area, frozenset[Role]] = {
    Area.INBOX: _EVERYONE,
    Area.CONTACTS: _EVERYONE,
    Area.CONSENT_WITHDRAWAL: _EVERYONE,
    Area.SIGNUP_PAGES: _MARKETING,
    Area.CAMPAIGNS: _MARKETING,
    Area.SETTINGS: _OWNER,
    Area.USERS: _OWNER,
    Area.API_TOKENS: _OWNER,
    Area.AUDIT_LOG: _OWNER,
}


def allows(role: Role, area: Area) -> bool:
    """Whether someone with ``role`` may open and use ``area``."""
    return role in ROLES_FOR[area]


def parse_role(value: str) -> Role | None:
    """The role named ``value``, or None for anything else."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        return None
