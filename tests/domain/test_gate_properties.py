"""The gate's promise, as properties over random histories of one WhatsApp or Messenger contact.

A harness plays a random history (messages in, STOP, double opt-in steps, withdrawals in the
UI, time passing, send attempts), builds the gate's ``Recipient`` from what happened so far,
and records every message the gate lets through. Independent oracles then read the raw
history and check the law's rules; they know nothing of ``gate.py``'s checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind, ConsentFact, derive_state
from botschaft.domain.gate import (
    MARKETING,
    SERVICE,
    MessageFormat,
    MessageKind,
    Outbound,
    OutboundPolicy,
    Recipient,
    Send,
    decide,
)

EXPIRY = timedelta(days=2)
WINDOW = timedelta(hours=24)
AGENT_WINDOW = timedelta(days=7)  # Messenger's HUMAN_AGENT tag
CAP, CAP_PERIOD = 3, timedelta(days=7)
POLICY = OutboundPolicy()
STEP = timedelta(minutes=1)  # every event takes a minute, so no two share an instant
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ZONES = [ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")]

# What the person and the business do. "send" carries the attempted Outbound.
INBOUND, STOP, REQUESTED, CONFIRMED, GRANTED, WITHDRAWN_UI, WAIT, SEND = (
    "inbound", "stop", "requested", "confirmed", "granted", "withdrawn_ui", "wait", "send"
)


@dataclass(frozen=True)
class Record:
    at: datetime
    what: str
    message: Outbound | None = None
    sent: bool = False


# --- the harness -------------------------------------------------------------------------


class Contact:
    """Keeps the raw history and derives the gate's view of the person from it."""

    def __init__(self, start: datetime, zone: ZoneInfo,
                 channel: ChannelKind = ChannelKind.WHATSAPP) -> None:
        self.now = start
        self.zone = zone
        self.channel = channel
        self.history: list[Record] = []
        self.facts: list[ConsentFact] = []

    def play(self, event: tuple) -> None:
        what = event[0]
        if what == WAIT:
            self.now += event[1]
            return
        self.now += STEP
        if what == SEND:
            message = event[1]
            sent = isinstance(decide(self.recipient(), message, POLICY, self.now), Send)
            self.history.append(Record(self.now, SEND, message, sent))
            return
        kind = {
            STOP: ConsentEventKind.WITHDRAWN,
            WITHDRAWN_UI: ConsentEventKind.WITHDRAWN,
            REQUESTED: ConsentEventKind.REQUESTED,
            CONFIRMED: ConsentEventKind.CONFIRMED,
            GRANTED: ConsentEventKind.GRANTED,
        }.get(what)
        if kind is not None:
            self.facts.append(ConsentFact(kind, self.now))
        self.history.append(Record(self.now, what))
        if what in (CONFIRMED, GRANTED) and event[1]:
            # Confirmed or granted by a reply such as START: that reply is a message in too.
            self.history.append(Record(self.now, INBOUND))

    def recipient(self) -> Recipient:
        inbound = [r.at for r in self.history if r.what in (INBOUND, STOP)]
        withdrawals = [r.at for r in self.history if r.what in (STOP, WITHDRAWN_UI)]
        stopped_at = withdrawals[-1] if withdrawals else None
        sent = [r for r in self.history if r.sent]
        return Recipient(
            channel=self.channel,
            time_zone=self.zone,
            consents={MARKETING: derive_state(self.facts, self.now, EXPIRY)},
            last_inbound_at=inbound[-1] if inbound else None,
            stopped_at=stopped_at,
            stop_confirmed_at=max(
                (r.at for r in sent if r.message.kind is MessageKind.STOP_CONFIRMATION),
                default=None,
            ),
            marketing_sent=tuple(r.at for r in sent if r.message.kind is MessageKind.MARKETING),
        )


def play(events, start: datetime, zone: ZoneInfo,
         channel: ChannelKind = ChannelKind.WHATSAPP) -> list[Record]:
    contact = Contact(start, zone, channel)
    for event in events:
        contact.play(event)
    return contact.history


# --- strategies --------------------------------------------------------------------------

