"""Shutdown loses nothing that can be kept: a real uvicorn (the run command's server) with 20
chat streams in flight gets SIGTERM with a 1 s graceful timeout; every stream it cuts writes
its ledger row as cancelled. And a configuration that fails the startup checks is refused."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.fakeprovider.server import FakeProviderServer
from tests.test_asgi_server import free_port

ROOT = Path(__file__).resolve().parents[1]
STREAMS = 20
MODEL = "paced-400x50"  # 20 s of tokens: still streaming when the signal comes
STREAM_PATH = "/admin/console/playground/chat/stream/"

SETUP = """
from django.contrib.auth.models import User
from aiadmin.providers.models import AIProvider, AIModel
User.objects.create_superuser("root", "root@example.com", "pw-root-123456")
p = AIProvider.objects.create(slug="fake", name="Fake", adapter="openai", api_base_url="{url}",
    capabilities={{"chat": {{"supported": True, "dynamic_models": True}}}},
    config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}}, shared_api_key="test-key")
AIModel.objects.create(provider=p, capability="chat", model_id="{model}", is_active=True)
"""


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="standalone.settings.dev",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        **extra,
    )
    return env


def start_uvicorn(env: dict[str, str], port: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "standalone.asgi:application", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"uvicorn exited: {server.stdout.read()}")
        try:
            httpx.get(f"{base}/admin/login/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("uvicorn did not start")


def login(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        token = client.get("/admin/login/").cookies["csrftoken"]
        client.post(
            "/admin/login/",
            data={"username": "root", "password": "pw-root-123456", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/"},
        )
        return client.cookies


async def open_streams(base: str, cookies: httpx.Cookies, started: threading.Semaphore) -> list[str]:
    """Open the streams; each releases ``started`` at its first token and reads until the
    server ends it. Returns how each ended."""
    body = json.dumps({"message": "Stream, please.", "model": f"fake::{MODEL}"})
    headers = {
        "X-CSRFToken": cookies["csrftoken"],
        "Referer": f"{base}/admin/console/playground/chat/",
        "Content-Type": "application/json",
    }

    async def one(client: httpx.AsyncClient) -> str:
        first = True
        try:
            async with client.stream("POST", STREAM_PATH, content=body, headers=headers) as response:
                async for line in response.aiter_lines():
                    if line.startswith("event: token") and first:
                        first = False
                        started.release()
                    if line.startswith("event: done"):
                        return "finished"
        except httpx.HTTPError as err:
            return type(err).__name__
        return "cut"

    limits = httpx.Limits(max_connections=STREAMS + 5)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(one(client) for _ in range(STREAMS)))


def ledger_rows(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT status FROM aiadmin_providers_airequestlog")]


def test_sigterm_with_twenty_streams_in_flight_writes_twenty_cancelled_rows(tmp_path):
    env = server_env(tmp_path)
    with FakeProviderServer() as fake:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        setup = SETUP.format(url=fake.openai_base_url, model=MODEL)
        subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True)
        port = free_port()
        server = start_uvicorn(env, port, "--timeout-graceful-shutdown", "1")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base, server)
            cookies = login(base)
            started = threading.Semaphore(0)
            outcomes: list[str] = []
            client = threading.Thread(target=lambda: outcomes.extend(asyncio.run(open_streams(base, cookies, started))))
            client.start()
            for _ in range(STREAMS):
                assert started.acquire(timeout=30), "a stream never started"
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            stopped_after = time.monotonic() - signalled
            client.join(timeout=30)
            log = server.stdout.read()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(timeout=10)
    assert "finished" not in outcomes and len(outcomes) == STREAMS
    rows = ledger_rows(tmp_path / "db.sqlite3")
    print(f"{len(rows)} ledger rows after SIGTERM with {STREAMS} streams in flight; stopped in {stopped_after:.2f} s")
    assert rows == ["cancelled"] * STREAMS, log
    assert stopped_after < 10


def test_a_configuration_that_fails_the_startup_checks_is_refused_with_the_reason(tmp_path):
    env = server_env(tmp_path, AIADMIN_ENCRYPTION_KEYS="not-a-fernet-key")
    server = start_uvicorn(env, free_port())
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    assert server.returncode != 0
    assert "aiadmin did not start" in output and 'AIADMIN["ENCRYPTION_KEYS"]' in output
