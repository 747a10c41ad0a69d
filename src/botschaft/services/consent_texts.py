"""Publishing consent texts: lint first, then a new immutable version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from botschaft.domain.consent_text import ConsentTextDraft, check_consent_text
from botschaft.domain.errors import NotFound
from botschaft.services.context import Context
from botschaft.storage.models import ConsentText


@dataclass(frozen=True)
class PublishedText:
    id: int
    key: str
    version: int
    language: str
    sha256: str
    created_at: datetime
    draft: ConsentTextDraft


def publish_consent_text(ctx: Context, draft: ConsentTextDraft) -> PublishedText:
    """Store ``draft`` as the next version of its key and language.

    Refuses an incomplete text (naming what is missing). Publishing the same content as the
    latest version again returns that version instead of a copy.
    """
    check_consent_text(draft)
    digest = draft.sha256()
    with ctx.db.write() as session:
        latest = session.scalar(
            select(ConsentText)
            .where(ConsentText.key == draft.key, ConsentText.language == draft.language)
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if latest is not None and latest.sha256 == digest:
            return published(latest)
        version = (
            session.scalar(
                select(func.max(ConsentText.version)).where(
                    ConsentText.key == draft.key, ConsentText.language == draft.language
                )
            )
            or 0
        ) + 1
        row = ConsentText(
            key=draft.key,
            version=version,
            language=draft.language,
            consent_purpose=draft.consent_purpose,
            intro=draft.intro,
            company=draft.company,
            purpose=draft.purpose,
            data_categories=draft.data_categories,
            recipients=draft.recipients,
            frequency=draft.frequency,
            withdrawal=draft.withdrawal,
            privacy_policy_url=draft.privacy_policy_url,
            sha256=digest,
            created_at=ctx.clock.now(),
        )
        session.add(row)
        session.flush()
        return published(row)


def get_consent_text(ctx: Context, text_id: int) -> PublishedText:
    with ctx.db.read() as session:
        row = session.get(ConsentText, text_id)
        if row is None:
            raise NotFound(f"There is no consent text #{text_id}.")
        return published(row)


def published(row: ConsentText) -> PublishedText:
    return PublishedText(
        id=row.id,
        key=row.key,
        version=row.version,
        language=row.language,
        sha256=row.sha256,
        created_at=row.created_at,
        draft=draft_of(row),
    )


def draft_of(row: ConsentText) -> ConsentTextDraft:
    return ConsentTextDraft(
        key=row.key,
        language=row.language,
        consent_purpose=row.consent_purpose,
        company=row.company,
        purpose=row.purpose,
        data_categories=row.data_categories,
        recipients=row.recipients,
        frequency=row.frequency,
        withdrawal=row.withdrawal,
        privacy_policy_url=row.privacy_policy_url,
        intro=row.intro,
    )
