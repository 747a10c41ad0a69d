"""`botschaft campaign send`, `campaign uncertain` and `worker` as an operator runs them:
real processes against a fake WhatsApp served from this test's process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.storage.broadcast import Delivery
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from broadcast_setup import (
    FakeInThread,
    campaign,
    running_campaign,
    states,
    subscribers,
    whatsapp_environment,
)
from test_cli import botschaft


def _environment(settings: Settings, fake: FakeWhatsApp, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOTSCHAFT_")}
    environ.update(BOTSCHAFT_DATABASE_URL=settings.effective_database_url,
                   BOTSCHAFT_DATA_DIR=str(settings.data_dir), **whatsapp_environment(fake),
                   **extra)
    return environ


def _worker(settings: Settings, fake: FakeWhatsApp, **extra: str) -> subprocess.Popen[str]:
    """A `botschaft worker` process; its output goes to a file next to the database."""
    log = settings.data_dir / f"worker-{time.monotonic_ns()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "botschaft", "worker"], env=_environment(settings, fake, **extra),
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def _running(worker: subprocess.Popen[str]) -> bool:
    return "Worker running" in worker.log.read_text()  # type: ignore[attr-defined]


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)


def _count(ctx: Context, campaign_id: int, state: str) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count(Delivery.id)).where(
            Delivery.campaign_id == campaign_id, Delivery.state == state)) or 0


def test_campaign_send_sends_the_campaign_and_ends_with_its_summary(
    ctx: Context, settings: Settings, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(throughput_per_second=None)) as fake:
        people = subscribers(ctx, text_version, 12)
        others = subscribers(ctx, text_version, 2, first=100, consent=False)
        campaign_id = running_campaign(ctx, [*people, *others])
        result = botschaft(settings, "campaign", "send", str(campaign_id),
                           **whatsapp_environment(fake))
        assert result.returncode == 0, result.stdout + result.stderr
        assert len({m.to for m in fake.sent}) == len(fake.sent) == 12
    assert "Sent" in result.stdout and "12" in result.stdout
    assert "no_consent" in result.stdout
    assert campaign(ctx, campaign_id).status == "done"


def test_campaign_send_exits_3_when_the_provider_halts_the_campaign(
    ctx: Context, settings: Settings, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(throughput_per_second=None)) as fake:
        people = subscribers(ctx, text_version, 3)
        campaign_id = running_campaign(ctx, people)
        for n in range(3):
            fake.fail_next(f"+49151{n:08d}", 131048)
        result = botschaft(settings, "campaign", "send", str(campaign_id),
                           **whatsapp_environment(fake))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "paused" in result.stdout
    assert campaign(ctx, campaign_id).status == "paused"


def test_campaign_send_refuses_an_unknown_campaign_with_exit_code_2(settings: Settings) -> None:
    result = botschaft(settings, "campaign", "send", "999")
    assert result.returncode == 2
    assert "no campaign #999" in result.stderr


def test_a_worker_killed_mid_campaign_sends_nothing_twice_and_its_rows_are_reported(
    ctx: Context, settings: Settings, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(throughput_per_second=None)) as fake:
        people = subscribers(ctx, text_version, 120)
        campaign_id = running_campaign(ctx, people)
        released = threading.Event()

        async def hold_answers_after_30(_accepted: object) -> None:
            # The provider has the messages but has not answered yet: the moment a crash
            # leaves rows ``sending``, held open so the kill cannot miss it.
            while len(fake.sent) > 30 and not released.is_set():
                await asyncio.sleep(0.01)

        fake.before_answer = hold_answers_after_30
        slow = {"BOTSCHAFT_DISPATCH__WHATSAPP__PER_SECOND": "40"}
        first = _worker(settings, fake, **slow)
        try:
            _wait_for(lambda: len(fake.sent) > 30 and _count(ctx, campaign_id, "sending") > 0)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            released.set()
        left_sending = _count(ctx, campaign_id, "sending")
        assert left_sending > 0
        second = _worker(settings, fake)
        try:
            _wait_for(lambda: campaign(ctx, campaign_id).status == "done")
        finally:
            second.terminate()
            second.wait(10)
        received = Counter(m.to for m in fake.sent)
        assert max(received.values()) == 1, "someone got the campaign twice"
        assert _count(ctx, campaign_id, "sending") == left_sending
        assert _count(ctx, campaign_id, "sent") == 120 - left_sending
        report = botschaft(settings, "campaign", "uncertain", str(campaign_id),
                           "--older-than", "0")
    assert report.returncode == 1
    assert f"{left_sending} uncertain deliveries" in report.stdout


def test_uncertain_rows_are_sent_again_only_when_the_operator_asks(
    ctx: Context, settings: Settings, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(throughput_per_second=None)) as fake:
        people = subscribers(ctx, text_version, 3)
        campaign_id = running_campaign(ctx, people)
        with ctx.db.write() as session:  # as a crash would leave it
            row = session.scalars(select(Delivery).where(Delivery.contact_id == people[0])).one()
            row.state, row.claimed_at, row.attempts = "sending", ctx.clock.now(), 1
        plain = botschaft(settings, "campaign", "send", str(campaign_id),
                          **whatsapp_environment(fake))
        assert plain.returncode == 1
        assert "Uncertain" in plain.stdout
        assert len(fake.sent) == 2
        again = botschaft(settings, "campaign", "send", str(campaign_id), "--resend-uncertain",
                          **whatsapp_environment(fake))
        assert again.returncode == 0, again.stdout + again.stderr
        assert len(fake.sent) == 3
    assert set(states(ctx, campaign_id).values()) == {("sent", None)}


@pytest.fixture
def postgres_only(ctx: Context) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("several workers share a campaign on PostgreSQL only (SKIP LOCKED)")


@pytest.mark.usefixtures("postgres_only")
def test_two_workers_share_one_campaign_and_send_every_delivery_exactly_once(
    ctx: Context, settings: Settings, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(throughput_per_second=None)) as fake:
        people = subscribers(ctx, text_version, 600)
        limits = {"BOTSCHAFT_DISPATCH__WHATSAPP__PER_SECOND": "150",
                  "BOTSCHAFT_DISPATCH__IDLE_POLL_SECONDS": "0.2"}
        workers = [_worker(settings, fake, **limits) for _ in range(2)]
        try:
            for worker in workers:  # both are up before the campaign starts
                _wait_for(lambda worker=worker: _running(worker))
            campaign_id = running_campaign(ctx, people)
            _wait_for(lambda: campaign(ctx, campaign_id).status == "done"
                      and _count(ctx, campaign_id, "sending") == 0)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(10)
        received = Counter(m.to for m in fake.sent)
    assert len(received) == 600
    assert set(received.values()) == {1}
    with ctx.db.read() as session:
        by_worker = dict(session.execute(
            select(Delivery.claimed_by, func.count(Delivery.id))
            .where(Delivery.campaign_id == campaign_id).group_by(Delivery.claimed_by)
        ).all())
    assert len(by_worker) == 2, by_worker
    assert sum(by_worker.values()) == 600
