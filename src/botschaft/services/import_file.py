"""Reading a contacts CSV file: its encoding, delimiter and header, then its rows one by one.

The file is streamed: one row in memory at a time, whatever its size. Everything that can be
checked without the database happens here, so ``contact_import`` only decides what the rows
mean for the contacts and the ledger. The format is documented in ``docs/import.md``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from botschaft.domain.errors import BotschaftError

IDENTITY_COLUMNS = ("phone", "channel", "address")
CONTACT_COLUMNS = ("name", "language", "time_zone", "tags")
CONSENT_COLUMNS = ("consent_purpose", "consent_at", "consent_source", "consent_text")
EVIDENCE_COLUMNS = ("ip", "user_agent", "evidence")
# The column a refused-rows report adds; importing a corrected report reads past it.
REASON_COLUMN = "reason"
# Columns Botschaft reads but has nowhere to keep yet: named in the summary as not imported.
UNSTORED_COLUMNS: tuple[str, ...] = ()
KNOWN_COLUMNS = frozenset(
    (*IDENTITY_COLUMNS, *CONTACT_COLUMNS, *CONSENT_COLUMNS, *EVIDENCE_COLUMNS, REASON_COLUMN)
)
_DELIMITERS = (",", ";", "\t")
_CHECK_CHUNK = 1 << 20


class ImportFileInvalid(BotschaftError):
    """The file as a whole cannot be imported (unreadable, not UTF-8, header incomplete)."""

    code = "import_file_invalid"
    status = 422


class Refusal(StrEnum):
    """Why a row was refused; rows are grouped by it in the summary."""

    PHONE_INVALID = "phone_invalid"
    ADDRESS_MISSING = "address_missing"
    EVIDENCE_MISSING = "evidence_missing"
    CONSENT_TEXT_UNKNOWN = "consent_text_unknown"
    WITHDRAWN = "withdrawn"
    CONSENT_CONFLICT = "consent_conflict"
    VALUE_INVALID = "value_invalid"
    ROW_MALFORMED = "row_malformed"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Refusal.PHONE_INVALID: "invalid phone number",
    Refusal.ADDRESS_MISSING: "no phone number or channel address",
    Refusal.EVIDENCE_MISSING: "consent without usable evidence",
    Refusal.CONSENT_TEXT_UNKNOWN: "consent text not published or for another purpose",
    Refusal.WITHDRAWN: "the person withdrew (STOP)",
    Refusal.CONSENT_CONFLICT: "consent state does not admit an import",
    Refusal.VALUE_INVALID: "invalid value",
    Refusal.ROW_MALFORMED: "malformed row",
}


class RowRefused(BotschaftError):
    """One row that cannot be imported, with the reason a person can act on."""

    code = "import_row_refused"

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Header:
    """The file's columns: as written (for the report) and as Botschaft reads them."""

    written: tuple[str, ...]
    names: tuple[str, ...]
    delimiter: str

    @property
    def ignored(self) -> tuple[str, ...]:
        """Columns whose values are not imported, as the file names them."""
        return tuple(
            written or f"(unnamed column {index})"
            for index, (written, name) in enumerate(zip(self.written, self.names, strict=True), 1)
            if name != REASON_COLUMN and (name not in KNOWN_COLUMNS or name in UNSTORED_COLUMNS)
        )

    def fields(self, values: list[str]) -> dict[str, str]:
        """The row's values by column name, stripped; refuses values beyond the last column.

        Missing trailing values count as empty (some programs leave them out).
        """
        extra = [v for v in values[len(self.names):] if v.strip()]
        if extra:
            raise RowRefused(
                Refusal.ROW_MALFORMED,
                f"the row has {len(values)} values but the header names {len(self.names)}"
                f" columns (extra: {', '.join(repr(v) for v in extra)})",
            )
        return {
            name: values[index].strip() if index < len(values) else ""
            for index, name in enumerate(self.names)
            if name
        }


@dataclass(frozen=True)
class RawRow:
    """One record of the file, numbered as a spreadsheet shows it (the header is line 1)."""

    line: int
    values: list[str]
    problem: str | None = None  # the CSV reader could not read this record

    @property
    def blank(self) -> bool:
        return self.problem is None and not any(v.strip() for v in self.values)


