"""Importing contacts and the evidence of their earlier consents from a CSV file.

Every row is either imported or refused with a reason and its line; nothing is dropped
silently. The file is streamed and written in batches, one transaction per batch and one
savepoint per row, so a bad row rolls back alone and memory stays flat for any file size.
An import never overrides a withdrawal: the ledger refuses ``imported`` after a STOP.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from botschaft.domain.consent import ConsentEventKind, ConsentSource, ConsentStatus
from botschaft.domain.errors import ConsentConflict
from botschaft.services.consent import ConsentRecord, consent_state, record_in
from botschaft.services.contact_fields import add_tags
from botschaft.services.context import Context
from botschaft.services.import_file import (
    ContactsFile,
    Header,
    ImportFileInvalid,
    RawRow,
    Refusal,
    RefusedReport,
    RowRefused,
)
from botschaft.services.import_row import ImportRow, TextRef, parse_row
from botschaft.storage.models import ChannelIdentity, ConsentText, Contact

log = logging.getLogger(__name__)

# Rows per transaction: few enough that the ledger's head lock (which every STOP waits for)
# is held for well under a second, many enough that commits do not dominate.
BATCH_ROWS = 300
# Refused rows kept in the summary; all of them go to the report file.
KEPT_REFUSALS = 1000
_FIRST_LINES = 5

Progress = Callable[[int, int], None]  # (bytes read, file size)


class ContactOutcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class ConsentOutcome(Enum):
    IMPORTED = "imported"
    ALREADY_ACTIVE = "already_active"


@dataclass(frozen=True)
class RefusedRow:
    line: int
    refusal: Refusal
    reason: str


@dataclass(frozen=True)
class RefusalGroup:
    refusal: Refusal
    rows: int
    first_lines: tuple[int, ...]


@dataclass(frozen=True)
class ImportSummary:
    """What became of every row. ``rows_read`` = imported rows + ``refused_count``."""

    rows_read: int
    blank_rows: int
    contacts_created: int
    contacts_updated: int
    contacts_unchanged: int
    consents_imported: int
    consents_already_active: int
    refused_count: int
    refused: tuple[RefusedRow, ...]  # the first KEPT_REFUSALS, in file order
    groups: tuple[RefusalGroup, ...]  # by reason, the most frequent first
    ignored_columns: tuple[str, ...]
    dry_run: bool

    @property
    def rows_imported(self) -> int:
        return self.rows_read - self.refused_count


@dataclass
class _Tally:
    rows_read: int = 0
    blank_rows: int = 0
    contacts: Counter[ContactOutcome] = field(default_factory=Counter)
    consents: Counter[ConsentOutcome] = field(default_factory=Counter)
    refusals: Counter[Refusal] = field(default_factory=Counter)
    first_lines: dict[Refusal, list[int]] = field(default_factory=dict)
    refused: list[RefusedRow] = field(default_factory=list)

    def refuse(self, row: RefusedRow) -> None:
        self.refusals[row.refusal] += 1
        lines = self.first_lines.setdefault(row.refusal, [])
        if len(lines) < _FIRST_LINES:
            lines.append(row.line)
        if len(self.refused) < KEPT_REFUSALS:
            self.refused.append(row)

    def summary(self, header: Header, dry_run: bool) -> ImportSummary:
        return ImportSummary(
            rows_read=self.rows_read,
            blank_rows=self.blank_rows,
            contacts_created=self.contacts[ContactOutcome.CREATED],
            contacts_updated=self.contacts[ContactOutcome.UPDATED],
            contacts_unchanged=self.contacts[ContactOutcome.UNCHANGED],
            consents_imported=self.consents[ConsentOutcome.IMPORTED],
            consents_already_active=self.consents[ConsentOutcome.ALREADY_ACTIVE],
            refused_count=self.refusals.total(),
            refused=tuple(self.refused),
            groups=tuple(
                RefusalGroup(refusal, count, tuple(self.first_lines[refusal]))
                for refusal, count in self.refusals.most_common()
            ),
            ignored_columns=header.ignored,
            dry_run=dry_run,
        )


def import_contacts(
    ctx: Context,
    path: Path,
    *,
    dry_run: bool = False,
    report: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import every row of the CSV file at ``path`` (format: docs/import.md).

    A row's contact is found by its channel address or created; an existing contact only
    gets values for its empty fields. A row with a consent records ``imported`` in the
    ledger with the original time, text and evidence; a consent already active is kept as
    it is, so running the same file again changes nothing. Refused rows are reported with
    their line and reason, and written to ``report`` (with a ``reason`` column) when given.
    ``dry_run`` checks every row the same way and rolls each batch back.

    Raises ``ImportFileInvalid`` (before anything is written) when the file cannot be read
    or its header lacks required columns.
    """
    if report is not None and report.resolve() == path.resolve():
        raise ImportFileInvalid(f"The report {report} would overwrite the file being imported.")
    tally = _Tally()
    with ContactsFile(path) as source:
        writer = RefusedReport(report, source.header) if report is not None else None
        try:
            run = _Run(ctx, source.header, file_name=path.name, dry_run=dry_run, tally=tally,
                       writer=writer)
            for batch in _batches(source.rows()):
                run.batch(batch)
                if progress is not None:
                    progress(source.bytes_read, source.size)
        finally:
            if writer is not None:
                writer.close()
        summary = tally.summary(source.header, dry_run)
    log.info(
        "contacts file imported",
        extra={"rows": summary.rows_read, "contacts_created": summary.contacts_created,
               "contacts_updated": summary.contacts_updated,
               "consents_imported": summary.consents_imported,
               "rows_refused": summary.refused_count, "dry_run": dry_run},
    )
    return summary


