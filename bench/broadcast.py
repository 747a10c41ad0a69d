"""Broadcast benchmark: seed subscribers, plan a campaign, send it through the real dispatcher.

Three processes, as in production: this one (seeding, planning, STOPs during the run, the
checks), the fake WhatsApp Cloud API on loopback (its throughput limit off), and a worker
running ``worker.dispatcher.Dispatcher`` on the campaign. From the same run, a bare loop of
aiohttp POSTs to the same fake (same body shape, same concurrency), run in a process of its
own before and after the campaign, gives the ceiling (the mean of the two). Prints one JSON
line::

    uv run python bench/broadcast.py --subscribers 100000 --db sqlite
    uv run python bench/broadcast.py --subscribers 1000000 --db postgres
    uv run python bench/broadcast.py --subscribers 1000000 --db postgres --workers 2

``--db postgres`` needs BOTSCHAFT_TEST_POSTGRES_URL (a schema of its own is made and dropped).
``--workers 2`` starts two worker processes on the one campaign, as two ``botschaft worker``
would share it (PostgreSQL only); the throughput is theirs together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))

import seed_subscribers

STOPS = 50  # subscribers who write STOP while the campaign runs
CEILING_POSTS = 20_000
CONCURRENCY = 64
CEILING_PREFIX = "+4917"  # recipients of the ceiling loop, apart from the campaign's


class TickingClock:
    """The seed's fixed Monday morning, then moving on with real time (rates, sent_at)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


# -- the fake provider, in a process of its own -------------------------------------------


def serve_fake(info_file: Path, stats_file: Path) -> None:
    """Run the fake until a stop file appears next to ``stats_file``; then write who got
    how many messages, and when (a file, not a signal, so a profiler in front of the
    process can be left to end with it)."""
    import gc

    from botschaft.testing.fake_whatsapp import FakeWhatsApp

    async def main() -> None:
        fake = FakeWhatsApp(throughput_per_second=None)
        await fake.start()
        # Recipients and times in flat containers: a million (recipient, time) tuples would
        # make every full collection of the fake's garbage collector slower as the run goes.
        recipients: list[str] = []
        times = array("d")
        info_file.write_text(json.dumps({
            "base_url": fake.base_url, "phone_number_id": fake.phone_number_id,
            "access_token": fake.access_token, "app_secret": fake.app_secret,
            "verify_token": fake.verify_token, "api_version": fake.api_version,
        }))
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)  # as the worker and the ceiling loop run
        stop = stats_file.with_suffix(".stop")
        while True:
            # The fake keeps every request body; keep only recipient and time so a million
            # messages fit in memory.
            taken, fake.sent = fake.sent, []
            recipients.extend(m.to for m in taken)
            times.extend(m.at.timestamp() for m in taken)
            if stop.exists():
                break
            await asyncio.sleep(0.5)
        await fake.stop()
        stats_file.write_text(json.dumps([recipients, times.tolist()]))

    asyncio.run(main())


def fake_settings(info: dict[str, str]) -> Any:
    from pydantic import SecretStr

    from botschaft.settings import WhatsAppSettings

    return WhatsAppSettings(
        enabled=True, api_base=info["base_url"], api_version=info["api_version"],
        phone_number_id=info["phone_number_id"], access_token=SecretStr(info["access_token"]),
        app_secret=SecretStr(info["app_secret"]), verify_token=SecretStr(info["verify_token"]),
    )


# -- the worker, in a process of its own --------------------------------------------------


