"""How many streamed chats one uvicorn worker sustains (``make bench-streams``).

The console runs in one uvicorn worker (its own process, SQLite), the fake provider in
another, answering with 64 chunks 20 ms apart. A load client opens N chat streams at once
through the chat playground's SSE endpoint and measures, per stream, the largest gap between
two consecutive token events. A stream "stalls" when a gap exceeds 10x the pacing (200 ms)
or it does not finish. N goes up while no stream stalls; the report gives each level.
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHUNKS, PACING_MS = 64, 20
MODEL = f"paced-{CHUNKS}x{PACING_MS}"
STALL_FACTOR = 10

SETUP = """
from django.contrib.auth.models import User
from aiadmin.providers.models import AIProvider, AIModel
User.objects.create_superuser("bench", "bench@example.com", "bench-pass-123456")
p = AIProvider.objects.create(slug="fake", name="Fake", adapter="openai", api_base_url="{url}",
    capabilities={{"chat": {{"supported": True, "dynamic_models": True}}}},
    config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}}, shared_api_key="test-key")
AIModel.objects.create(provider=p, capability="chat", model_id="{model}", is_active=True)
"""


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


def start(tmp: Path) -> tuple[list[subprocess.Popen], str]:
    fake_port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeprovider.server", "--port", str(fake_port), "--no-record"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # Production settings (DEBUG off, as a server under load runs), plain HTTP on loopback.
    env.update(
        DJANGO_SETTINGS_MODULE="aiadmin.settings.production",
        DJANGO_SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        AIADMIN_ENCRYPTION_KEYS="q1pk9nO1hM3wN9gC2i2oUe1n8yI4Y5lqR8m8tFfH0eU=",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
    setup = SETUP.format(url=f"http://127.0.0.1:{fake_port}/openai/v1", model=MODEL)
    subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    console = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "aiadmin.asgi:application", "--port", str(port), "--workers", "1",
         "--log-level", "warning", "--backlog", "4096", "--no-access-log"],
        cwd=ROOT, env={**env, "AIADMIN_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"http://127.0.0.1:{fake_port}/openai/v1/models", fake)
    wait_for(f"{base}/admin/login/", console)
    return [console, fake], base


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


async def one_stream(port: int, cookie: str, csrf: str) -> tuple[bool, float, float | None]:
    """(finished, largest gap between token events in seconds, time to first token)."""
    body = json.dumps({"message": "Stream, please.", "model": f"fake::{MODEL}"}).encode()
    request = (
        f"POST /admin/console/playground/chat/stream/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={cookie}; csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n"
        f"Referer: http://127.0.0.1:{port}/admin/console/playground/chat/\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(request)
    await writer.drain()
    last = first = None
    largest_gap = 0.0
    finished = False
    buffer = b""
    try:
        while chunk := await reader.read(65536):
            now = time.perf_counter()
            buffer += chunk
            tokens = buffer.count(b"event: token")
            if tokens:
                if first is None:
                    first = now - started
                if last is not None:
                    largest_gap = max(largest_gap, now - last)
                last = now
            if b"event: done" in buffer:
                finished = True
            buffer = buffer[buffer.rfind(b"\n\n") + 2 :] if b"\n\n" in buffer else buffer
    finally:
        writer.close()
    return finished, largest_gap, first


async def level(port: int, cookie: str, csrf: str, concurrency: int) -> dict:
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(port, cookie, csrf) for _ in range(concurrency)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    ok = [r for r in results if not isinstance(r, BaseException)]
    limit = STALL_FACTOR * PACING_MS / 1000
    stalled = sum(1 for finished, gap, _ in ok if not finished or gap > limit) + (len(results) - len(ok))
    gaps = sorted(gap for _, gap, _ in ok)
    firsts = sorted(first for _, _, first in ok if first is not None)
    return {
        "streams": concurrency,
        "stalled": stalled,
        "max_gap_ms": gaps[-1] * 1000 if gaps else None,
        "p95_gap_ms": gaps[int(0.95 * (len(gaps) - 1))] * 1000 if gaps else None,
        "p50_first_token_ms": firsts[len(firsts) // 2] * 1000 if firsts else None,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="50,100,200,400,700,1000,1300")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        processes, base = start(Path(tmp))
        try:
            cookie, csrf = login(base)
            port = int(base.rsplit(":", 1)[1])
            if os.environ.get("BENCH_PAUSE"):
                print("console pid", processes[0].pid, flush=True)
                time.sleep(float(os.environ["BENCH_PAUSE"]))
            rows = []
            for concurrency in (int(n) for n in args.levels.split(",")):
                row = asyncio.run(level(port, cookie, csrf, concurrency))
                rows.append(row)
                print(json.dumps(row), flush=True)
                if row["stalled"]:
                    break
                time.sleep(1)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
    sustained = max((row["streams"] for row in rows if not row["stalled"]), default=0)
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"One uvicorn worker, SQLite, fake provider in its own process, {CHUNKS} chunks {PACING_MS} ms apart, "
        f"stall = a gap over {STALL_FACTOR * PACING_MS} ms or an unfinished stream.\n"
        "| concurrent streams | stalled | largest gap ms | p95 gap ms | p50 first token ms | wall s |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for row in rows:
        print(
            f"| {row['streams']} | {row['stalled']} | {row['max_gap_ms'] or 0:.0f} | {row['p95_gap_ms'] or 0:.0f} | "
            f"{row['p50_first_token_ms'] or 0:.0f} | {row['seconds']:.1f} |"
        )
    print(f"\nSustained without a stall: {sustained} concurrent streams.")


if __name__ == "__main__":
    main()
