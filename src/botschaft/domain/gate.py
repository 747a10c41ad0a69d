"""The outbound gate: may this message go to this person on this channel now?

Every message that leaves Botschaft passes ``decide`` first: campaigns, bot answers, agent
replies, auto-replies, double opt-in requests, welcome and STOP confirmations. It is pure:
the caller gathers the recipient's state and passes the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import MARKETING, SERVICE, ConsentState, ConsentStatus


class MessageKind(StrEnum):
    MARKETING = "marketing"  # newsletters and offers
    SERVICE = "service"  # bot answers, agent replies, auto-replies
    CONSENT_REQUEST = "consent_request"  # the double opt-in question
    WELCOME = "welcome"  # sent once a consent became active
    STOP_CONFIRMATION = "stop_confirmation"  # the single answer to a STOP


class MessageFormat(StrEnum):
    FREE_FORM = "free_form"
    TEMPLATE = "template"  # a provider-approved template, allowed outside the window
    # A person's own answer tagged HUMAN_AGENT: Messenger takes it up to 7 days after the
    # person's last message, for replies that need longer than the 24-hour window.
    HUMAN_AGENT = "human_agent"


class SkipReason(StrEnum):
    NO_CONSENT = "no_consent"
    WITHDRAWN = "withdrawn"
    FREQUENCY_CAP = "frequency_cap"
    QUIET_HOURS = "quiet_hours"
    WINDOW_CLOSED = "window_closed"
    SUPPRESSED = "suppressed"
    PAUSED = "paused"  # the person paused marketing on the preference page
    UNREACHABLE = "unreachable"
    ERASED = "erased"


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str


Decision = Send | Skip
SEND = Send()


@dataclass(frozen=True)
class OutboundPolicy:
    """The rules a workspace sends under. Defaults follow the authorities' guidance."""

    marketing_cap: int = 3
    cap_period: timedelta = timedelta(days=7)
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    service_window: timedelta = timedelta(hours=24)
    # Meta's Messenger Platform policy: the HUMAN_AGENT tag, 7 days after the last message.
    human_agent_window: timedelta = timedelta(days=7)

    def in_quiet_hours(self, local: time) -> bool:
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end


