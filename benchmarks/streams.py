"""How many streamed chats one uvicorn worker sustains (``make bench-streams``).

The console runs in one uvicorn worker (its own process, SQLite), the fake provider in
another, answering with 64 chunks 20 ms apart. A load client opens N chat streams at once
through the chat playground's SSE endpoint and measures, per stream, the largest gap between
two consecutive token events. A stream "stalls" when a gap exceeds 10x the pacing (200 ms)
or it does not finish. Each level runs ``--repeat`` times (default 2) and is sustained only if
no run stalls; N goes up until a level is not sustained. The report gives every run.

On a machine with two or more cores the worker is pinned to core 0 and the fake provider and
the load client to core 1, so the worker is measured on a core of its own. ``--target bare``
runs the same walk against ``benchmarks/bare_proxy.py`` (uvicorn and httpx alone): the floor
of the stack, to read the console's figures against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop

ROOT = Path(__file__).resolve().parent.parent
CHUNKS, PACING_MS = 64, 20
MODEL = f"paced-{CHUNKS}x{PACING_MS}"
STALL_FACTOR = 10
STREAM_PATH = "/admin/console/playground/chat/stream/"

SETUP = """
from django.contrib.auth.models import User
from aiadmin.providers.models import AIProvider, AIModel
User.objects.create_superuser("bench", "bench@example.com", "bench-pass-123456")
p = AIProvider.objects.create(slug="fake", name="Fake", adapter="openai", api_base_url="{url}",
    capabilities={{"chat": {{"supported": True, "dynamic_models": True}}}},
    config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}}, shared_api_key="test-key")
AIModel.objects.create(provider=p, capability="chat", model_id="{model}", is_active=True)
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, all its threads, so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(cores: set[int] | None):
    """A preexec_fn that pins the child to ``cores`` (before it starts any thread)."""
    return None if cores is None else (lambda: os.sched_setaffinity(0, cores))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"{url} did not start")
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start in time")


def start(tmp: Path, *, target: str, pin: bool) -> tuple[list[subprocess.Popen], str]:
    worker_core, other_core = ({0}, {1}) if pin else (None, None)
    fake_port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeprovider.server", "--port", str(fake_port), "--no-record"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pinned(other_core),
    )
    upstream = f"http://127.0.0.1:{fake_port}/openai/v1"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # Production settings (DEBUG off, as a server under load runs), plain HTTP on loopback.
    env.update(
        DJANGO_SETTINGS_MODULE="standalone.settings.production",
        DJANGO_SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        AIADMIN_ENCRYPTION_KEYS="q1pk9nO1hM3wN9gC2i2oUe1n8yI4Y5lqR8m8tFfH0eU=",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        AIADMIN_LOG_LEVEL="WARNING",
        BARE_UPSTREAM=upstream,
        BARE_MODEL=MODEL,
    )
    if target == "console":
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
        setup = SETUP.format(url=upstream, model=MODEL)
        subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True)
    app = "standalone.asgi:application" if target == "console" else "benchmarks.bare_proxy:app"
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", "1",
         "--log-level", "warning", "--backlog", "4096", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pinned(worker_core),
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{upstream}/models", fake)
    wait_for(f"{base}/admin/login/", worker)
    return [worker, fake], base