# Marketing is what the law is about, so it is attempted most; every kind still comes up.
outbounds = st.builds(
    Outbound,
    st.sampled_from([MessageKind.MARKETING] * 4 + list(MessageKind)),
    st.sampled_from([MARKETING, MARKETING, SERVICE]),
    st.sampled_from(MessageFormat),
)
waits = st.one_of(
    st.integers(1, 180).map(lambda n: timedelta(minutes=n)),
    st.integers(1, 48).map(lambda n: timedelta(hours=n)),
    st.integers(1, 6).map(lambda n: timedelta(days=n)),
)
# Each kind of event with its weight: how many tickets it has in the draw.
EVENTS = {
    INBOUND: (3, st.just((INBOUND,))),
    STOP: (1, st.just((STOP,))),
    REQUESTED: (2, st.just((REQUESTED,))),
    CONFIRMED: (2, st.tuples(st.just(CONFIRMED), st.booleans())),
    GRANTED: (2, st.tuples(st.just(GRANTED), st.booleans())),
    WITHDRAWN_UI: (1, st.just((WITHDRAWN_UI,))),
    WAIT: (3, st.tuples(st.just(WAIT), waits)),
    SEND: (8, st.tuples(st.just(SEND), outbounds)),
}


def histories(*leaving_out: str):
    """Random scripts of events, each kind drawn as often as its weight says."""
    tickets = [
        name for name, (weight, _) in EVENTS.items() if name not in leaving_out
        for _ in range(weight)
    ]
    event = st.sampled_from(tickets).flatmap(lambda name: EVENTS[name][1])
    return st.lists(event, min_size=10, max_size=80)


starts = st.integers(0, 24 * 60 - 1).map(lambda m: T0 + timedelta(minutes=m))
zones = st.sampled_from(ZONES)


# --- the oracles: the law, read off the raw history --------------------------------------


def sends(history: list[Record]) -> list[Record]:
    return [r for r in history if r.sent]


def had_marketing_consent(history: list[Record], at: datetime) -> bool:
    """A grant, or a confirmation within the expiry of the request it answers, since the
    last withdrawal (STOP or UI)."""
    before = [r for r in history if r.at <= at]
    withdrawals = [i for i, r in enumerate(before) if r.what in (STOP, WITHDRAWN_UI)]
    since = before[withdrawals[-1] + 1:] if withdrawals else before
    request_at = None
    for record in since:
        if record.what == GRANTED:
            return True
        if record.what == REQUESTED:
            request_at = record.at
        if record.what == CONFIRMED and request_at and record.at < request_at + EXPIRY:
            return True
    return False


def check_marketing_only_with_consent(history, zone):
    for record in sends(history):
        if record.message.kind is MessageKind.MARKETING:
            assert had_marketing_consent(history, record.at), record


LIFTS_SILENCE = (INBOUND, STOP, REQUESTED, GRANTED)


def silences(history: list[Record]):
    """For each STOP, the records after it until the person writes or takes a consent step.

    A confirmation cannot follow a STOP without a new request first, so it needs no entry.
    """
    for i, record in enumerate(history):
        if record.what != STOP:
            continue
        after = []
        for later in history[i + 1:]:
            if later.what in LIFTS_SILENCE:
                break
            after.append(later)
        yield record, after


def check_only_one_stop_confirmation_after_stop(history, zone):
    for stop, after in silences(history):
        out = sends(after)
        assert len(out) <= 1, (stop, out)
        assert all(r.message.kind is MessageKind.STOP_CONFIRMATION for r in out), (stop, out)


def check_free_form_only_in_the_window(history, zone):
    """WhatsApp: everything but a template needs a message from the person in the last 24 h
    (a HUMAN_AGENT tag changes nothing there)."""
    last_inbound = None
    for record in history:
        if record.what in (INBOUND, STOP):
            last_inbound = record.at
        if record.sent and record.message.format is not MessageFormat.TEMPLATE:
            assert last_inbound is not None, record
            assert record.at - last_inbound < WINDOW, (record, last_inbound)