class ContactsFile:
    """An open contacts CSV file: ``header``, then ``rows()`` streamed in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _check_utf8(path)
        try:
            self._binary: BinaryIO = path.open("rb")
        except OSError as exc:
            raise ImportFileInvalid(f"Cannot read {path}: {exc.strerror}.") from None
        self.size = path.stat().st_size
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8".
        self._text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
        try:
            self.header = _read_header(self._text, path)
        except ImportFileInvalid:
            self.close()
            raise

    def rows(self) -> Iterator[RawRow]:
        """Every record after the header, including blank ones (so numbering stays true)."""
        reader = csv.reader(self._text, delimiter=self.header.delimiter)
        line = 1
        while True:
            line += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader resumes at the next record; this one is reported, not dropped.
                yield RawRow(line, [], f"the row cannot be read as CSV: {exc}")
                continue
            yield RawRow(line, values)

    @property
    def bytes_read(self) -> int:
        """How far the reader has got, in bytes of the file (for a progress bar)."""
        return min(self._binary.tell(), self.size)

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> ContactsFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class RefusedReport:
    """The refused rows as a CSV file the user can correct and import again.

    It keeps the input's columns and delimiter and adds ``reason``; it is written with a
    byte-order mark so that Excel opens umlauts correctly.
    """

    def __init__(self, path: Path, header: Header) -> None:
        try:
            self._file = path.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportFileInvalid(f"Cannot write the report {path}: {exc.strerror}.") from None
        self._writer = csv.writer(self._file, delimiter=header.delimiter)
        # A corrected report imported again already has the column: reuse it.
        self._reason_at = (
            header.names.index(REASON_COLUMN) if REASON_COLUMN in header.names else None
        )
        self._width = len(header.names)
        columns = list(header.written)
        if self._reason_at is None:
            columns.append(REASON_COLUMN)
        self._writer.writerow(columns)

    def write(self, values: list[str], reason: str) -> None:
        # Values beyond the header are quoted in the reason, so the row keeps its shape.
        row = (values + [""] * self._width)[: self._width]
        if self._reason_at is None:
            row.append(reason)
        else:
            row[self._reason_at] = reason
        self._writer.writerow(row)

    def close(self) -> None:
        self._file.close()


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 before any row is imported, naming the line.

    German Excel's plain "CSV" is Windows-1252; read as UTF-8 its umlauts would fail halfway
    through the file, after the first rows were already imported.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHECK_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk.count(b"\n", 0, exc.start)
                    raise ImportFileInvalid(
                        f"{path.name} is not UTF-8 text (line {line} has the byte"
                        f" 0x{chunk[exc.start]:02x}). Save it as \"CSV UTF-8\" (in German Excel:"
                        " \"CSV UTF-8 (durch Trennzeichen getrennt)\") and import it again."
                    ) from None
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileInvalid(f"{path.name} ends in the middle of a character.") from None
    except OSError as exc:
        raise ImportFileInvalid(f"Cannot read {path}: {exc.strerror}.") from None


def _read_header(text: io.TextIOWrapper, path: Path) -> Header:
    first = text.readline()
    if not first.strip():
        raise ImportFileInvalid(
            f"{path.name} has no header: its first line must name the columns (see docs/import.md)."
        )
    # Header names hold no delimiters, so the most frequent candidate in the first line is
    # the delimiter; German Excel writes semicolons, most other programs commas.
    delimiter = max(_DELIMITERS, key=first.count)
    written = tuple(next(csv.reader([first], delimiter=delimiter)))
    names = tuple(_column_name(w) for w in written)
    _check_columns(names, tuple(w.strip() for w in written), path)
    return Header(tuple(w.strip() for w in written), names, delimiter)


def _column_name(written: str) -> str:
    return written.strip().lower().replace(" ", "_").replace("-", "_")


def _check_columns(names: tuple[str, ...], written: tuple[str, ...], path: Path) -> None:
    present = {n for n in names if n}
    doubled = sorted({n for n in names if n and names.count(n) > 1})
    if doubled:
        raise ImportFileInvalid(f"{path.name} names a column twice: {', '.join(doubled)}.")
    found = ", ".join(w for w in written if w) or "none"
    if "phone" not in present and not {"channel", "address"} <= present:
        raise ImportFileInvalid(
            f"{path.name} lacks the column phone (or the columns channel and address) that"
            f" says whom a row is about. Columns found: {found}."
        )
    evidence = [c for c in ("consent_at", "consent_text", "consent_source", *EVIDENCE_COLUMNS)
                if c in present]
    if evidence and "consent_purpose" not in present:
        raise ImportFileInvalid(
            f"{path.name} has consent evidence ({', '.join(evidence)}) but lacks the column"
            " consent_purpose that says what the consent is for (e.g. marketing)."
        )
    missing = [c for c in ("consent_at", "consent_text") if c not in present]
    if "consent_purpose" in present and missing:
        raise ImportFileInvalid(
            f"{path.name} has the column consent_purpose but lacks the evidence column"
            f"{'s' if len(missing) > 1 else ''} {' and '.join(missing)}: a consent is imported"
            " only with the time it was given and the consent text the person saw."
        )
