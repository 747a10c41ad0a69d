"""Consent changes a person of the team records for a contact: only withdrawals, with a reason.

Consent is never edited. When someone asks by phone, mail or at the counter to get no more
messages, an agent records that as a new ledger event (source ``agent``, the reason in the
note), and the audit log names who recorded it; both in one transaction.
"""

from __future__ import annotations

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentSource
from botschaft.domain.errors import BotschaftError, ConsentConflict
from botschaft.services.audit import record_audit
from botschaft.services.consent import RecordedEvent, withdraw_in
from botschaft.services.context import Context

MIN_REASON = 5
MAX_REASON = 500


class ReasonMissing(BotschaftError):
    code = "reason_missing"
    status = 422


def record_withdrawal(
    ctx: Context, actor_id: int, contact_id: int, *, channel: ChannelKind, purpose: str,
    reason: str,
) -> RecordedEvent:
    """Write the ``withdrawn`` event the contact asked for, and its audit row."""
    note = " ".join(reason.split())
    if not MIN_REASON <= len(note) <= MAX_REASON:
        raise ReasonMissing(
            f"Say in {MIN_REASON} to {MAX_REASON} characters how the person asked"
            " (e.g. 'asked by phone on Monday')."
        )
    with ctx.db.write() as session:
        recorded = withdraw_in(session, ctx, contact_id, channel, ConsentSource.AGENT,
                               purposes=[purpose], note=note)
        if not recorded:
            raise ConsentConflict(f"The {purpose} consent on {channel.value} is withdrawn"
                                  " already.")
        event = recorded[0]
        record_audit(session, actor_id, "consent.withdrawn", f"contact:{contact_id}",
                     {"channel": channel.value, "purpose": purpose, "seq": event.seq,
                      "reason": note}, at=ctx.clock.now())
        return event