def check_messenger_windows(history, zone):
    """Messenger: free text within 24 h of the person's last message; an agent's reply with
    the HUMAN_AGENT tag within 7 days; the tag never on anything but a service reply."""
    last_inbound = None
    for record in history:
        if record.what in (INBOUND, STOP):
            last_inbound = record.at
        if not record.sent or record.message.format is MessageFormat.TEMPLATE:
            continue
        assert last_inbound is not None, record
        if record.message.format is MessageFormat.HUMAN_AGENT:
            assert record.message.kind is MessageKind.SERVICE, record
            assert record.at - last_inbound < AGENT_WINDOW, (record, last_inbound)
        else:
            assert record.at - last_inbound < WINDOW, (record, last_inbound)


def check_frequency_cap(history, zone):
    times = [r.at for r in sends(history) if r.message.kind is MessageKind.MARKETING]
    for at in times:
        assert sum(1 for t in times if at - CAP_PERIOD < t <= at) <= CAP, (at, times)


def check_no_marketing_at_night(history, zone):
    for record in sends(history):
        if record.message.kind is MessageKind.MARKETING:
            local = record.at.astimezone(zone)
            assert 8 <= local.hour < 20, (record, local)


# --- scripted histories: the oracles see real sends, and catch real faults -------------

MARKETING_NOW = (SEND, Outbound(MessageKind.MARKETING, MARKETING, MessageFormat.TEMPLATE))
SERVICE_NOW = (SEND, Outbound(MessageKind.SERVICE, SERVICE))
CONFIRM_STOP = (SEND, Outbound(MessageKind.STOP_CONFIRMATION))
AGENT_REPLY_NOW = (SEND, Outbound(MessageKind.SERVICE, SERVICE, MessageFormat.HUMAN_AGENT))
BERLIN = ZONES[0]
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def test_harness_sends_marketing_to_a_subscriber_who_confirmed():
    history = play([(REQUESTED,), (CONFIRMED, True), MARKETING_NOW], MORNING, BERLIN)

    assert [r.message.kind for r in sends(history)] == [MessageKind.MARKETING]


def test_harness_stops_after_stop_but_for_the_confirmation():
    history = play(
        [(GRANTED, True), (STOP,), MARKETING_NOW, CONFIRM_STOP, SERVICE_NOW, CONFIRM_STOP],
        MORNING,
        BERLIN,
    )

    assert [r.message.kind for r in sends(history)] == [MessageKind.STOP_CONFIRMATION]


def test_harness_caps_marketing_at_three_a_week():
    day = (WAIT, timedelta(days=1))
    history = play([(GRANTED, False), *[MARKETING_NOW, day] * 8], MORNING, BERLIN)

    sent = [r.at for r in sends(history)]
    # Days 3 to 6 are refused; on day 7 the first message has left the seven days.
    assert [(at - sent[0]).days for at in sent] == [0, 1, 2, 7]


def test_harness_sends_an_agent_reply_on_messenger_six_days_after_the_last_message():
    script = [(INBOUND,), (WAIT, timedelta(days=6)), SERVICE_NOW, AGENT_REPLY_NOW,
              (WAIT, timedelta(days=1)), AGENT_REPLY_NOW]

    history = play(script, MORNING, BERLIN, ChannelKind.MESSENGER)

    assert [r.message.format for r in sends(history)] == [MessageFormat.HUMAN_AGENT]


def test_harness_sends_a_second_stop_confirmation_after_a_second_stop():
    script = [(GRANTED, True), (STOP,), CONFIRM_STOP, (STOP,), CONFIRM_STOP]

    history = play(script, MORNING, BERLIN)

    assert [r.message.kind for r in sends(history)] == [MessageKind.STOP_CONFIRMATION] * 2