def run_worker(url: str, data_dir: Path, info_file: Path, campaign_id: int, out: Path) -> None:
    """The real dispatcher on one campaign until it is done; writes its own figures."""
    import gc
    import resource

    from botschaft.channels.registry import Channels
    from botschaft.services.context import Context
    from botschaft.settings import Settings
    from botschaft.storage.database import Database
    from botschaft.storage.notifier import Notifier
    from botschaft.worker.db_stage import stage_for
    from botschaft.worker.dispatcher import Dispatcher

    info = json.loads(info_file.read_text())
    settings = Settings(
        data_dir=data_dir, database_url=url, whatsapp=fake_settings(info),
        dispatch={"whatsapp": {"per_second": 1_000_000, "concurrency": CONCURRENCY},
                  "database_process": os.environ.get("BENCH_IN_THREADS") != "1"},
    )
    ctx = Context(Database(url), settings, TickingClock(seed_subscribers.NOW))
    latencies = array("d")  # a million floats in 8 MB, not in 32

    def keep(results: list[Any]) -> None:
        latencies.extend(r.seconds for r in results if r.seconds)

    async def main() -> float:
        notifier = Notifier(ctx.db)
        channels = Channels.from_settings(settings, ctx.clock)
        stage = stage_for(ctx, channels, notifier)
        await stage.start()  # a worker starts its database process once, not per campaign
        started = time.perf_counter()
        try:
            await Dispatcher(ctx, channels, notifier=notifier, only=campaign_id,
                             on_results=keep, stage=stage).run()
        finally:
            await channels.close()
            notifier.close()
        return time.perf_counter() - started

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # as `botschaft worker` runs
    before = resource.getrusage(resource.RUSAGE_SELF)  # imports and setup are not sending
    seconds = asyncio.run(main())
    after = resource.getrusage(resource.RUSAGE_SELF)
    # The database process, if the dispatcher ran one: it has ended with the campaign.
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.with_suffix(".latencies").write_bytes(latencies.tobytes())
    out.write_text(json.dumps({
        "seconds": seconds,
        "peak_rss_mb": (after.ru_maxrss + child.ru_maxrss) / 1024,
        "cpu_seconds": _cpu_seconds(after) - _cpu_seconds(before) + _cpu_seconds(child),
        "database_process": settings.dispatch.database_process,
        "database_process_cpu_seconds": _cpu_seconds(child),
        "peak_rss_mb_each": [round(after.ru_maxrss / 1024), round(child.ru_maxrss / 1024)],
    }))
    ctx.close()


def _cpu_seconds(usage: Any) -> float:
    return float(usage.ru_utime + usage.ru_stime)


# -- the ceiling: a bare loop of aiohttp posts --------------------------------------------


async def ceiling(info: dict[str, str], posts: int, offset: int = 0) -> float:
    """Messages/s of plain aiohttp POSTs of a campaign-shaped body to the same fake."""
    url = f"{info['base_url']}/{info['api_version']}/{info['phone_number_id']}/messages"
    headers = {"Authorization": f"Bearer {info['access_token']}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        counter = iter(range(offset, offset + posts))

        async def loop() -> None:
            for n in counter:
                body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                        "to": f"{CEILING_PREFIX.removeprefix('+')}{n:08d}", "type": "template",
                        "template": {"name": "wochenangebot", "language": {"code": "de"},
                                     "components": [{"type": "body", "parameters": [
                                         {"type": "text", "text": f"Kundin {n}"}]}]}}
                async with session.post(url, json=body, headers=headers) as response:
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        return posts / (time.perf_counter() - started)


