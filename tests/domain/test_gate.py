"""The outbound gate: may this message go to this person on this channel now?"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentState, ConsentStatus
from botschaft.domain.gate import (
    MARKETING,
    SEND,
    SERVICE,
    MessageFormat,
    MessageKind,
    Outbound,
    OutboundPolicy,
    Recipient,
    Send,
    Skip,
    SkipReason,
    decide,
)

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
# Wednesday 4 March 2026, 10:00 UTC = 11:00 in Berlin (CET): daytime, a weekday.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
POLICY = OutboundPolicy()
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ACTIVE = ConsentState(ConsentStatus.ACTIVE, NOW - 30 * DAY)
PENDING = ConsentState(ConsentStatus.PENDING, NOW - HOUR, NOW - HOUR + 2 * DAY)
EXPIRED = ConsentState(ConsentStatus.EXPIRED, NOW - DAY)
WITHDRAWN = ConsentState(ConsentStatus.WITHDRAWN, NOW - 2 * DAY)
NONE = ConsentState(ConsentStatus.NONE)


def subscriber(**changes) -> Recipient:
    """A WhatsApp subscriber in Berlin with an active marketing consent who wrote an hour ago."""
    base = Recipient(
        channel=ChannelKind.WHATSAPP,
        time_zone=BERLIN,
        consents={MARKETING: ACTIVE},
        last_inbound_at=NOW - HOUR,
    )
    return replace(base, **changes)


def stopped(**changes) -> Recipient:
    """Wrote STOP ten minutes ago: the marketing consent is withdrawn and nothing since."""
    stop = NOW - 10 * MINUTE
    facts = {
        "consents": {MARKETING: ConsentState(ConsentStatus.WITHDRAWN, stop)},
        "last_inbound_at": stop,
        "stopped_at": stop,
    }
    return subscriber(**{**facts, **changes})


def marketing(fmt: MessageFormat = MessageFormat.FREE_FORM) -> Outbound:
    return Outbound(MessageKind.MARKETING, MARKETING, fmt)


SERVICE_REPLY = Outbound(MessageKind.SERVICE, SERVICE)
CONSENT_REQUEST = Outbound(MessageKind.CONSENT_REQUEST, MARKETING)
WELCOME = Outbound(MessageKind.WELCOME, MARKETING)
STOP_CONFIRMATION = Outbound(MessageKind.STOP_CONFIRMATION)

# Every kind as the product sends it, each otherwise allowed to a PENDING or ACTIVE subscriber.
EVERY_KIND = {
    MessageKind.MARKETING: marketing(),
    MessageKind.SERVICE: SERVICE_REPLY,
    MessageKind.CONSENT_REQUEST: CONSENT_REQUEST,
    MessageKind.WELCOME: WELCOME,
    MessageKind.STOP_CONFIRMATION: STOP_CONFIRMATION,
}


CASES = [
    # who, what, when, expected
    pytest.param(subscriber(), marketing(), NOW, SEND, id="marketing to an active subscriber"),
    pytest.param(subscriber(), SERVICE_REPLY, NOW, SEND, id="service reply in the window"),
    pytest.param(
        subscriber(consents={MARKETING: PENDING}), CONSENT_REQUEST, NOW, SEND,
        id="consent request with a pending consent",
    ),
    pytest.param(subscriber(), WELCOME, NOW, SEND, id="welcome with an active consent"),
    pytest.param(stopped(), STOP_CONFIRMATION, NOW, SEND, id="the single STOP confirmation"),
    pytest.param(
        subscriber(erased=True), SERVICE_REPLY, NOW, SkipReason.ERASED, id="erased person"
    ),
    pytest.param(
        subscriber(unreachable=True), marketing(), NOW, SkipReason.UNREACHABLE,
        id="unreachable person",
    ),
    pytest.param(
        subscriber(suppressed=True), marketing(), NOW, SkipReason.SUPPRESSED,
        id="suppressed person",
    ),
    pytest.param(stopped(), SERVICE_REPLY, NOW, SkipReason.WITHDRAWN, id="silenced after STOP"),
    pytest.param(
        subscriber(consents={MARKETING: replace(ACTIVE, paused_until=NOW + DAY)}), marketing(),
        NOW, SkipReason.PAUSED, id="marketing during a pause",
    ),
    pytest.param(
        stopped(stop_confirmed_at=NOW - 9 * MINUTE), STOP_CONFIRMATION, NOW, SkipReason.WITHDRAWN,
        id="nothing after the STOP confirmation",
    ),
    pytest.param(
        subscriber(consents={}), marketing(), NOW, SkipReason.NO_CONSENT,
        id="marketing without consent",
    ),
    pytest.param(
        subscriber(consents={MARKETING: WITHDRAWN}), marketing(), NOW, SkipReason.WITHDRAWN,
        id="marketing after a withdrawal",
    ),
    pytest.param(
        subscriber(last_inbound_at=NOW - 2 * DAY), marketing(), NOW, SkipReason.WINDOW_CLOSED,
        id="free-form marketing outside the window",
    ),
    pytest.param(
        subscriber(), marketing(), datetime(2026, 3, 4, 21, 0, tzinfo=UTC),
        SkipReason.QUIET_HOURS, id="marketing at 22:00 in Berlin",
    ),
    pytest.param(
        subscriber(marketing_sent=(NOW - DAY, NOW - 2 * DAY, NOW - 3 * DAY)), marketing(), NOW,
        SkipReason.FREQUENCY_CAP, id="fourth marketing message in a week",
    ),
]


@pytest.mark.parametrize(("who", "what", "when", "expected"), CASES)
def test_gate_table(who, what, when, expected):
    decision = decide(who, what, POLICY, when)

    if expected is SEND:
        assert decision == SEND
    else:
        assert isinstance(decision, Skip)
        assert decision.reason is expected
        assert decision.detail


def test_gate_table_covers_every_skip_reason_and_message_kind():
    expected = {case.values[3] for case in CASES}
    kinds = {case.values[1].kind for case in CASES}

    assert set(SkipReason) <= expected
    assert kinds == set(MessageKind)


def reason(decision) -> SkipReason | None:
    return decision.reason if isinstance(decision, Skip) else None


# --- reachability ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MessageKind)
@pytest.mark.parametrize(
    ("flag", "expected"),
    [("erased", SkipReason.ERASED), ("unreachable", SkipReason.UNREACHABLE),
     ("suppressed", SkipReason.SUPPRESSED)],
)
def test_unreachable_people_get_no_message_of_any_kind(kind, flag, expected):
    who = stopped(**{flag: True}) if kind is MessageKind.STOP_CONFIRMATION else subscriber(
        consents={MARKETING: PENDING if kind is MessageKind.CONSENT_REQUEST else ACTIVE},
        **{flag: True},
    )

    assert reason(decide(who, EVERY_KIND[kind], POLICY, NOW)) is expected


def test_erasure_is_reported_before_other_reasons():
    who = subscriber(erased=True, unreachable=True, suppressed=True, consents={})

    assert reason(decide(who, marketing(), POLICY, NOW)) is SkipReason.ERASED


# --- STOP and the silence after it --------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [marketing(), marketing(MessageFormat.TEMPLATE), SERVICE_REPLY,
     Outbound(MessageKind.SERVICE, SERVICE, MessageFormat.TEMPLATE), CONSENT_REQUEST, WELCOME],
    ids=["marketing", "marketing template", "service", "service template", "consent request",
         "welcome"],
)
def test_nothing_but_the_stop_confirmation_goes_out_after_stop(message):
    assert reason(decide(stopped(), message, POLICY, NOW)) is SkipReason.WITHDRAWN


def test_stop_is_confirmed_once():
    assert decide(stopped(), STOP_CONFIRMATION, POLICY, NOW) == SEND
    assert (
        reason(decide(stopped(stop_confirmed_at=NOW - 9 * MINUTE), STOP_CONFIRMATION, POLICY, NOW))
        is SkipReason.WITHDRAWN
    )


def test_stop_confirmation_is_sent_in_quiet_hours():
    night = datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    who = stopped(last_inbound_at=night - MINUTE, stopped_at=night - MINUTE)

    assert decide(who, STOP_CONFIRMATION, POLICY, night) == SEND


def test_stop_confirmation_without_a_withdrawal_is_not_sent():
    assert reason(decide(subscriber(), STOP_CONFIRMATION, POLICY, NOW)) is SkipReason.NO_CONSENT


def test_withdrawal_in_the_ui_silences_the_person_as_well():
    who = subscriber(
        consents={MARKETING: ConsentState(ConsentStatus.WITHDRAWN, NOW - MINUTE)},
        stopped_at=NOW - MINUTE,
    )

    assert reason(decide(who, SERVICE_REPLY, POLICY, NOW)) is SkipReason.WITHDRAWN


def test_inbound_after_stop_lifts_the_silence_for_service_replies():
    who = stopped(last_inbound_at=NOW - MINUTE)

    assert decide(who, SERVICE_REPLY, POLICY, NOW) == SEND


@pytest.mark.parametrize(
    ("message", "expected"),
    [(marketing(), SkipReason.WITHDRAWN), (WELCOME, SkipReason.WITHDRAWN),
     (CONSENT_REQUEST, SkipReason.NO_CONSENT), (STOP_CONFIRMATION, SkipReason.NO_CONSENT)],
    ids=["marketing", "welcome", "consent request", "stop confirmation"],
)
def test_inbound_after_stop_lifts_the_silence_for_service_only(message, expected):
    who = stopped(last_inbound_at=NOW - MINUTE)

    assert reason(decide(who, message, POLICY, NOW)) is expected


def test_inbound_at_the_same_instant_as_the_stop_does_not_lift_the_silence():
    # The STOP message is itself the last inbound message.
    who = stopped()

    assert who.last_inbound_at == who.stopped_at
    assert reason(decide(who, SERVICE_REPLY, POLICY, NOW)) is SkipReason.WITHDRAWN


def test_new_double_opt_in_request_after_stop_lets_the_request_go_out():
    who = stopped(consents={MARKETING: ConsentState(
        ConsentStatus.PENDING, NOW - MINUTE, NOW - MINUTE + 2 * DAY)})

    assert decide(who, CONSENT_REQUEST, POLICY, NOW) == SEND


def test_new_agreement_after_stop_lets_marketing_go_out_again():
    who = stopped(consents={MARKETING: ConsentState(ConsentStatus.ACTIVE, NOW - MINUTE)})

    assert decide(who, marketing(), POLICY, NOW) == SEND


# --- consent -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [(NONE, SkipReason.NO_CONSENT), (PENDING, SkipReason.NO_CONSENT),
     (EXPIRED, SkipReason.NO_CONSENT), (WITHDRAWN, SkipReason.WITHDRAWN), (ACTIVE, None)],
    ids=lambda v: getattr(getattr(v, "status", None), "value", None),
)
def test_marketing_needs_an_active_marketing_consent(state, expected):
    who = subscriber(consents={MARKETING: state})

    assert reason(decide(who, marketing(), POLICY, NOW)) is expected


@pytest.mark.parametrize("state", [NONE, ACTIVE, EXPIRED, WITHDRAWN, PENDING],
                         ids=lambda s: s.status.value)
def test_consent_request_goes_only_with_a_pending_consent(state):
    decision = decide(subscriber(consents={MARKETING: state}), CONSENT_REQUEST, POLICY, NOW)

    if state.status is ConsentStatus.PENDING:
        assert decision == SEND
    else:
        assert reason(decision) is SkipReason.NO_CONSENT


@pytest.mark.parametrize("state", [NONE, PENDING, EXPIRED, WITHDRAWN, ACTIVE],
                         ids=lambda s: s.status.value)
def test_welcome_goes_only_with_an_active_consent(state):
    decision = decide(subscriber(consents={MARKETING: state}), WELCOME, POLICY, NOW)

    assert (decision == SEND) is (state.status is ConsentStatus.ACTIVE)


@pytest.mark.parametrize(
    "kind", [MessageKind.MARKETING, MessageKind.WELCOME, MessageKind.CONSENT_REQUEST]
)
def test_service_purpose_never_justifies_marketing(kind):
    who = subscriber(consents={SERVICE: ACTIVE, MARKETING: NONE})

    decision = decide(who, Outbound(kind, SERVICE), POLICY, NOW)

    assert reason(decision) is SkipReason.NO_CONSENT


def test_service_conversation_is_no_marketing_consent():
    who = subscriber(consents={}, last_inbound_at=NOW - MINUTE)

    assert decide(who, SERVICE_REPLY, POLICY, NOW) == SEND
    assert reason(decide(who, marketing(), POLICY, NOW)) is SkipReason.NO_CONSENT


def test_consent_for_another_purpose_is_no_marketing_consent():
    who = subscriber(consents={"sensitive_data": ACTIVE})

    assert reason(decide(who, marketing(), POLICY, NOW)) is SkipReason.NO_CONSENT


# --- the service window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "applies"),
    [(ChannelKind.WHATSAPP, True), (ChannelKind.MESSENGER, True), (ChannelKind.SANDBOX, True),
     (ChannelKind.TELEGRAM, False), (ChannelKind.WEBCHAT, False)],
)
def test_service_window_applies_to_whatsapp_messenger_and_sandbox_only(channel, applies):
    assert channel.service_window_applies is applies


@pytest.mark.parametrize(
    ("last_inbound", "expected"),
    [(NOW - 24 * HOUR + MINUTE, None), (NOW - 24 * HOUR, SkipReason.WINDOW_CLOSED),
     (NOW - 3 * DAY, SkipReason.WINDOW_CLOSED), (None, SkipReason.WINDOW_CLOSED)],
    ids=["23h59 ago", "exactly 24h ago", "3 days ago", "never wrote"],
)
@pytest.mark.parametrize("message", [SERVICE_REPLY, marketing()], ids=["service", "marketing"])
def test_whatsapp_free_form_needs_an_inbound_message_in_the_last_24_hours(
    last_inbound, expected, message
):
    who = subscriber(last_inbound_at=last_inbound)

    assert reason(decide(who, message, POLICY, NOW)) is expected


@pytest.mark.parametrize("last_inbound", [None, NOW - 3 * DAY], ids=["never wrote", "3 days"])
@pytest.mark.parametrize("message", [SERVICE_REPLY, marketing()], ids=["service", "marketing"])
def test_telegram_has_no_service_window(last_inbound, message):
    who = subscriber(channel=ChannelKind.TELEGRAM, last_inbound_at=last_inbound)

    assert decide(who, message, POLICY, NOW) == SEND


@pytest.mark.parametrize(
    "message",
    [marketing(MessageFormat.TEMPLATE), Outbound(MessageKind.SERVICE, SERVICE,
                                                  MessageFormat.TEMPLATE),
     Outbound(MessageKind.CONSENT_REQUEST, MARKETING, MessageFormat.TEMPLATE)],
    ids=["marketing", "service", "consent request"],
)
def test_templates_may_go_outside_the_window(message):
    state = PENDING if message.kind is MessageKind.CONSENT_REQUEST else ACTIVE
    who = subscriber(consents={MARKETING: state}, last_inbound_at=NOW - 5 * DAY)

    assert decide(who, message, POLICY, NOW) == SEND


def test_messenger_free_form_outside_the_window_is_refused():
    who = subscriber(channel=ChannelKind.MESSENGER, last_inbound_at=NOW - 2 * DAY)

    assert reason(decide(who, SERVICE_REPLY, POLICY, NOW)) is SkipReason.WINDOW_CLOSED


# --- Messenger's HUMAN_AGENT tag: an agent's reply up to 7 days after -------------------

AGENT_REPLY = Outbound(MessageKind.SERVICE, SERVICE, MessageFormat.HUMAN_AGENT)


@pytest.mark.parametrize(
    ("last_inbound", "expected"),
    [(NOW - 2 * DAY, None), (NOW - 7 * DAY + MINUTE, None),
     (NOW - 7 * DAY, SkipReason.WINDOW_CLOSED), (NOW - 30 * DAY, SkipReason.WINDOW_CLOSED),
     (None, SkipReason.WINDOW_CLOSED), (NOW - HOUR, None)],
    ids=["2 days", "6d23h59", "exactly 7 days", "30 days", "never wrote", "inside 24h"],
)
def test_messenger_agent_reply_with_the_human_agent_tag_goes_for_7_days(last_inbound, expected):
    who = subscriber(channel=ChannelKind.MESSENGER, last_inbound_at=last_inbound)

    assert reason(decide(who, AGENT_REPLY, POLICY, NOW)) is expected


def test_human_agent_window_follows_the_policy():
    who = subscriber(channel=ChannelKind.MESSENGER, last_inbound_at=NOW - 3 * DAY)
    short = replace(POLICY, human_agent_window=2 * DAY)

    assert reason(decide(who, AGENT_REPLY, short, NOW)) is SkipReason.WINDOW_CLOSED


@pytest.mark.parametrize("channel", [ChannelKind.WHATSAPP, ChannelKind.SANDBOX])
def test_human_agent_tag_does_not_open_the_window_on_other_channels(channel):
    who = subscriber(channel=channel, last_inbound_at=NOW - 2 * DAY)

    decision = decide(who, AGENT_REPLY, POLICY, NOW)

    assert reason(decision) is SkipReason.WINDOW_CLOSED
    assert "template" in decision.detail


@pytest.mark.parametrize(
    "message",
    [Outbound(MessageKind.MARKETING, MARKETING, MessageFormat.HUMAN_AGENT),
     Outbound(MessageKind.WELCOME, MARKETING, MessageFormat.HUMAN_AGENT)],
    ids=["marketing", "welcome"],
)
def test_human_agent_tag_is_refused_for_anything_but_a_reply(message):
    # Even inside the 24-hour window: Meta forbids the tag for promotional content.
    who = subscriber(channel=ChannelKind.MESSENGER, last_inbound_at=NOW - HOUR)

    decision = decide(who, message, POLICY, NOW)

    assert reason(decision) is SkipReason.WINDOW_CLOSED
    assert "HUMAN_AGENT" in decision.detail


def test_human_agent_reply_after_stop_is_still_refused():
    who = stopped(channel=ChannelKind.MESSENGER)

    assert reason(decide(who, AGENT_REPLY, POLICY, NOW)) is SkipReason.WITHDRAWN


def test_only_messenger_has_the_human_agent_tag():
    assert [kind for kind in ChannelKind if kind.human_agent_tag] == [ChannelKind.MESSENGER]


# --- quiet hours, in the person's own time zone ------------------------------------------


def at_local(hour: int, minute: int, zone: ZoneInfo, day: int = 4, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def marketing_at(when: datetime, zone: ZoneInfo = BERLIN):
    who = subscriber(time_zone=zone, last_inbound_at=None)
    return reason(decide(who, marketing(MessageFormat.TEMPLATE), POLICY, when))


def test_21_00_in_berlin_is_quiet():
    assert marketing_at(at_local(21, 0, BERLIN)) is SkipReason.QUIET_HOURS


def test_21_00_utc_is_06_00_in_tokyo_and_quiet():
    when = datetime(2026, 3, 4, 21, 0, tzinfo=UTC)

    assert when.astimezone(TOKYO).time() == time(6, 0)
    assert marketing_at(when, TOKYO) is SkipReason.QUIET_HOURS


def test_21_00_utc_is_22_00_in_berlin_and_quiet():
    assert marketing_at(datetime(2026, 3, 4, 21, 0, tzinfo=UTC)) is SkipReason.QUIET_HOURS


def test_01_00_utc_is_10_00_in_tokyo_and_fine():
    assert marketing_at(datetime(2026, 3, 4, 1, 0, tzinfo=UTC), TOKYO) is None


@pytest.mark.parametrize("zone", [BERLIN, TOKYO, ZoneInfo("America/New_York")], ids=str)
@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(10, 0, None), (19, 59, None), (20, 0, SkipReason.QUIET_HOURS),
     (23, 59, SkipReason.QUIET_HOURS), (0, 0, SkipReason.QUIET_HOURS),
     (7, 59, SkipReason.QUIET_HOURS), (8, 0, None)],
)
def test_quiet_hours_run_from_20_00_to_08_00_local_time(zone, hour, minute, expected):
    assert marketing_at(at_local(hour, minute, zone), zone) is expected


def test_quiet_hours_follow_summer_time():
    # 18:30 UTC in July is 20:30 in Berlin (CEST), but 19:30 in winter (CET).
    assert marketing_at(datetime(2026, 7, 1, 18, 30, tzinfo=UTC)) is SkipReason.QUIET_HOURS
    assert marketing_at(datetime(2026, 1, 7, 18, 30, tzinfo=UTC)) is None


@pytest.mark.parametrize("message", [SERVICE_REPLY, WELCOME], ids=["service", "welcome"])
def test_quiet_hours_do_not_hold_back_answers(message):
    night = at_local(23, 0, BERLIN)
    who = subscriber(last_inbound_at=night - MINUTE)

    assert decide(who, message, POLICY, night) == SEND


def test_quiet_hours_within_one_day_are_respected():
    policy = OutboundPolicy(quiet_start=time(12, 0), quiet_end=time(14, 0))

    assert policy.in_quiet_hours(time(12, 0))
    assert policy.in_quiet_hours(time(13, 59))
    assert not policy.in_quiet_hours(time(14, 0))
    assert not policy.in_quiet_hours(time(11, 59))


def test_equal_quiet_start_and_end_means_no_quiet_hours():
    policy = OutboundPolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))

    assert not policy.in_quiet_hours(time(0, 0))
    assert not policy.in_quiet_hours(time(3, 0))


# --- the frequency cap -------------------------------------------------------------------


def marketing_after(*sent: datetime):
    return reason(decide(subscriber(marketing_sent=sent), marketing(), POLICY, NOW))


def test_third_marketing_message_in_seven_days_may_go():
    assert marketing_after(NOW - DAY, NOW - 3 * DAY) is None


def test_fourth_marketing_message_in_seven_days_is_skipped():
    assert marketing_after(NOW - HOUR, NOW - DAY, NOW - 6 * DAY) is SkipReason.FREQUENCY_CAP


def test_message_that_fell_out_of_the_seven_days_frees_a_slot():
    assert marketing_after(NOW - HOUR, NOW - DAY, NOW - 7 * DAY - MINUTE) is None


def test_message_exactly_seven_days_ago_no_longer_counts():
    assert marketing_after(NOW - HOUR, NOW - DAY, NOW - 7 * DAY) is None


def test_message_a_minute_inside_the_seven_days_still_counts():
    assert (
        marketing_after(NOW - HOUR, NOW - DAY, NOW - 7 * DAY + MINUTE)
        is SkipReason.FREQUENCY_CAP
    )


def test_frequency_cap_counts_only_marketing():
    # Service replies are not in marketing_sent; the cap limits offers, not answers.
    who = subscriber(marketing_sent=(NOW - HOUR, NOW - DAY, NOW - 2 * DAY))

    assert decide(who, SERVICE_REPLY, POLICY, NOW) == SEND


def test_frequency_cap_follows_the_policy():
    policy = OutboundPolicy(marketing_cap=1, cap_period=timedelta(days=2))
    who = subscriber(marketing_sent=(NOW - DAY,))
    template = marketing(MessageFormat.TEMPLATE)

    assert reason(decide(who, template, policy, NOW)) is SkipReason.FREQUENCY_CAP
    assert decide(who, template, policy, NOW + DAY + MINUTE) == SEND


def test_send_is_a_value():
    assert isinstance(SEND, Send)
    assert Send() == SEND


def test_marketing_on_a_special_consent_also_needs_the_marketing_consent() -> None:
    health_offer = Outbound(MessageKind.MARKETING, "health_data")
    only_special = subscriber(consents={"health_data": ACTIVE})
    both = subscriber(consents={"health_data": ACTIVE, MARKETING: ACTIVE})
    withdrawn_marketing = subscriber(consents={"health_data": ACTIVE, MARKETING: WITHDRAWN})

    assert decide(only_special, health_offer, POLICY, NOW) == Skip(
        SkipReason.NO_CONSENT, "no confirmed marketing consent (none)"
    )
    assert decide(both, health_offer, POLICY, NOW) == SEND
    assert decide(withdrawn_marketing, health_offer, POLICY, NOW).reason is SkipReason.WITHDRAWN


def test_a_paused_subscriber_gets_no_marketing_until_the_pause_ends() -> None:
    paused = replace(ACTIVE, paused_until=NOW + 7 * DAY)
    person = subscriber(consents={MARKETING: paused})
    assert decide(person, marketing(), POLICY, NOW).reason is SkipReason.PAUSED
    after_pause = marketing(MessageFormat.TEMPLATE)
    assert decide(person, after_pause, POLICY, NOW + 8 * DAY) == SEND
    assert decide(person, SERVICE_REPLY, POLICY, NOW) == SEND


def test_a_subscriber_who_chose_fewer_messages_gets_fewer() -> None:
    person = subscriber(consents={MARKETING: replace(ACTIVE, max_per_period=1)},
                        marketing_sent=(NOW - 2 * DAY,))
    assert decide(person, marketing(), POLICY, NOW).reason is SkipReason.FREQUENCY_CAP