def login(base: str) -> tuple[str, str]:
    # Cookies are passed by hand: production settings mark them Secure and this is plain HTTP.
    with httpx.Client(base_url=base) as client:
        token = client.get("/admin/login/").cookies["csrftoken"]
        response = client.post(
            "/admin/login/",
            data={"username": "bench", "password": "bench-pass-123456", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/", "Cookie": f"csrftoken={token}"},
        )
        return response.cookies["sessionid"], token


@dataclass
class StreamRecord:
    started: float
    first_token: float | None = None
    last_token: float | None = None
    largest_gap: float = 0.0
    finished: bool = False
    ended: float | None = None


class StreamClient(asyncio.Protocol):
    """One chat stream, read as raw bytes: a token event's arrival time is when the chunk
    holding it arrives (the client does no parsing beyond finding the event names)."""

    MARKER, DONE = b"event: token", b"event: done"

    def __init__(self, request: bytes, record: StreamRecord, closed: asyncio.Future) -> None:
        self.request, self.record, self.closed = request, record, closed
        self.tail = b""

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        window = self.tail + data  # an event name may be split across two chunks
        record = self.record
        if self.MARKER in window:
            if record.first_token is None:
                record.first_token = now
            elif record.last_token is not None:
                record.largest_gap = max(record.largest_gap, now - record.last_token)
            record.last_token = now
        if self.DONE in window:
            record.finished = True
        self.tail = window[-len(self.MARKER) :]

    def connection_lost(self, exc) -> None:
        self.record.ended = time.perf_counter()
        if not self.closed.done():
            self.closed.set_result(None)


async def one_stream(port: int, request: bytes) -> StreamRecord:
    loop = asyncio.get_running_loop()
    record = StreamRecord(started=time.perf_counter())
    closed = loop.create_future()
    await loop.create_connection(lambda: StreamClient(request, record, closed), "127.0.0.1", port)
    await closed
    return record


def peak_overlap(records: list[StreamRecord]) -> int:
    """The most streams that were between their first token and their end at one moment."""
    edges = sorted(
        [(r.first_token, 1) for r in records if r.first_token and r.ended]
        + [(r.ended, -1) for r in records if r.first_token and r.ended]
    )
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


async def level(port: int, cookie: str, csrf: str, concurrency: int) -> dict:
    body = json.dumps({"message": "Stream, please.", "model": f"fake::{MODEL}"}).encode()
    request = (
        f"POST {STREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={cookie}; csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n"
        f"Referer: http://127.0.0.1:{port}/admin/console/playground/chat/\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(port, request) for _ in range(concurrency)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    records = [r for r in results if isinstance(r, StreamRecord)]
    limit = STALL_FACTOR * PACING_MS / 1000
    stalled = sum(1 for r in records if not r.finished or r.largest_gap > limit) + (len(results) - len(records))
    gaps = sorted(r.largest_gap for r in records)
    firsts = sorted(r.first_token - r.started for r in records if r.first_token)
    lengths = sorted(r.last_token - r.first_token for r in records if r.first_token and r.last_token)
    return {
        "streams": concurrency,
        "stalled": stalled,
        "peak_open": peak_overlap(records),
        "max_gap_ms": gaps[-1] * 1000 if gaps else None,
        "p95_gap_ms": gaps[int(0.95 * (len(gaps) - 1))] * 1000 if gaps else None,
        "p50_first_token_ms": firsts[len(firsts) // 2] * 1000 if firsts else None,
        "p50_stream_s": lengths[len(lengths) // 2] if lengths else None,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="50,100,150,200,300,400,600,800,1000,1300")
    parser.add_argument("--target", choices=("console", "bare"), default="console")
    parser.add_argument("--no-pin", action="store_true", help="let the three processes share every core")
    parser.add_argument("--repeat", type=int, default=2, help="runs per level; every one must be stall-free")
    parser.add_argument("--keep-going", action="store_true", help="run every level even after a stall")
    args = parser.parse_args()
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    if pin:
        os.sched_setaffinity(0, {1})
    with tempfile.TemporaryDirectory() as tmp:
        processes, base = start(Path(tmp), target=args.target, pin=pin)
        try:
            cookie, csrf = login(base) if args.target == "console" else ("-", "-")
            port = int(base.rsplit(":", 1)[1])
            rows = []
            for concurrency in (int(n) for n in args.levels.split(",")):
                stalled = False
                for _ in range(args.repeat):
                    before = [cpu_seconds(process.pid) for process in processes]
                    client_before = cpu_seconds(os.getpid())
                    row = uvloop.run(level(port, cookie, csrf, concurrency))
                    after = [cpu_seconds(process.pid) for process in processes]
                    row["worker_cpu_s"], row["fake_cpu_s"] = (b - a for a, b in zip(before, after))
                    row["client_cpu_s"] = cpu_seconds(os.getpid()) - client_before
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    stalled = stalled or bool(row["stalled"])
                    time.sleep(1)
                if stalled and not args.keep_going:
                    break
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
    # The highest level that every run of it, and of every level below it, held.
    first_failure = min((row["streams"] for row in rows if row["stalled"]), default=None)
    sustained = max((row["streams"] for row in rows if first_failure is None or row["streams"] < first_failure), default=0)
    where = "worker pinned to core 0, fake provider and client to core 1" if pin else "all processes share the cores"
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Target: {args.target}, one uvicorn worker ({where}), {CHUNKS} chunks {PACING_MS} ms apart, "
        f"stall = a gap over {STALL_FACTOR * PACING_MS} ms or an unfinished stream.\n"
        "| concurrent streams | stalled | peak open | largest gap ms | p95 gap ms | p50 first token ms "
        "| p50 stream s | worker CPU ms per stream |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for row in rows:
        print(
            f"| {row['streams']} | {row['stalled']} | {row['peak_open']} | {row['max_gap_ms'] or 0:.0f} "
            f"| {row['p95_gap_ms'] or 0:.0f} | {row['p50_first_token_ms'] or 0:.0f} | {row['p50_stream_s'] or 0:.2f} "
            f"| {row['worker_cpu_s'] * 1000 / row['streams']:.1f} |"
        )
    print(f"\nSustained without a stall in {args.repeat} run(s) out of {args.repeat}: {sustained} concurrent streams.")


if __name__ == "__main__":
    main()
