"""What every server-rendered page shares: templates, translations, our static files, CSP.

The sandbox phone, the chat window, the sign-up pages and the preference page are drawn
with these; none of them loads anything from another host.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from botschaft.domain.errors import NotFound
from botschaft.i18n import LANGUAGES, pick_language, translate

_WEB = Path(__file__).parent
_STATIC = _WEB / "static"
_ASSET_NAME = re.compile(r"[a-z0-9-]+\.(css|js|svg)")
_MEDIA_TYPES = {
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
}
# Only Botschaft itself may be reached from our pages; frame-ancestors stays open because
# embedding the chat window on the business's website is its purpose.
FRAME_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'"
)
PAGE_POLICY = FRAME_POLICY + "; frame-ancestors 'self'"

templates = Environment(
    loader=FileSystemLoader(_WEB / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def asset_response(folder: str, name: str) -> Response:
    """One of our own static files (by exact name, never a path), cacheable for an hour."""
    match = _ASSET_NAME.fullmatch(name)
    path = _STATIC / folder / name
    if match is None or not path.is_file():
        raise NotFound(f"There is no file {name!r} here.")
    return Response(
        _read(path), media_type=_MEDIA_TYPES[match.group(1)],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@cache
def asset_url(folder: str, name: str) -> str:
    """The address of a static file, with its content hash so browsers never keep old ones."""
    digest = hashlib.sha256(_read(_STATIC / folder / name)).hexdigest()[:12]
    return f"/{folder}/static/{name}?v={digest}"


def page_language(request: Request, chosen: str | None) -> str:
    """The page's language: the one asked for, else the browser's first we speak."""
    header = request.headers.get("accept-language", "")
    # "de-CH,de;q=0.9,en;q=0.8": browsers list languages by preference already.
    offered = [part.split(";")[0].strip() for part in header.split(",")]
    settings = request.app.state.settings
    return pick_language(chosen, *offered, settings.default_language)


def render(template: str, language: str, **context: Any) -> str:
    """Render one of our templates with ``t(key, ...)`` bound to ``language``."""

    def t(key: str, **values: Any) -> str:
        return translate(language, key, **values)

    return templates.get_template(template).render(
        t=t, lang=language, languages=LANGUAGES, asset=asset_url, **context
    )


def static_text(folder: str, name: str) -> str:
    """One of our static files as text (for files the server fills in before sending)."""
    return _read(_STATIC / folder / name).decode("utf-8")


JS_MEDIA_TYPE = _MEDIA_TYPES["js"]


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


