"""``botschaft``: the entry point of every process and every operator's task."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from botschaft import cli_campaign, cli_worker
from botschaft.domain.errors import BotschaftError
from botschaft.logs import configure_logging
from botschaft.services.context import Context
from botschaft.settings import Settings, load_settings
from botschaft.storage.migrate import current_revision, head_revision, upgrade

app = typer.Typer(
    name="botschaft",
    help="Consent-first messenger marketing and customer service.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
consent_app = typer.Typer(help="The consent ledger.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(consent_app, name="consent")
token_app = typer.Typer(help="Bearer tokens for the REST API.", no_args_is_help=True)
app.add_typer(token_app, name="api-token")
contacts_app = typer.Typer(help="Contacts and their consents.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn our errors into one line on stderr and exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BotschaftError as exc:
            err.print(f"[bold red]botschaft:[/] {exc.message}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _context(settings: Settings | None = None) -> Context:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return Context.open(settings)


def _migrated_context() -> Context:
    ctx = _context()
    if current_revision(ctx.db) != head_revision():
        upgrade(ctx.db)
    return ctx


@app.command()
@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: setting)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: setting)")] = None,
) -> None:
    """Run the web app with the embedded worker; creates and migrates the database."""
    settings = load_settings(**_listen_overrides(host, port))
    _prepare_database(settings)
    _run_server(settings)


@app.command()
@reports_errors
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its data")] = Path(
        "botschaft-demo"
    ),
    host: Annotated[str | None, typer.Option(help="Listen address (default: setting)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: setting)")] = None,
) -> None:
    """Try Botschaft without any messenger account: sample data on the sandbox phone."""
    import asyncio

    from botschaft.channels.registry import Channels
    from botschaft.services.api_tokens import create_token
    from botschaft.services.demo import seed_demo

    overrides = _listen_overrides(host, port)
    overrides["data_dir"] = data_dir
    settings = load_settings(**overrides)
    if "BOTSCHAFT_BUSINESS__NAME" not in os.environ:
        business = settings.business.model_copy(update={"name": DEMO_BUSINESS})
        settings = settings.model_copy(update={"business": business})
    _prepare_database(settings)
    ctx = _context(settings)
    channels = Channels.from_settings(settings, ctx.clock)
    seeded = asyncio.run(seed_demo(ctx, channels))
    token = create_token(ctx, "demo").token
    ctx.close()
    base = settings.effective_public_url
    out.print(("Sample data created" if seeded.created else "Sample data is there already")
              + f" in {data_dir}/.", soft_wrap=True)
    out.print(f"Sandbox phone: {base}/sandbox  (try the numbers "
              + ", ".join(seeded.numbers) + ", or any other)", soft_wrap=True)
    out.print(f"Inbox API:     curl -H 'Authorization: Bearer {token}'"
              f" {base}/api/v1/conversations", soft_wrap=True)
    _run_server(settings)


DEMO_BUSINESS = "Reisebüro Sonnenschein (Demo)"


def _listen_overrides(host: str | None, port: int | None) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    return overrides


def _prepare_database(settings: Settings) -> None:
    ctx = _context(settings)
    created = current_revision(ctx.db)
    upgrade(ctx.db)
    ctx.close()
    if created is None:
        out.print(f"Created the database: {settings.effective_database_url}", soft_wrap=True)


def _run_server(settings: Settings) -> None:
    import uvicorn

    from botschaft.web.app import create_app

    out.print(f"Botschaft is running at [bold]{settings.effective_public_url}/[/]"
              f"  (health: /healthz, API docs: /docs)", soft_wrap=True)
    app_ = create_app(settings)
    _tune_garbage_collector()
    uvicorn.run(
        app_,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Open chat windows hold event streams; without a limit Ctrl+C would wait for them.
        timeout_graceful_shutdown=5,
    )


def _tune_garbage_collector() -> None:
    """Keep the collector from pausing requests: it was the whole p99 tail of the intake.

    Everything loaded at start-up lives as long as the process, so it is frozen out of the
    collector's scans, and young collections run every 50,000 allocations instead of 700
    (measured with bench/webhooks.py: p99 from about 105 ms to about 30 ms).
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create the database or bring its schema up to date."""
    ctx = _context()
    before = current_revision(ctx.db)
    upgrade(ctx.db)
    after = current_revision(ctx.db)
    ctx.close()
    if before == after:
        out.print(f"The schema is current (revision {after}).")
    else:
        out.print(f"Upgraded the schema from {before or 'nothing'} to {after}.")


@consent_app.command("verify")
@reports_errors
def consent_verify() -> None:
    """Walk the ledger's hash chain: exit 0 if intact, 1 naming the first broken row."""
    from botschaft.services.evidence import verify_ledger

    ctx = _migrated_context()
    check = verify_ledger(ctx)
    ctx.close()
    if check.broken is None:
        out.print(f"The consent ledger is intact: {check.rows} rows, head {check.head_hash}.")
        return
    err.print(
        f"[bold red]The consent ledger is broken at row {check.broken.seq}:[/]"
        f" {check.broken.reason}.",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@consent_app.command("proof")
@reports_errors
def consent_proof(
    contact: Annotated[str, typer.Argument(help="Contact id (#12), phone number or channel:id")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Print the evidence of one person's consents: text shown, when, from where, how."""
    from botschaft.cli_proof import render_proof
    from botschaft.services.evidence import consent_proof as build_proof

    ctx = _migrated_context()
    proof = build_proof(ctx, contact)
    ctx.close()
    if as_json:
        sys.stdout.write(json.dumps(asdict(proof), default=_json_value, indent=2) + "\n")
    else:
        render_proof(out, proof)


@token_app.command("create")
@reports_errors
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the token, e.g. 'crm-sync'")],
) -> None:
    """Create an API token; it is shown once, only its hash is kept."""
    from botschaft.services.api_tokens import create_token

    ctx = _migrated_context()
    issued = create_token(ctx, name)
    ctx.close()
    out.print(f"API token #{issued.id} for {issued.name} (shown only now):", soft_wrap=True)
    sys.stdout.write(issued.token + "\n")


@token_app.command("revoke")
@reports_errors
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's number")]) -> None:
    """Revoke an API token at once."""
    from botschaft.services.api_tokens import revoke_token

    ctx = _migrated_context()
    revoke_token(ctx, token_id)
    ctx.close()
    out.print(f"API token #{token_id} is revoked.")


@contacts_app.command("import")
@reports_errors
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row (docs/import.md)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, write nothing")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the refused rows, with a reason column, to this CSV file"),
    ] = None,
) -> None:
    """Import contacts and the evidence of their consents from a CSV file.

    Exit code 0: every row was imported; 1: some rows were refused and the rest imported;
    2: the file cannot be read or its header lacks a required column.
    """
    from botschaft.cli_import import import_with_progress, render_summary

    ctx = _migrated_context()
    try:
        summary = import_with_progress(ctx, file, dry_run=dry_run, report=report, console=out)
    except KeyboardInterrupt:
        err.print("Interrupted; nothing was written." if dry_run else
                  "Interrupted. The rows imported so far are kept (the batch in progress was"
                  " rolled back); importing the same file again skips what is already there.",
                  soft_wrap=True)
        raise typer.Exit(130) from None
    finally:
        ctx.close()
    render_summary(out, file, summary, report)
    if summary.refused_count:
        raise typer.Exit(1)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# Commands that live in modules of their own.
app.command("worker")(reports_errors(cli_worker.worker))
app.add_typer(cli_campaign.campaign_app, name="campaign")


def main() -> None:
    app()
