"""The auto-replies' switches and wordings: read when a message comes in, edited by the owner.

Every kind is off until the owner switches it on. A kind without the owner's own wording in
a language speaks the catalogue's default (``chat.auto_reply.<kind>``), so German and
English are always there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from botschaft.domain.auto_reply import AutoReplyKind, check_text, first_name, render
from botschaft.i18n import LANGUAGES, pick_language, translate
from botschaft.services.audit import record_audit
from botschaft.services.context import Context
from botschaft.storage.business import AutoReply, AutoReplyText


@dataclass(frozen=True)
class AutoReplySetup:
    enabled: frozenset[AutoReplyKind]
    texts: dict[tuple[AutoReplyKind, str], str]  # the owner's wordings only

    def text(self, kind: AutoReplyKind, language: str) -> str:
        """The wording for a language: the owner's, or the catalogue's default."""
        own = self.texts.get((kind, language))
        return own if own is not None else default_text(kind, language)

    def is_own(self, kind: AutoReplyKind, language: str) -> bool:
        return (kind, language) in self.texts


def default_text(kind: AutoReplyKind, language: str) -> str:
    return translate(language, f"chat.auto_reply.{kind.value}")


def load_setup(session: Session) -> AutoReplySetup:
    enabled = frozenset(
        AutoReplyKind(kind)
        for kind in session.scalars(select(AutoReply.kind).where(AutoReply.enabled))
        if kind in AutoReplyKind.__members__.values()
    )
    texts = {
        (AutoReplyKind(row.kind), row.language): row.text
        for row in session.scalars(select(AutoReplyText))
    }
    return AutoReplySetup(enabled, texts)


def setup(ctx: Context) -> AutoReplySetup:
    with ctx.db.read() as session:
        return load_setup(session)


def fill(ctx: Context, text: str, language: str, *, name: str | None,
         opens: datetime | None) -> str:
    """The text as the person reads it: their name, the business, the next opening."""
    return render(text, {
        "name": (name or "").strip(),
        "first_name": first_name(name),
        "business": ctx.settings.business.name,
        "opens": format_opening(ctx, opens, language),
    })


def format_opening(ctx: Context, opens: datetime | None, language: str) -> str:
    """ "am Montag, 5. Oktober, ab 09:00 Uhr" in the business's zone; a fallback if never."""
    language = pick_language(language)
    if opens is None:
        return translate(language, "chat.auto_reply.opens_unknown")
    pattern = translate(language, "chat.auto_reply.opens_format")
    zone = ZoneInfo(ctx.settings.business.time_zone)
    return format_datetime(opens, pattern, tzinfo=zone, locale=language)


def set_enabled(session: Session, ctx: Context, kind: AutoReplyKind, enabled: bool) -> bool:
    """Switch a kind on or off; True if that changed anything."""
    row = session.get(AutoReply, kind.value)
    if row is None:
        session.add(AutoReply(kind=kind.value, enabled=enabled, updated_at=ctx.clock.now()))
        return enabled
    if row.enabled == enabled:
        return False
    row.enabled, row.updated_at = enabled, ctx.clock.now()
    return True


def set_text(session: Session, kind: AutoReplyKind, language: str, text: str | None) -> bool:
    """Store the owner's wording (checked), or None to go back to the default.

    True if that changed anything. Raises ``InvalidAutoReplyText`` for a bad placeholder.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    row = session.get(AutoReplyText, (kind.value, language))
    if text is None or not text.strip() or text.strip() == default_text(kind, language):
        if row is None:
            return False
        session.delete(row)
        return True
    checked = check_text(text)
    if row is None:
        session.add(AutoReplyText(kind=kind.value, language=language, text=checked))
        return True
    if row.text == checked:
        return False
    row.text = checked
    return True


def change_auto_reply(
    ctx: Context, actor_id: int, kind: AutoReplyKind, *, enabled: bool,
    texts: Mapping[str, str | None],
) -> bool:
    """Switch a kind on or off and set its wording per language, with one audit row.

    A text equal to the default (or empty) goes back to the default. True if anything
    changed; ``InvalidAutoReplyText`` for a placeholder that is not one of ours.
    """
    with ctx.db.write() as session:
        changed: dict[str, object] = {}
        if set_enabled(session, ctx, kind, enabled):
            changed["enabled"] = enabled
        for language, text in texts.items():
            if set_text(session, kind, language, text):
                changed[f"text_{language}"] = (text or "").strip() or None
        if changed:
            record_audit(session, actor_id, "auto_reply.changed", f"auto_reply:{kind.value}",
                         changed, at=ctx.clock.now())
        return bool(changed)


def preview(ctx: Context, language: str, text: str, *, name: str, opens: datetime | None
            ) -> str:
    """The text as a contact called ``name`` would read it (checked first)."""
    return fill(ctx, check_text(text), language, name=name, opens=opens)
