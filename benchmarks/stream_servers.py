"""The servers of ``make bench-streams``: the fake provider and the targets, each its own process.

Every target streams the fake provider's ``paced-64x20`` model (64 chunks 20 ms apart):

* ``console``: the standalone project under uvicorn, the chat playground's SSE endpoint
  (session cookie and CSRF token);
* ``api``: the same project, the HTTP API's ``POST /v1/chat/completions`` with ``"stream":
  true`` and an API token from ``manage.py create_api_token``;
* ``litellm``: LiteLLM's proxy CLI (one worker, no database, a master key);
* ``floor``: ``benchmarks/aiohttp_floor.py``, aiohttp server and client alone;
* ``bare``: ``benchmarks/bare_proxy.py``, uvicorn and httpx alone (console-shaped events).

Every child gets ``PR_SET_PDEATHSIG``: if the benchmark dies, however it dies, they die too.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.gateway import (
    BenchmarkError,
    Server,
    aiadmin_env,
    base_env,
    free_port,
    litellm_launch,
    manage,
    process_tree,
    wait_for_port,
    wait_until_serving,
)

ROOT = Path(__file__).resolve().parent.parent
CHUNKS, PACING_MS = 64, 20
MODEL = f"paced-{CHUNKS}x{PACING_MS}"
PROVIDER_SLUG = "fake"
UPSTREAM_KEY = "test-key"
BENCH_USER, BENCH_PASSWORD = "bench", "bench-pass-123456"
LITELLM_MASTER_KEY = "sk-streams-benchmark-master-key"
CONSOLE_PATH = "/admin/console/playground/chat/stream/"
PROMPT = "Stream, please."

SETUP = """
from django.contrib.auth import get_user_model
from aiadmin.providers.models import AIModel, AIProvider
User = get_user_model()
AIProvider.objects.filter(slug={slug!r}).delete()
User.objects.filter(username={user!r}).delete()
User.objects.create_superuser({user!r}, "bench@example.com", {password!r})
provider = AIProvider.objects.create(
    slug={slug!r}, name="Fake", adapter="openai", api_base_url={url!r},
    capabilities={{"chat": {{"supported": True, "dynamic_models": True}}}},
    config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}}, shared_api_key={key!r},
)
AIModel.objects.create(provider=provider, capability="chat", model_id={model!r}, is_active=True)
"""

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def child_setup(cores: set[int] | None):
    """A preexec_fn: die with the benchmark, and run on ``cores`` (before any thread starts)."""

    def setup() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if cores is not None:
            os.sched_setaffinity(0, cores)

    return setup


# Every server started, as soon as it is started: stop_all(SPAWNED) ends them all, even one
# that failed to start.
SPAWNED: list[Server] = []


def spawn(name: str, command: list[str], *, env: dict[str, str], logs: Path, cores: set[int] | None,
          base_url: str) -> Server:
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            preexec_fn=child_setup(cores),
        )
    server = Server(name, process, log, base_url)
    SPAWNED.append(server)
    return server


def stop_all(servers: list[Server]) -> None:
    """SIGTERM to every server, then SIGKILL to whatever of their process trees is left."""
    trees = {server.name: process_tree(server.process.pid) for server in servers}
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for server in servers:
        try:
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for server in servers:
        for pid in trees[server.name]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if server.process.poll() is None:
            server.process.wait(timeout=5)


def uvicorn_command(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log", "--backlog", "4096",
    ]


@dataclass
class Target:
    """One server under test and the request that opens one stream on it."""

    name: str
    label: str
    shape: str  # "console" or "openai" (see stream_client)
    port: int
    request: bytes
    server: Server
    workers: int = 1


def _post(port: int, path: str, body: dict, headers: dict[str, str]) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
             f"Content-Length: {len(payload)}", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def _openai_body(model: str) -> dict:
    return {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}


def start_fake(logs: Path, cores: set[int] | None) -> Server:
    port = free_port()
    server = spawn(
        "fake-provider", [sys.executable, "-m", "tests.fakeprovider.server", "--port", str(port), "--no-record"],
        env=base_env(), logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}/openai/v1",
    )
    server.headers = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
    wait_until_serving(server, "/models")
    return server


class AIAdmin:
    """The standalone project's database, set up once; any number of uvicorn servers on it."""

    def __init__(self, upstream: str, tmp: Path, logs: Path, redis_url: str | None) -> None:
        self.env = aiadmin_env(tmp)
        self.env.pop("REDIS_URL", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.logs = logs
        manage(self.env, "migrate", "-v", "0")
        manage(self.env, "collectstatic", "--noinput", "-v", "0")
        manage(self.env, "shell", "-c", SETUP.format(slug=PROVIDER_SLUG, user=BENCH_USER, password=BENCH_PASSWORD,
                                                    url=upstream, key=UPSTREAM_KEY, model=MODEL))
        output = manage(self.env, "create_api_token", "--user", BENCH_USER, "--name", "bench").strip()
        self.token = output.splitlines()[-1].strip() if output else ""
        if not self.token or " " in self.token:
            raise BenchmarkError("manage.py create_api_token did not print a token on its last line.")

    def serve(self, name: str, workers: int, cores: set[int] | None) -> tuple[Server, int]:
        port = free_port()
        server = spawn(name, uvicorn_command("standalone.asgi:application", port, workers), env=self.env,
                       logs=self.logs, cores=cores, base_url=f"http://127.0.0.1:{port}")
        return server, port

    def console(self, name: str, label: str, workers: int, cores: set[int] | None) -> Target:
        server, port = self.serve(name, workers, cores)
        wait_until_serving(server, "/admin/login/")
        cookie, csrf = login(server.base_url)
        headers = {"Cookie": f"sessionid={cookie}; csrftoken={csrf}", "X-CSRFToken": csrf,
                   "Referer": f"{server.base_url}/admin/console/playground/chat/"}
        request = _post(port, CONSOLE_PATH, {"message": PROMPT, "model": f"{PROVIDER_SLUG}::{MODEL}"}, headers)
        return Target(name, label, "console", port, request, server, workers)

    def api(self, name: str, label: str, workers: int, cores: set[int] | None) -> Target:
        server, port = self.serve(name, workers, cores)
        server.headers = {"Authorization": f"Bearer {self.token}"}
        wait_until_serving(server, "/v1/models")
        request = _post(port, "/v1/chat/completions", _openai_body(f"{PROVIDER_SLUG}/{MODEL}"), server.headers)
        return Target(name, label, "openai", port, request, server, workers)


def login(base: str) -> tuple[str, str]:
    """A session for the bench user. Cookies go by hand: production settings mark them Secure
    and this is plain HTTP on loopback."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        token = client.get("/admin/login/").cookies["csrftoken"]
        response = client.post(
            "/admin/login/",
            data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/", "Cookie": f"csrftoken={token}"},
        )
        if "sessionid" not in response.cookies:
            raise BenchmarkError(f"Logging in to the console failed (HTTP {response.status_code}).")
        return response.cookies["sessionid"], token


def start_litellm(upstream: str, tmp: Path, logs: Path, cores: set[int] | None) -> Target:
    port = free_port()
    command, env = litellm_launch(upstream=upstream, model=MODEL, master_key=LITELLM_MASTER_KEY, tmp=tmp, port=port)
    server = spawn("litellm", command, env=env, logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}")
    server.headers = {"Authorization": f"Bearer {LITELLM_MASTER_KEY}"}
    wait_until_serving(server, "/v1/models")
    request = _post(port, "/v1/chat/completions", _openai_body(MODEL), server.headers)
    return Target("litellm", "LiteLLM proxy (one worker)", "openai", port, request, server)


def start_floor(upstream: str, logs: Path, cores: set[int] | None) -> Target:
    port = free_port()
    env = base_env() | {"FLOOR_UPSTREAM": upstream, "FLOOR_UPSTREAM_KEY": UPSTREAM_KEY}
    server = spawn("floor", [sys.executable, "-m", "benchmarks.aiohttp_floor", "--port", str(port)], env=env,
                   logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}")
    wait_for_port(server)
    request = _post(port, "/v1/chat/completions", _openai_body(MODEL), {})
    return Target("floor", "floor: aiohttp server + client", "openai", port, request, server)


def start_bare(upstream: str, logs: Path, cores: set[int] | None) -> Target:
    port = free_port()
    env = base_env() | {"BARE_UPSTREAM": upstream, "BARE_MODEL": MODEL}
    server = spawn("bare", uvicorn_command("benchmarks.bare_proxy:app", port, 1), env=env, logs=logs, cores=cores,
                   base_url=f"http://127.0.0.1:{port}")
    wait_for_port(server)
    request = _post(port, "/", {}, {})
    return Target("bare", "bare: uvicorn + httpx", "console", port, request, server)
