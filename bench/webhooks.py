"""Webhook intake benchmark: signed WhatsApp events into a running `botschaft serve`.

Starts `botschaft serve` (SQLite in a temporary folder, WhatsApp switched on) and, as the
ceiling, a bare endpoint under the same server settings; sends the same number of signed
events to both at a fixed concurrency with aiohttp, and prints one JSON line:

    uv run python bench/webhooks.py --events 20000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from botschaft.channels.meta import sign

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "109876543210"
# Two ceilings, each an endpoint that reads the body and answers 200 with a small JSON:
# the same stack Botschaft's webhook route runs in (a plain route inside a FastAPI app),
# and the leanest Python stack there is (a bare Starlette app), both under the same uvicorn.
BARE_APPS = """
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def ok(request):
    await request.body()
    return JSONResponse({"stored": 1, "duplicates": 0})

same_stack = FastAPI()
same_stack.add_route("/webhooks/whatsapp", ok, methods=["POST"])
minimal = Starlette(routes=[Route("/webhooks/whatsapp", ok, methods=["POST"])])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def event_body(n: int) -> bytes:
    """One inbound text, shaped and escaped as Meta sends it (non-ASCII as \\u escapes)."""
    number = f"49151{n % 10_000_000:08d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "4930123456",
                                 "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": f"Kundin Müller {n}"}, "wa_id": number}],
                    "messages": [{
                        "from": number,
                        "id": f"wamid.bench{n:012d}",
                        "timestamp": str(int(time.time())),
                        "type": "text",
                        "text": {"body": f"Grüße, Frage Nr. {n}"},
                    }],
                },
            }],
        }],
    }
    return json.dumps(payload).encode("ascii")


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                reason = process.stderr.read().decode() if process.stderr else "died"
                raise SystemExit(reason) from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


async def blast(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                body = queue.get_nowait()
                headers = {"Content-Type": "application/json",
                           "X-Hub-Signature-256": sign(APP_SECRET, body)}
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return elapsed, latencies, errors


def handled_events(db: sqlite3.Connection) -> int:
    return int(db.execute(
        "SELECT count(*) FROM inbound_events WHERE state = 'handled'"
    ).fetchone()[0])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(events: int, concurrency: int, warmup: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="botschaft-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTSCHAFT_")}
    env.update({
        "BOTSCHAFT_DATA_DIR": str(folder),
        "BOTSCHAFT_LOG_LEVEL": "WARNING",
        "BOTSCHAFT_WHATSAPP__ENABLED": "true",
        "BOTSCHAFT_WHATSAPP__PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "BOTSCHAFT_WHATSAPP__ACCESS_TOKEN": "bench-token",
        "BOTSCHAFT_WHATSAPP__APP_SECRET": APP_SECRET,
        "BOTSCHAFT_WHATSAPP__VERIFY_TOKEN": "bench-verify",
        # Nothing is sent in this benchmark; a closed local port keeps it off the network.
        "BOTSCHAFT_WHATSAPP__API_BASE": f"http://127.0.0.1:{free_port()}",
    })
    bodies = [event_body(n) for n in range(events + warmup)]
    app_port = free_port()
    (folder / "bare_apps.py").write_text(BARE_APPS, encoding="utf-8")

    app = start([sys.executable, "-m", "botschaft", "serve", "--port", str(app_port)],
                env, app_port)
    try:
        url = f"http://127.0.0.1:{app_port}/webhooks/whatsapp"
        asyncio.run(blast(url, bodies[:warmup], concurrency))
        with sqlite3.connect(folder / "botschaft.db") as db:
            handled_before = handled_events(db)
        elapsed, latencies, errors = asyncio.run(blast(url, bodies[warmup:], concurrency))
        burst_end = time.perf_counter()
        with sqlite3.connect(folder / "botschaft.db") as db:
            stored = db.execute("SELECT count(*) FROM inbound_events").fetchone()[0] - warmup
            handled_during = handled_events(db) - handled_before
            # The lane may lag during a burst; it must catch up soon after.
            while handled_events(db) < stored + warmup and time.perf_counter() - burst_end < 300:
                time.sleep(0.1)
            caught_up = time.perf_counter() - burst_end
            handled = handled_events(db) - warmup
    finally:
        app.terminate()
        app.wait(30)

    ceilings = {
        name: measure_bare(folder, f"bare_apps:{name}", env, bodies, warmup, concurrency)
        for name in ("same_stack", "minimal")
    }

    rate = events / elapsed
    return {
        "benchmark": "webhooks",
        "database": "sqlite",
        "events": events,
        "concurrency": concurrency,
        "events_per_s": round(rate, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "errors": errors,
        "stored": stored,
        "handled_during_burst": handled_during,
        "handled": handled,
        "handling_caught_up_s": round(caught_up, 2),
        "bare_same_stack_events_per_s": ceilings["same_stack"][0],
        "bare_same_stack_p99_ms": ceilings["same_stack"][1],
        "share_of_bare_same_stack": round(rate / ceilings["same_stack"][0], 3),
        "bare_minimal_events_per_s": ceilings["minimal"][0],
        "bare_minimal_p99_ms": ceilings["minimal"][1],
        "share_of_bare_minimal": round(rate / ceilings["minimal"][0], 3),
    }


def measure_bare(
    folder: Path, target: str, env: dict[str, str], bodies: list[bytes], warmup: int,
    concurrency: int,
) -> tuple[float, float]:
    """Events/s and p99 ms of a bare endpoint, same client, same server settings."""
    port = free_port()
    server = start([sys.executable, "-m", "uvicorn", "--app-dir", str(folder), target,
                    "--port", str(port), "--log-level", "warning", "--no-access-log"],
                   env, port)
    try:
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        asyncio.run(blast(url, bodies[:warmup], concurrency))
        elapsed, latencies, _ = asyncio.run(blast(url, bodies[warmup:], concurrency))
    finally:
        server.terminate()
        server.wait(30)
    return round(len(latencies) / elapsed, 1), round(percentile(latencies, 0.99) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.concurrency, args.warmup)))


if __name__ == "__main__":
    main()