def _batches(rows: Iterator[RawRow]) -> Iterator[list[RawRow]]:
    while batch := list(islice(rows, BATCH_ROWS)):
        yield batch


class _Run:
    """The state of one import: where the counts and refusals go, which texts are known."""

    def __init__(
        self, ctx: Context, header: Header, *, file_name: str, dry_run: bool, tally: _Tally,
        writer: RefusedReport | None,
    ) -> None:
        self.ctx = ctx
        self.header = header
        self.file_name = file_name
        self.dry_run = dry_run
        self.tally = tally
        self.writer = writer
        # Consent texts are immutable, so a lookup holds for the whole run.
        self.texts: dict[TextRef, _KnownText | str] = {}
        # The texts in use, loaded in the batch's session and referenced here, so that its
        # identity map (which holds objects weakly) keeps them for record_in.
        self.held: dict[int, ConsentText | None] = {}

    def batch(self, raws: list[RawRow]) -> None:
        """Import ``raws`` in one transaction, each row in a savepoint of its own."""
        # Rows are read and checked before the transaction begins, so the database (and the
        # ledger's head lock) is held only for the writing.
        rows: list[tuple[RawRow, ImportRow | RowRefused]] = []
        for raw in raws:
            if raw.blank:
                self.tally.blank_rows += 1
                continue
            self.tally.rows_read += 1
            rows.append((raw, self._parse(raw)))
        with self.ctx.db.write() as session:
            # A dry run does all the work inside a savepoint it then rolls back, so the
            # checks are the real ones and the commit commits nothing.
            outer = session.begin_nested() if self.dry_run else None
            known = _identities(session, [r for _, r in rows if isinstance(r, ImportRow)])
            self.held.clear()
            for raw, row in rows:
                if isinstance(row, RowRefused):
                    self._refuse(raw, row)
                    continue
                try:
                    self._row(session, row, known)
                except RowRefused as refused:
                    self._refuse(raw, refused)
            if outer is not None:
                outer.rollback()

    def _parse(self, raw: RawRow) -> ImportRow | RowRefused:
        region, now = self.ctx.settings.default_region, self.ctx.clock.now()
        try:
            return parse_row(self.header, raw, region, now)
        except RowRefused as refused:
            return refused

    def _refuse(self, raw: RawRow, refused: RowRefused) -> None:
        self.tally.refuse(RefusedRow(raw.line, refused.refusal, refused.message))
        if self.writer is not None:
            self.writer.write(raw.values, refused.message)

    def _row(self, session: Session, row: ImportRow, known: _Identities) -> None:
        with session.begin_nested():
            contact, outcome = self._contact(session, row, known.get(row.key))
            if row.tags:
                add_tags(session, self.ctx, contact.id, row.tags)
            consent = self._consent(session, row, contact) if row.consent else None
        # Only now that the row stands may later rows of the batch find its contact.
        known[row.key] = contact
        self.tally.contacts[outcome] += 1
        if consent is not None:
            self.tally.consents[consent] += 1

    def _contact(
        self, session: Session, row: ImportRow, existing: Contact | None
    ) -> tuple[Contact, ContactOutcome]:
        if existing is not None:
            # Only empty fields are filled: what the contact has is newer than any file.
            # Language and time zone are never empty (they get defaults), so they stay.
            if existing.display_name or not row.name:
                return existing, ContactOutcome.UNCHANGED
            existing.display_name = row.name
            return existing, ContactOutcome.UPDATED
        now = self.ctx.clock.now()
        settings = self.ctx.settings
        contact = Contact(
            display_name=row.name,
            language=row.language or settings.default_language,
            time_zone=row.time_zone or settings.default_time_zone,
            created_at=now,
        )
        session.add(contact)
        # The batch's addresses were looked up together, so contacts.add_identity's check
        # for an owner would only repeat that query row by row.
        session.add(ChannelIdentity(
            contact=contact, channel=row.channel.value, address=row.address, created_at=now
        ))
        session.flush()
        return contact, ContactOutcome.CREATED

    def _consent(self, session: Session, row: ImportRow, contact: Contact) -> ConsentOutcome:
        claim = row.consent
        assert claim is not None  # only called for rows with a consent
        text = self._text(session, claim.text, claim.purpose)
        record = ConsentRecord(
            contact_id=contact.id,
            channel=row.channel,
            purpose=claim.purpose,
            kind=ConsentEventKind.IMPORTED,
            source=ConsentSource.IMPORT,
            consent_text_id=text.id,
            ip=claim.ip,
            user_agent=claim.user_agent,
            evidence=claim.evidence,
            note=f"imported from {self.file_name}, line {row.line}",
            occurred_at=claim.given_at,
        )
        try:
            record_in(session, self.ctx, record)
        except ConsentConflict as conflict:
            state = consent_state(session, self.ctx, contact.id, row.channel, claim.purpose)
            if state.status is ConsentStatus.ACTIVE:
                # Already subscribed: the consent on record stands, and a file imported
                # twice (or again after an interruption) is not refused row by row.
                return ConsentOutcome.ALREADY_ACTIVE
            refusal = Refusal.WITHDRAWN if state.objected else Refusal.CONSENT_CONFLICT
            raise RowRefused(refusal, conflict.message) from None
        return ConsentOutcome.IMPORTED

    def _text(self, session: Session, ref: TextRef, purpose: str) -> _KnownText:
        found = self.texts.get(ref)
        if found is None:
            found = _find_text(session, ref)
            self.texts[ref] = found
        if isinstance(found, str):
            raise RowRefused(Refusal.CONSENT_TEXT_UNKNOWN, found)
        if found.purpose != purpose:
            raise RowRefused(
                Refusal.CONSENT_TEXT_UNKNOWN,
                f"the consent text {ref} is for {found.purpose!r}, not for {purpose!r}",
            )
        if found.id not in self.held:
            self.held[found.id] = session.get(ConsentText, found.id)
        return found


