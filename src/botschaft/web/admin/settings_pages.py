"""The owner's settings: an index of the areas that configure the business."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from botschaft.web.admin.auth import Owner, app_router
from botschaft.web.admin.rendering import app_page

router = app_router(tags=["admin app"])


@dataclass(frozen=True)
class SettingsSection:
    key: str  # translation keys: <key>title and <key>summary
    href: str
    icon: str


# One line per screen; screens of other areas add theirs here.
SECTIONS: list[SettingsSection] = [
    SettingsSection("app.settings.users.", "/app/settings/users", "users"),
    SettingsSection("app.settings.api_tokens.", "/app/settings/api-tokens", "key"),
    SettingsSection("app.settings.audit_log.", "/app/settings/audit-log", "list"),
    SettingsSection("app.settings.business_hours.", "/app/settings/business-hours", "clock"),
    SettingsSection("app.settings.auto_replies.", "/app/settings/auto-replies", "inbox"),
    SettingsSection("app.settings.duty.", "/app/settings/duty", "users"),
]


@router.get("/settings")
async def settings_index(request: Request, who: Owner) -> Response:
    return app_page(request, who, "app/settings.html", current="app.nav.settings",
                    sections=SECTIONS)