def run_ceiling(info_file: Path, posts: int, out: Path, offset: int) -> None:
    """The bare loop in a fresh process, garbage collected as the worker is, so that neither
    side pays for the benchmark's own seeding (millions of objects) in collections."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    info = json.loads(info_file.read_text())
    out.write_text(json.dumps(asyncio.run(ceiling(info, posts, offset))))


def _ceiling_process(folder: Path, info_file: Path, posts: int, name: str, offset: int
                     ) -> float:
    out = folder / f"{name}.json"
    subprocess.run([sys.executable, __file__, "--ceiling", str(info_file), str(posts),
                    str(out), str(offset)], check=True)
    return float(json.loads(out.read_text()))


# -- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes sharing the campaign (more than one: PostgreSQL)")
    parser.add_argument("--in-threads", action="store_true",
                        help="the dispatcher's database work in threads of the worker"
                             " (BOTSCHAFT_DISPATCH__DATABASE_PROCESS=false)")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--fake", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers > 1 and args.db != "postgres":
        parser.error("several workers share a campaign on PostgreSQL only (SKIP LOCKED)")
    if args.fake:
        serve_fake(Path(args.fake[0]), Path(args.fake[1]))
        return
    if args.ceiling:
        info, posts, out, offset = args.ceiling
        run_ceiling(Path(info), int(posts), Path(out), int(offset))
        return
    if args.worker:
        url, data_dir, info, campaign, out = args.worker
        run_worker(url, Path(data_dir), Path(info), int(campaign), Path(out))
        return
    if args.in_threads:
        os.environ["BENCH_IN_THREADS"] = "1"  # read by the worker processes
    with tempfile.TemporaryDirectory() as folder:
        url, drop = seed_subscribers._database(args.db, Path(folder))
        try:
            print(json.dumps(run(url, Path(folder), args.db, args.subscribers, args.workers)))
        finally:
            if drop is not None:
                drop()


def run(url: str, folder: Path, db: str, n: int, workers: int) -> dict[str, Any]:
    from sqlalchemy import text

    from botschaft.domain.channels import ChannelKind
    from botschaft.services.audiences import create_audience
    from botschaft.services.campaign_planning import plan_campaign
    from botschaft.services.campaigns import CampaignSpec, create_campaign
    from botschaft.services.context import Context
    from botschaft.settings import Settings
    from botschaft.storage.database import Database
    from botschaft.storage.migrate import upgrade

    settings = Settings(data_dir=folder / "data", database_url=url)
    ctx = Context(Database(url), settings, TickingClock(seed_subscribers.NOW))
    upgrade(ctx.db)
    seeded = seed_subscribers.seed(ctx, n)
    if not ctx.db.is_sqlite:
        with ctx.db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))
    audience = create_audience(ctx, "Everyone", {})
    campaign = create_campaign(ctx, CampaignSpec(
        name="Bench", channel=ChannelKind.WHATSAPP, audience_id=audience.id,
        content=seed_subscribers._TEMPLATE))
    # Planning alone (start_campaign's lint would refuse a fourth campaign this week, and
    # the seed made three); the campaign runs once the ceiling loop has run alone.
    planned = plan_campaign(ctx, campaign.id)

    info_file, stats_file = folder / "fake.json", folder / "fake-stats.json"
    fake = subprocess.Popen([*_profiled("BENCH_PROFILE_FAKE"), sys.executable, __file__,
                             "--fake", str(info_file), str(stats_file)])
    try:
        while not info_file.exists():
            time.sleep(0.05)
        posts = min(CEILING_POSTS, max(2000, n))
        ceiling_before = _ceiling_process(folder, info_file, posts, "ceiling-before", 0)
        _set_status(ctx, campaign.id, "running")
        outs = [folder / f"worker-{k}.json" for k in range(workers)]
        running = [
            subprocess.Popen([*_profiled("BENCH_PROFILE_WORKER", k), sys.executable, __file__,
                              "--worker", url, str(folder / "data"), str(info_file),
                              str(campaign.id), str(out)])
            for k, out in enumerate(outs)
        ]
        stops = _stop_some(ctx, campaign.id, seeded, n)
        if any([worker.wait() != 0 for worker in running]):  # wait for all of them
            raise SystemExit("a worker failed")
        # Once more after the campaign: the machine's speed drifts over minutes.
        ceiling_after = _ceiling_process(folder, info_file, posts, "ceiling-after", posts)
    finally:
        stats_file.with_suffix(".stop").touch()
        fake.wait()
    figures = [json.loads(out.read_text()) for out in outs]
    merged = array("d")
    for out in outs:
        merged.frombytes(out.with_suffix(".latencies").read_bytes())
    latencies = array("d", sorted(merged))
    recipients, times = json.loads(stats_file.read_text())
    received = list(zip(recipients, times, strict=True))
    checks = _checks(ctx, campaign.id, received, stops, n)
    ctx.close()
    send_seconds = max(f["seconds"] for f in figures)
    cpu_seconds = sum(f["cpu_seconds"] for f in figures)
    sent_per_second = checks["campaign_messages"] / send_seconds
    ceiling_per_second = (ceiling_before + ceiling_after) / 2
    return {
        "db": db, "subscribers": n, "seed_seconds": round(seeded.seconds, 1),
        "planning_seconds": round(planned.seconds, 2), "planned": planned.planned,
        "queued": planned.queued, "skipped_at_planning": planned.skipped,
        "workers": workers, "database_process": figures[0]["database_process"],
        "send_seconds": round(send_seconds, 1),
        "messages_per_second": round(sent_per_second),
        "messages_per_second_per_worker": round(sent_per_second / workers),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
        "worker_peak_rss_mb": round(max(f["peak_rss_mb"] for f in figures)),
        # The sending process and its database process, each at its peak.
        "worker_peak_rss_mb_each": figures[0]["peak_rss_mb_each"],
        # What one worker could send with a core to itself (the fake and the database
        # share the machine's two cores with it); CPU while sending, not while starting.
        "worker_cpu_seconds": round(cpu_seconds, 1),
        "database_process_cpu_seconds": round(
            sum(f["database_process_cpu_seconds"] for f in figures), 1),
        "messages_per_worker_cpu_second": round(checks["campaign_messages"] / cpu_seconds),
        "ceiling_per_second": round(ceiling_per_second),
        "ceiling_before_and_after": [round(ceiling_before), round(ceiling_after)],
        "share_of_ceiling": round(sent_per_second / ceiling_per_second, 2),
        **checks,
    }


def _profiled(variable: str, worker: int = 0) -> list[str]:
    """``py-spy record`` in front of a process when the variable names an output file
    (``.txt``: collapsed stacks, one line per stack; else a flame graph); only the first
    of several workers is profiled. ``BENCH_PROFILE_ARGS`` adds py-spy options, such as
    ``--gil`` to see only the thread that holds the interpreter."""
    target = os.environ.get(variable)
    if not target or worker:
        return []
    fmt = ["--format", "raw"] if target.endswith(".txt") else []
    extra = os.environ.get("BENCH_PROFILE_ARGS", "").split()
    return ["py-spy", "record", "--nonblocking", *fmt, *extra, "-o", target, "--"]


def _set_status(ctx: Any, campaign_id: int, status: str) -> None:
    from sqlalchemy import update

    from botschaft.storage.broadcast import Campaign

    with ctx.db.write() as session:
        session.execute(update(Campaign).where(Campaign.id == campaign_id)
                        .values(status=status))


def _stop_some(ctx: Any, campaign_id: int, seeded: Any, n: int) -> dict[str, float]:
    """STOP from a few consenting subscribers near the end of the queue, while it runs."""
    from botschaft.domain.channels import ChannelKind
    from botschaft.domain.consent import MARKETING, ConsentEventKind, ConsentSource
    from botschaft.services.consent import ConsentRecord, record_consent

    time.sleep(1.0)  # the worker has begun
    stops: dict[str, float] = {}
    for i in range(n - 1, -1, -1):
        if len(stops) >= STOPS:
            break
        if seed_subscribers.kind_of(i, 0.05, 0.03, 0.02) != "granted":
            continue
        stopped_at = time.time()
        record_consent(ctx, ConsentRecord(
            contact_id=seeded.first_contact_id + i, channel=ChannelKind.WHATSAPP,
            purpose=MARKETING, kind=ConsentEventKind.WITHDRAWN, source=ConsentSource.KEYWORD,
            evidence="STOP"))
        stops[f"49151{i:08d}"] = stopped_at
    return stops


def _checks(ctx: Any, campaign_id: int, received: list[tuple[str, float]],
            stops: dict[str, float], n: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from botschaft.storage.broadcast import Delivery

    campaign_only = [(to, at) for to, at in received
                     if not to.startswith(CEILING_PREFIX.removeprefix("+"))]
    per_person = Counter(to for to, _ in campaign_only)
    without_consent = 0
    for i in range(n):
        if seed_subscribers.kind_of(i, 0.05, 0.03, 0.02) in ("none", "withdrawn"):
            without_consent += per_person.get(f"49151{i:08d}", 0)
    after_stop = sum(1 for to, at in campaign_only if to in stops and at > stops[to])
    with ctx.db.read() as session:
        by_state = dict(session.execute(
            select(Delivery.state, func.count(Delivery.id))
            .where(Delivery.campaign_id == campaign_id).group_by(Delivery.state)).all())
    return {
        "campaign_messages": len(campaign_only),
        "duplicates": sum(count - 1 for count in per_person.values() if count > 1),
        "to_people_without_consent": without_consent,
        "after_stop": after_stop,
        "stopped_during_run": len(stops),
        "deliveries_by_state": by_state,
    }


if __name__ == "__main__":
    main()
