"""``botschaft campaign send ID`` and ``botschaft campaign uncertain ID``.

``send`` starts the campaign if it is a draft or scheduled (the lint runs, the deliveries
are planned), sends it with a dispatcher in this process (``--no-dispatch`` leaves that to
running ``botschaft worker`` processes), shows a live progress bar, and ends with the
campaign's summary. Exit codes: 0 every delivery was sent or skipped; 1 some failed or
are uncertain (left ``sending`` by a crash); 2 the campaign cannot be started (unknown,
lint failed, wrong state); 3 the campaign is paused (by an operator or by the provider,
e.g. WhatsApp's spam rate limit 131048) or cancelled; 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from botschaft.services.campaign_results import CampaignSummary
    from botschaft.services.campaign_uncertain import Uncertain
    from botschaft.services.context import Context

campaign_app = typer.Typer(help="Campaigns: send one and watch it, find uncertain deliveries.",
                           no_args_is_help=True)

EXIT_INCOMPLETE = 1
EXIT_PAUSED = 3
# Without a notification the progress bar still looks this often.
_REFRESH_SECONDS = 1.0
# With --no-dispatch: rows still ``sending`` this long after the campaign is done are
# reported as uncertain instead of waited for.
_SETTLE_SECONDS = 10.0

_OLDER_THAN = typer.Option(
    "--older-than", help="Count rows as uncertain once they are this many seconds 'sending'")


@campaign_app.command("send")
def send(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's number")],
    dispatch: Annotated[bool, typer.Option(
        "--dispatch/--no-dispatch",
        help="Send from this process (default), or only watch the workers send")] = True,
    resend: Annotated[bool, typer.Option(
        "--resend-uncertain",
        help="First queue again the deliveries a crash left 'sending' (may send twice)")
    ] = False,
    older_than: Annotated[float, _OLDER_THAN] = 30.0,
) -> None:
    """Start (plan) the campaign if needed, send it with a progress bar, print its summary."""
    from botschaft.cli import err, out, reports_errors
    from botschaft.services.campaign_uncertain import resend_uncertain, uncertain_deliveries

    @reports_errors
    def run() -> int:
        with _context() as ctx:
            return body(ctx)

    def body(ctx: Context) -> int:
        _start(ctx, campaign_id, out)
        if resend:
            moved = resend_uncertain(ctx, campaign_id, older_than=timedelta(seconds=older_than))
            out.print(f"Queued {moved:,} uncertain deliveries again, on your word.")
        summary = asyncio.run(_send_with_progress(ctx, campaign_id, dispatch=dispatch,
                                                  console=out))
        uncertain = uncertain_deliveries(ctx, campaign_id,
                                         older_than=timedelta(seconds=older_than))
        render_summary(out, summary, uncertain)
        return exit_code(summary, uncertain)

    try:
        code = run()
    except KeyboardInterrupt:
        err.print("Interrupted. Deliveries already sent stay on record; run the command again"
                  " to go on (rows left 'sending' are reported, not resent).", soft_wrap=True)
        raise typer.Exit(130) from None
    raise typer.Exit(code)


@campaign_app.command("uncertain")
def uncertain(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's number")],
    older_than: Annotated[float, _OLDER_THAN] = 30.0,
) -> None:
    """List deliveries left 'sending' (a worker crashed mid-request); exit 1 if there are any."""
    from botschaft.cli import out, reports_errors
    from botschaft.services.campaign_uncertain import uncertain_deliveries

    @reports_errors
    def run() -> int:
        with _context() as ctx:
            found = uncertain_deliveries(ctx, campaign_id,
                                         older_than=timedelta(seconds=older_than))
        render_uncertain(out, found)
        return EXIT_INCOMPLETE if found.count else 0

    raise typer.Exit(run())


@contextlib.contextmanager
def _context() -> Iterator[Context]:
    from botschaft.cli import _migrated_context

    ctx = _migrated_context()
    try:
        yield ctx
    finally:
        ctx.close()


def _start(ctx: Context, campaign_id: int, console: Console) -> None:
    from botschaft.services.campaigns import get_campaign, resume_campaign, start_campaign

    campaign = get_campaign(ctx, campaign_id)
    if campaign.status in ("draft", "scheduled"):
        console.print(f"Planning campaign #{campaign_id} ({campaign.name}) …", highlight=False)
        plan = start_campaign(ctx, campaign_id, ctx.settings.default_language)
        console.print(f"Planned {plan.planned:,} deliveries in {plan.seconds:.1f} s:"
                      f" {plan.queued:,} to send, {plan.planned - plan.queued:,} skipped.")
    elif campaign.status == "paused":
        resume_campaign(ctx, campaign_id)
        console.print(f"Campaign #{campaign_id} was paused; it goes on now.")


async def _send_with_progress(ctx: Context, campaign_id: int, *, dispatch: bool,
                              console: Console) -> CampaignSummary:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from botschaft.channels.registry import Channels
    from botschaft.services.campaign_results import campaign_summary
    from botschaft.services.campaign_send import PROGRESS_TOPIC
    from botschaft.storage.notifier import Notifier
    from botschaft.worker.dispatcher import Dispatcher, announce_start

    notifier = Notifier(ctx.db)
    channels = Channels.from_settings(ctx.settings, ctx.clock)
    progress = notifier.subscribe(PROGRESS_TOPIC)
    dispatcher = (asyncio.create_task(Dispatcher(ctx, channels, notifier=notifier,
                                                 only=campaign_id).run())
                  if dispatch else None)
    if not dispatch:
        await asyncio.to_thread(announce_start, notifier, campaign_id)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True,
                      disable=not console.is_terminal) as bar:
            task = bar.add_task("Sending", total=None, rate="")
            settled_for = 0.0
            while True:
                summary = await asyncio.to_thread(campaign_summary, ctx, campaign_id)
                done = summary.sent + summary.failed + sum(summary.skipped.values())
                bar.update(task, completed=done, total=summary.targeted or None,
                           rate=f"{summary.sent:,} sent")
                if summary.status != "running":
                    if dispatcher is None or dispatcher.done():
                        if summary.pending == 0 or dispatcher is not None:
                            break
                        settled_for += _REFRESH_SECONDS
                        if settled_for >= _SETTLE_SECONDS:
                            break
                elif dispatcher is not None and dispatcher.done():
                    dispatcher.result()  # a crashed dispatcher ends the command with its error
                await progress.wait(_REFRESH_SECONDS)
        if dispatcher is not None:
            await dispatcher
        return await asyncio.to_thread(campaign_summary, ctx, campaign_id)
    finally:
        if dispatcher is not None and not dispatcher.done():
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
        await channels.close()
        notifier.close()


def exit_code(summary: CampaignSummary, uncertain: Uncertain) -> int:
    if summary.status in ("paused", "cancelled"):
        return EXIT_PAUSED
    if summary.failed or uncertain.count or summary.pending:
        return EXIT_INCOMPLETE
    return 0


def render_summary(console: Console, summary: CampaignSummary, uncertain: Uncertain) -> None:
    """The campaign's results: targeted, skipped by reason, sent, delivered, read, …"""
    from rich.table import Table

    console.print(f"[bold]Campaign #{summary.campaign_id} {summary.name}:[/] {summary.status}",
                  highlight=False)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    table.add_row("Targeted", f"{summary.targeted:,}")
    table.add_row("Skipped", f"{sum(summary.skipped.values()):,}")
    for reason, count in summary.skipped.items():
        table.add_row(f"  {reason}", f"{count:,}")
    for label, count in (("Sent", summary.sent), ("Delivered", summary.delivered),
                         ("Read", summary.read), ("Clicked", summary.clicked),
                         ("Failed", summary.failed), ("Not sent yet", summary.pending),
                         ("Opted out within 48 h", summary.opted_out_48h)):
        table.add_row(label, f"{count:,}", style="bold red" if label == "Failed" and count
                      else None)
    if uncertain.count:
        table.add_row("Uncertain (left 'sending')", f"{uncertain.count:,}", style="bold yellow")
    console.print(table)
    if uncertain.count:
        console.print(
            f"{uncertain.count:,} deliveries were being sent when a worker stopped; whether"
            f" they arrived is unknown. They are not sent again unless you ask:"
            f" botschaft campaign send {summary.campaign_id} --resend-uncertain",
            soft_wrap=True, highlight=False)
    if summary.status == "paused":
        console.print("The campaign is paused (by an operator, or the provider asked to stop);"
                      " run the command again to go on.", soft_wrap=True)


def render_uncertain(console: Console, found: Uncertain) -> None:
    from rich.table import Table

    if not found.count:
        console.print(f"Campaign #{found.campaign_id} has no uncertain deliveries.")
        return
    table = Table(title=f"{found.count:,} uncertain deliveries of campaign"
                        f" #{found.campaign_id}", title_justify="left")
    table.add_column("delivery", justify="right")
    table.add_column("contact", justify="right")
    table.add_column("claimed by")
    table.add_column("since")
    for row in found.examples:
        table.add_row(str(row.delivery_id), str(row.contact_id), row.claimed_by or "",
                      row.claimed_at.isoformat(timespec="seconds") if row.claimed_at else "")
    console.print(table)
    console.print(f"Send them again only if a duplicate is acceptable:"
                  f" botschaft campaign send {found.campaign_id} --resend-uncertain",
                  soft_wrap=True, highlight=False)
