"""How ``botschaft consent proof`` reads to a person (a data-protection officer, a court)."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from botschaft.services.evidence import Proof, ProofEvent


def render_proof(console: Console, proof: Proof) -> None:
    contact = proof.contact
    name = contact.display_name or "(no name)"
    identities = ", ".join(f"{i.channel.value} {i.address}" for i in contact.identities)
    console.print(
        f"[bold]Consent evidence for contact #{contact.id}[/] {name}\n"
        f"Identities: {identities or '-'}\n"
        f"Generated: {proof.generated_at:%Y-%m-%d %H:%M:%S %Z}",
        highlight=False,
    )
    states = Table(title="Current state", show_lines=False)
    for column in ("channel", "purpose", "state", "since"):
        states.add_column(column)
    for subject in proof.states:
        since = subject.state.since
        states.add_row(
            subject.channel,
            subject.purpose,
            subject.state.status.value,
            f"{since:%Y-%m-%d %H:%M:%S %Z}" if since else "-",
        )
    console.print(states)
    if not proof.events:
        console.print("The ledger holds no consent events for this contact.")
        return
    shown: set[int] = set()
    for event in proof.events:
        console.print(_event_panel(event, shown))


def _event_panel(event: ProofEvent, shown: set[int]) -> Panel:
    lines = [
        f"When:     {event.occurred_at:%Y-%m-%d %H:%M:%S %Z}",
        f"Channel:  {event.channel} {event.address or '(erased)'}",
        f"Purpose:  {event.purpose}   Source: {event.source}",
    ]
    if event.ip or event.user_agent:
        lines.append(f"From:     IP {event.ip or '-'}, user agent {event.user_agent or '-'}")
    if event.provider_message_id:
        lines.append(f"Message:  provider id {event.provider_message_id}")
    if event.evidence:
        lines.append(f"Wrote:    {event.evidence!r}")
    if event.note:
        lines.append(f"Note:     {event.note}")
    if event.terms:
        lines.append(f"Terms:    {event.terms}")
    if event.text:
        text = event.text
        check = "matches" if text.matches_hash else "DOES NOT MATCH"
        lines.append(f"Text:     {text.key} version {text.version} ({text.language})")
        lines.append(f"SHA-256:  {text.sha256}")
        lines.append(f"          {check} the recorded hash")
        if text.id in shown:
            lines.append("          (its wording is shown above)")
        else:
            shown.add(text.id)
            lines.append("")
            lines.extend("  " + line for line in text.text.splitlines())
    integrity = "[green]row intact[/]" if event.row_intact else "[bold red]ROW ALTERED[/]"
    return Panel(
        "\n".join(lines),
        title=f"#{event.seq} {event.kind}",
        subtitle=integrity,
        title_align="left",
        subtitle_align="right",
    )