@dataclass(frozen=True)
class Recipient:
    """One person on one channel, as the gate needs to see them."""

    channel: ChannelKind
    time_zone: tzinfo
    consents: Mapping[str, ConsentState] = field(default_factory=dict)
    last_inbound_at: datetime | None = None
    # The last time the person withdrew on this channel (STOP, preference page, provider).
    stopped_at: datetime | None = None
    # When the last STOP confirmation went out. One answer per STOP: a confirmation sent
    # since the person's last message answers the withdrawal that silenced them.
    stop_confirmed_at: datetime | None = None
    marketing_sent: tuple[datetime, ...] = ()
    erased: bool = False
    unreachable: bool = False
    suppressed: bool = False

    def consent(self, purpose: str) -> ConsentState:
        return self.consents.get(purpose, ConsentState(ConsentStatus.NONE))

    def window_open(self, now: datetime, length: timedelta) -> bool:
        return self.last_inbound_at is not None and now < self.last_inbound_at + length

    def stop_confirmed(self) -> bool:
        if self.stop_confirmed_at is None:
            return False
        return self.last_inbound_at is None or self.stop_confirmed_at >= self.last_inbound_at

    def silenced(self) -> bool:
        """True after a withdrawal that nothing the person did since has lifted.

        Only the person lifts it: by writing to us again (which opens a service window
        and nothing more) or by a new consent step (a request they made, or an agreement).
        """
        if self.stopped_at is None:
            return False
        stopped = self.stopped_at
        if self.last_inbound_at is not None and self.last_inbound_at > stopped:
            return False
        return not any(
            state.since is not None
            and state.since > stopped
            and state.status in (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
            for state in self.consents.values()
        )


@dataclass(frozen=True)
class Outbound:
    kind: MessageKind
    purpose: str = SERVICE
    format: MessageFormat = MessageFormat.FREE_FORM


def decide(
    recipient: Recipient, message: Outbound, policy: OutboundPolicy, now: datetime
) -> Decision:
    """Send, or Skip with the reason, for ``message`` to ``recipient`` at ``now``."""
    for check in (_reachability, _silence, _consent, _window, _marketing_limits):
        verdict = check(recipient, message, policy, now)
        if verdict is not None:
            return verdict
    return SEND


def _reachability(r: Recipient, m: Outbound, p: OutboundPolicy, now: datetime) -> Skip | None:
    if r.erased:
        return Skip(SkipReason.ERASED, "the person's data was erased")
    if r.unreachable:
        return Skip(SkipReason.UNREACHABLE, "the channel reported this person unreachable")
    if r.suppressed:
        return Skip(SkipReason.SUPPRESSED, "the person is on the suppression list")
    return None


def _silence(r: Recipient, m: Outbound, p: OutboundPolicy, now: datetime) -> Skip | None:
    silenced = r.silenced()
    if m.kind is MessageKind.STOP_CONFIRMATION:
        if not silenced:
            return Skip(SkipReason.NO_CONSENT, "there is no withdrawal to confirm")
        if r.stop_confirmed():
            return Skip(SkipReason.WITHDRAWN, "the withdrawal was confirmed already")
        return None
    if silenced:
        return Skip(SkipReason.WITHDRAWN, "the person withdrew and has not written since")
    return None


def _consent(r: Recipient, m: Outbound, p: OutboundPolicy, now: datetime) -> Skip | None:
    if m.kind is MessageKind.STOP_CONFIRMATION:
        return None
    if m.kind is MessageKind.SERVICE and m.purpose == SERVICE:
        return None  # answering someone who wrote first; the window rule below applies
    if m.purpose == SERVICE:
        # A service conversation is never a consent for anything else.
        return Skip(SkipReason.NO_CONSENT, f"a {m.kind.value} message needs a consent purpose")
    if m.kind is MessageKind.MARKETING and m.purpose != MARKETING:
        # Marketing on a special consent (e.g. sensitive data) needs both consents.
        marketing = r.consent(MARKETING)
        if marketing.status is not ConsentStatus.ACTIVE:
            return _missing(MARKETING, marketing)
    state = r.consent(m.purpose)
    if m.kind is MessageKind.CONSENT_REQUEST:
        if state.status is ConsentStatus.PENDING:
            return None
        return Skip(SkipReason.NO_CONSENT, "no recorded, open double opt-in request")
    if state.status is ConsentStatus.ACTIVE:
        return None
    return _missing(m.purpose, state)


def _missing(purpose: str, state: ConsentState) -> Skip:
    if state.status is ConsentStatus.WITHDRAWN:
        return Skip(SkipReason.WITHDRAWN, f"the {purpose} consent was withdrawn")
    return Skip(SkipReason.NO_CONSENT, f"no confirmed {purpose} consent ({state.status.value})")


def _window(r: Recipient, m: Outbound, p: OutboundPolicy, now: datetime) -> Skip | None:
    if m.format is MessageFormat.HUMAN_AGENT and m.kind is not MessageKind.SERVICE:
        # The tag is for a person answering a person; Meta forbids it for anything else.
        return Skip(
            SkipReason.WINDOW_CLOSED,
            f"the HUMAN_AGENT tag is only for an agent's reply, not for a {m.kind.value} message",
        )
    if not r.channel.service_window_applies or m.format is MessageFormat.TEMPLATE:
        return None
    if r.window_open(now, p.service_window):
        return None
    if m.format is MessageFormat.HUMAN_AGENT:
        return _human_agent_window(r, p, now)
    return Skip(
        SkipReason.WINDOW_CLOSED,
        "the service window is closed: free-form messages need the person to have written"
        " in the last 24 hours; use an approved template",
    )


def _human_agent_window(r: Recipient, p: OutboundPolicy, now: datetime) -> Skip | None:
    if not r.channel.human_agent_tag:
        return Skip(
            SkipReason.WINDOW_CLOSED,
            f"{r.channel.value} has no HUMAN_AGENT tag and its 24-hour window is closed;"
            " use an approved template",
        )
    if r.window_open(now, p.human_agent_window):
        return None
    return Skip(
        SkipReason.WINDOW_CLOSED,
        f"the person last wrote more than {p.human_agent_window.days} days ago: not even"
        " an agent's reply with the HUMAN_AGENT tag may go now",
    )


def _marketing_limits(
    r: Recipient, m: Outbound, p: OutboundPolicy, now: datetime
) -> Skip | None:
    if m.kind is not MessageKind.MARKETING:
        return None
    consent = r.consent(m.purpose)
    if consent.paused_at(now):
        return Skip(SkipReason.PAUSED, "the person paused marketing messages for now")
    if p.in_quiet_hours(now.astimezone(r.time_zone).time()):
        return Skip(SkipReason.QUIET_HOURS, "it is night-time where the person lives")
    since = now - p.cap_period
    recent = sum(1 for sent in r.marketing_sent if since < sent <= now)
    cap = min(p.marketing_cap, consent.max_per_period or p.marketing_cap)
    if recent >= cap:
        return Skip(
            SkipReason.FREQUENCY_CAP,
            f"{recent} marketing messages in the last {p.cap_period.days} days already",
        )
    return None


__all__ = [
    "MARKETING",
    "SEND",
    "SERVICE",
    "Decision",
    "MessageFormat",
    "MessageKind",
    "Outbound",
    "OutboundPolicy",
    "Recipient",
    "Send",
    "Skip",
    "SkipReason",
    "decide",
]