@pytest.mark.parametrize(
    ("check", "history"),
    [
        (check_marketing_only_with_consent,
         [Record(MORNING, SEND, MARKETING_NOW[1], sent=True)]),
        (check_only_one_stop_confirmation_after_stop,
         [Record(MORNING, STOP), Record(MORNING + STEP, SEND, SERVICE_NOW[1], sent=True)]),
        (check_free_form_only_in_the_window,
         [Record(MORNING, INBOUND), Record(MORNING + WINDOW, SEND, SERVICE_NOW[1], sent=True)]),
        (check_messenger_windows,
         [Record(MORNING, INBOUND),
          Record(MORNING + AGENT_WINDOW, SEND, AGENT_REPLY_NOW[1], sent=True)]),
        (check_messenger_windows,
         [Record(MORNING, INBOUND), Record(MORNING + WINDOW, SEND, SERVICE_NOW[1], sent=True)]),
        (check_messenger_windows,
         [Record(MORNING, INBOUND), Record(MORNING + STEP, SEND, Outbound(
             MessageKind.MARKETING, MARKETING, MessageFormat.HUMAN_AGENT), sent=True)]),
        (check_frequency_cap,
         [Record(MORNING + n * timedelta(days=2), SEND, MARKETING_NOW[1], sent=True)
          for n in range(4)]),
        (check_no_marketing_at_night,
         [Record(datetime(2026, 3, 2, 19, 0, tzinfo=UTC), SEND, MARKETING_NOW[1], sent=True)]),
    ],
    ids=["consent", "stop", "window", "agent window", "messenger window", "agent tag", "cap",
         "night"],
)
def test_oracle_catches_the_fault_it_is_written_for(check, history):
    with pytest.raises(AssertionError):
        check(history, BERLIN)


# --- the properties ----------------------------------------------------------------------

PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(histories(), starts, zones)
def test_no_marketing_without_a_confirmed_or_granted_unwithdrawn_consent(script, start, zone):
    check_marketing_only_with_consent(play(script, start, zone), zone)


@PROPERTY
@given(histories(), starts, zones)
def test_no_free_form_message_on_whatsapp_outside_the_24_hour_window(script, start, zone):
    check_free_form_only_in_the_window(play(script, start, zone), zone)


@PROPERTY
@given(histories(), starts, zones)
def test_never_more_than_three_marketing_messages_in_seven_days(script, start, zone):
    check_frequency_cap(play(script, start, zone), zone)


@PROPERTY
@given(histories(), starts, zones)
def test_no_marketing_in_the_contacts_quiet_hours(script, start, zone):
    check_no_marketing_at_night(play(script, start, zone), zone)


@PROPERTY
@given(histories(WITHDRAWN_UI), starts, zones)
def test_after_stop_only_the_single_confirmation_goes_until_the_person_acts(
    script, start, zone
):
    # Without UI withdrawals; the property below adds them.
    check_only_one_stop_confirmation_after_stop(play(script, start, zone), zone)


SECOND_CONFIRMATION_AFTER_UI_WITHDRAWAL = [
    (GRANTED, True), (STOP,), CONFIRM_STOP, (WITHDRAWN_UI,), CONFIRM_STOP,
]

def test_withdrawal_in_the_ui_after_a_confirmed_stop_sends_no_second_confirmation():
    history = play(SECOND_CONFIRMATION_AFTER_UI_WITHDRAWAL, MORNING, BERLIN)

    assert [r.message.kind for r in sends(history)] == [MessageKind.STOP_CONFIRMATION]


@PROPERTY
@example(SECOND_CONFIRMATION_AFTER_UI_WITHDRAWAL, MORNING, BERLIN)
@given(histories(), starts, zones)
def test_after_stop_only_the_single_confirmation_goes_even_with_ui_withdrawals(
    script, start, zone
):
    check_only_one_stop_confirmation_after_stop(play(script, start, zone), zone)


# --- Messenger: the same promises, and the HUMAN_AGENT tag's 7 days ----------------------

messenger = st.just(ChannelKind.MESSENGER)


@PROPERTY
@given(histories(), starts, zones, messenger)
def test_messenger_free_text_within_24_hours_and_agent_replies_within_7_days(
    script, start, zone, channel
):
    check_messenger_windows(play(script, start, zone, channel), zone)


@PROPERTY
@given(histories(), starts, zones, messenger)
def test_no_marketing_on_messenger_without_consent_tag_or_not(script, start, zone, channel):
    check_marketing_only_with_consent(play(script, start, zone, channel), zone)


@PROPERTY
@given(histories(), starts, zones, messenger)
def test_after_stop_on_messenger_only_the_single_confirmation_goes(script, start, zone, channel):
    check_only_one_stop_confirmation_after_stop(play(script, start, zone, channel), zone)