_Identities = dict[tuple[str, str], Contact]


def _identities(session: Session, rows: list[ImportRow]) -> _Identities:
    """The contacts that already own the rows' addresses, in one query per batch."""
    addresses = {row.address for row in rows}
    if not addresses:
        return {}
    found = session.scalars(
        select(ChannelIdentity)
        .where(ChannelIdentity.address.in_(addresses))
        .options(selectinload(ChannelIdentity.contact).selectinload(Contact.identities))
    ).all()
    return {(i.channel, i.address): i.contact for i in found}


@dataclass(frozen=True)
class _KnownText:
    id: int
    purpose: str


def _find_text(session: Session, ref: TextRef) -> _KnownText | str:
    """The published text ``ref`` names, or why there is none."""
    query = select(ConsentText.id, ConsentText.consent_purpose, ConsentText.language).where(
        ConsentText.key == ref.key, ConsentText.version == ref.version
    )
    if ref.language is not None:
        query = query.where(ConsentText.language == ref.language)
    texts = session.execute(query).all()
    if not texts:
        published = session.execute(
            select(ConsentText.version, ConsentText.language)
            .where(ConsentText.key == ref.key)
            .order_by(ConsentText.version, ConsentText.language)
        ).all()
        known = ", ".join(f"{ref.key}:{t.version}:{t.language}" for t in published)
        return f"there is no published consent text {ref}" + (
            f" (published: {known})" if known else f" (no text has the key {ref.key!r})"
        )
    if len(texts) > 1:
        languages = ", ".join(sorted(t.language for t in texts))
        return (
            f"the consent text {ref} exists in {languages}: add the language,"
            f" e.g. {ref}:{texts[0].language}"
        )
    return _KnownText(texts[0].id, texts[0].consent_purpose)
