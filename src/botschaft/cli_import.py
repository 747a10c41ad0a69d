"""How ``botschaft contacts import`` reads to the person at the terminal."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from botschaft.services.contact_import import ImportSummary, import_contacts
from botschaft.services.context import Context

_SHOWN_REFUSALS = 10


def import_with_progress(
    ctx: Context, path: Path, *, dry_run: bool, report: Path | None, console: Console
) -> ImportSummary:
    """Run the import with a progress bar by bytes read (shown on a terminal only)."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    # Transient: the bar makes way for the summary. Off a terminal (a pipe, cron) it is
    # left out rather than printed as a blank line.
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("Checking" if dry_run else "Importing", total=None)

        def advance(done: int, size: int) -> None:
            bar.update(task, completed=done, total=size)

        return import_contacts(ctx, path, dry_run=dry_run, report=report, progress=advance)


def render_summary(console: Console, path: Path, summary: ImportSummary,
                   report: Path | None) -> None:
    """The counts, the refused rows grouped by reason, and what to do about them."""
    if summary.dry_run:
        console.print(f"[bold]Dry run of {path.name}:[/] nothing was written.", highlight=False)
    else:
        console.print(f"[bold]Imported {path.name}.[/]", highlight=False)
    console.print(_counts(summary))
    if summary.ignored_columns:
        console.print(
            "Columns not imported: " + ", ".join(summary.ignored_columns)
            + " (Botschaft keeps only the columns in docs/import.md).",
            highlight=False, soft_wrap=True,
        )
    if summary.refused_count:
        console.print(_groups(summary))
        console.print(_first_refusals(summary))
    if report is not None:
        console.print(
            f"Refused rows with their reason: {report}  (correct them and import that file)"
            if summary.refused_count else f"No row was refused; {report} holds only the header.",
            highlight=False, soft_wrap=True,
        )
    elif summary.refused_count:
        console.print("Add --report refused.csv to get the refused rows as a file to correct.")


def _counts(summary: ImportSummary) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    rows = [
        ("Rows read", summary.rows_read),
        ("Rows imported", summary.rows_imported),
        ("  contacts created", summary.contacts_created),
        ("  contacts updated (empty fields filled)", summary.contacts_updated),
        ("  contacts already there, unchanged", summary.contacts_unchanged),
        ("  consents imported", summary.consents_imported),
        ("  consents already active, kept", summary.consents_already_active),
        ("Rows refused", summary.refused_count),
    ]
    if summary.blank_rows:
        rows.append(("Blank rows skipped", summary.blank_rows))
    for label, count in rows:
        style = "bold red" if label == "Rows refused" and count else None
        table.add_row(label, f"{count:,}", style=style)
    return table


def _groups(summary: ImportSummary) -> Table:
    table = Table(title="Refused rows by reason", title_justify="left")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("first lines")
    for group in summary.groups:
        more = ", …" if group.rows > len(group.first_lines) else ""
        table.add_row(
            group.refusal.label,
            f"{group.rows:,}",
            ", ".join(str(line) for line in group.first_lines) + more,
        )
    return table


def _first_refusals(summary: ImportSummary) -> Table:
    shown = summary.refused[:_SHOWN_REFUSALS]
    title = (
        "Refused rows" if summary.refused_count <= len(shown)
        else f"The first {len(shown)} refused rows"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("why")
    for row in shown:
        table.add_row(str(row.line), row.reason)
    return table
