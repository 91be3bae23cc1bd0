"""Benchmark: what the HTTP API gateway (``/v1/``) adds over a direct call, beside LiteLLM's proxy.

One run, one upstream: the fake provider in its own process with a fixed latency. Each target
is a server in its own process with one worker:

* ``direct``: the fake provider's OpenAI API itself (the baseline);
* ``floor``: ``benchmarks/gateway_floor.py``, a bare uvicorn + httpx pass-through (the price of
  one more HTTP hop in Python, for reading the others against);
* ``aiadmin``: the standalone project under uvicorn (``standalone.asgi``), ``POST
  /v1/chat/completions`` with an API token made by ``manage.py create_api_token``;
* ``litellm``: LiteLLM's proxy (``litellm --config ... --num_workers 1``), one model routed to
  the same upstream, no database.

The client (this process) makes one call at a time over keep-alive connections, target by
target in turn (who goes first rotates every round), so latency is not queueing and machine
drift hits every target alike; after each call it waits, untimed, until that server and the
upstream are idle, so work deferred past an answer is not charged to the next target on the
same core (it still counts in the server's CPU per call). Every answer is checked (status 200, the fake's text, a
finished stream); a target that errs stops the run with its error.

Added latency = a target's percentile minus the direct call's same percentile (p50 - p50,
p95 - p95); the paired median (median over rounds of target minus the direct call of the same
round) is given too. Run it with ``make bench`` (installs LiteLLM's proxy into .venv for the
benchmark only). Nothing here contacts anything but loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UPSTREAM_KEY = "test-key"
UPSTREAM_MODEL = "bench-model"
PROVIDER_SLUG = "bench-fake"
GATEWAY_MODEL = f"{PROVIDER_SLUG}/{UPSTREAM_MODEL}"
BENCH_USER = "benchmark"
LITELLM_MASTER_KEY = "sk-gateway-benchmark-master-key"
PROMPT = "Say hello in five words."
# Production settings (DEBUG off, as a server under load runs), plain HTTP on loopback.
AIADMIN_SETTINGS = "standalone.settings.production"
STARTUP_SECONDS = 90

SETUP = """
from django.contrib.auth import get_user_model
from aiadmin.providers.models import AIModel, AIProvider
get_user_model().objects.create_superuser({user!r}, "benchmark@example.com", "benchmark-pass-0123456789")
provider = AIProvider.objects.create(
    slug={slug!r}, name="Benchmark fake", adapter="openai", api_base_url={url!r},
    capabilities={{"chat": {{"supported": True, "dynamic_models": True}}}},
    config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}}, shared_api_key={key!r},
)
AIModel.objects.create(provider=provider, capability="chat", model_id={model!r}, is_active=True)
"""

LITELLM_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {url}
      api_key: {key}
litellm_settings:
  telemetry: false
general_settings:
  master_key: {master_key}
"""


class BenchmarkError(SystemExit):
    """A target failed: the run stops and says which and why."""


# ---------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile on the sorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def paired_median(target: list[float], direct: list[float]) -> float:
    return statistics.median(t - d for t, d in zip(target, direct, strict=True))


# ---------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cores: set[int] | None):
    """A preexec_fn that pins the child (and whatever it starts) to ``cores``."""
    return None if cores is None else (lambda: os.sched_setaffinity(0, cores))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, all threads (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    # py-spy writes its profile when interrupted (and then stops the server it runs).
    stop_signal: int = signal.SIGTERM

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    # Loopback only: never through a proxy, never to the internet.
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    return env


def spawn(name: str, command: list[str], *, env: dict[str, str], logs: Path, cores: set[int] | None,
          base_url: str) -> Server:
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            preexec_fn=pinned(cores),
        )
    return Server(name, process, log, base_url)


def wait_until_serving(server: Server, path: str, *, expect: int = 200) -> None:
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"{server.name} exited while starting (code {server.process.returncode}):\n{server.tail()}")
        try:
            response = httpx.get(f"{server.base_url}{path}", headers=server.headers, timeout=2)
            if response.status_code == expect:
                return
            last = f"HTTP {response.status_code}: {response.text[:300]}"
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.25)
    raise BenchmarkError(f"{server.name} did not start in {STARTUP_SECONDS} s ({last}):\n{server.tail()}")


def uvicorn_command(app: str, port: int, *extra: str) -> list[str]:
    # uvloop and httptools, as the standalone extra installs them; no access log (a server
    # under load runs without one, and LiteLLM's is off too: LITELLM_LOG=ERROR).
    return [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log", *extra,
    ]


def start_fake(latency_ms: int, logs: Path, cores: set[int] | None) -> Server:
    port = free_port()
    server = spawn(
        "fake provider",
        [sys.executable, "-m", "tests.fakeprovider.server", "--port", str(port), "--latency-ms", str(latency_ms),
         "--no-record"],
        env=base_env(), logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}/openai/v1",
    )
    server.headers = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
    wait_until_serving(server, "/models")
    return server


def start_floor(upstream: str, logs: Path, cores: set[int] | None) -> Server:
    port = free_port()
    env = base_env() | {"FLOOR_UPSTREAM": upstream, "FLOOR_UPSTREAM_KEY": UPSTREAM_KEY}
    server = spawn("floor", uvicorn_command("benchmarks.gateway_floor:app", port), env=env, logs=logs,
                   cores=cores, base_url=f"http://127.0.0.1:{port}/v1")
    return server


def aiadmin_env(tmp: Path) -> dict[str, str]:
    env = base_env()
    env.update(
        DJANGO_SETTINGS_MODULE=AIADMIN_SETTINGS,
        DJANGO_SECRET_KEY="gateway-benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        AIADMIN_ENCRYPTION_KEYS="q1pk9nO1hM3wN9gC2i2oUe1n8yI4Y5lqR8m8tFfH0eU=",
        AIADMIN_LOG_LEVEL="WARNING",
    )
    # A throwaway SQLite database unless the caller names a real one (REDIS_URL passes through).
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'gateway-bench.sqlite3'}")
    return env


def manage(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise BenchmarkError(f"manage.py {arguments[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def start_aiadmin(upstream: str, tmp: Path, logs: Path, cores: set[int] | None,
                  profile_raw: Path | None) -> Server:
    env = aiadmin_env(tmp)
    manage(env, "migrate", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    # A benchmark against a named database replaces its own rows from an earlier run.
    cleanup = (
        "from django.contrib.auth import get_user_model\n"
        "from aiadmin.providers.models import AIProvider\n"
        f"AIProvider.objects.filter(slug={PROVIDER_SLUG!r}).delete()\n"
        f"get_user_model().objects.filter(username={BENCH_USER!r}).delete()\n"
    )
    manage(env, "shell", "-c", cleanup)
    manage(env, "shell", "-c", SETUP.format(user=BENCH_USER, slug=PROVIDER_SLUG, url=upstream, key=UPSTREAM_KEY,
                                           model=UPSTREAM_MODEL))
    output = manage(env, "create_api_token", "--user", BENCH_USER, "--name", "gateway-benchmark").strip()
    token = output.splitlines()[-1].strip() if output else ""
    if not token or " " in token:
        raise BenchmarkError("manage.py create_api_token did not print a token on its last line.")
    port = free_port()
    command = uvicorn_command("standalone.asgi:application", port)
    if profile_raw is not None:
        py_spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(py_spy), "record", "--format", "raw", "--nolineno", "--rate", "250", "--threads", "--nonblocking",
            "--output", str(profile_raw), "--", *command,
        ]
    server = spawn("aiadmin", command, env=env, logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}/v1")
    server.headers = {"Authorization": f"Bearer {token}"}
    if profile_raw is not None:
        server.stop_signal = signal.SIGINT
    return server


def litellm_launch(*, upstream: str, model: str, master_key: str, tmp: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and environment of LiteLLM's proxy: one worker, ``model`` routed to the
    upstream, no database, no Redis (LiteLLM would take the benchmark's own), the bundled price
    list instead of a download, no telemetry, errors only in the log."""
    config = tmp / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(model=model, url=upstream, key=UPSTREAM_KEY, master_key=master_key))
    env = base_env()
    for name in ("DATABASE_URL", "REDIS_URL", "REDIS_HOST", "STORE_MODEL_IN_DB"):
        env.pop(name, None)
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False",
               DISABLE_ADMIN_UI="True")
    command = [str(Path(sys.executable).with_name("litellm")), "--config", str(config), "--host", "127.0.0.1",
               "--port", str(port), "--num_workers", "1"]
    return command, env


def start_litellm(upstream: str, tmp: Path, logs: Path, cores: set[int] | None) -> Server:
    port = free_port()
    command, env = litellm_launch(upstream=upstream, model=UPSTREAM_MODEL, master_key=LITELLM_MASTER_KEY, tmp=tmp, port=port)
    server = spawn("litellm", command, env=env, logs=logs, cores=cores, base_url=f"http://127.0.0.1:{port}/v1")
    server.headers = {"Authorization": f"Bearer {LITELLM_MASTER_KEY}"}
    return server


def stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(server.stop_signal)
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


# ---------------------------------------------------------------------------- calls


@dataclass
class Target:
    name: str
    label: str
    url: str
    model: str
    headers: dict[str, str]
    server: Server


def expected_answer() -> str:
    from tests.fakeprovider.app import DEFAULT_ANSWER

    return DEFAULT_ANSWER


def _request_body(model: str, *, stream: bool) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def _fail(target: Target, what: str) -> BenchmarkError:
    alive = target.server.process.poll() is None
    return BenchmarkError(
        f"{target.label} failed: {what}" + ("" if alive else f"\nIts process exited:\n{target.server.tail()}")
    )


async def chat_call(client, target: Target, body: bytes, answer: str) -> float:
    started = time.perf_counter()
    response = await client.post(target.url, content=body, headers=target.headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise _fail(target, f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        text = response.json()["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError) as error:
        raise _fail(target, f"not an OpenAI chat completion ({error!r}): {response.text[:500]}") from None
    if text != answer:
        raise _fail(target, f"unexpected answer {text[:200]!r}")
    return elapsed


async def first_token(client, target: Target, body: bytes, answer: str) -> float:
    """Time to the first SSE chunk with content; the stream is read to its end and checked."""
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    done = False
    async with client.stream("POST", target.url, content=body, headers=target.headers) as response:
        if response.status_code != 200:
            await response.aread()
            raise _fail(target, f"HTTP {response.status_code} on a stream: {response.text[:500]}")
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                raise _fail(target, f"an SSE data line that is not JSON: {data[:200]!r}") from None
            if "error" in chunk:
                raise _fail(target, f"an error event in the stream: {data[:300]}")
            for choice in chunk.get("choices") or []:
                if piece := (choice.get("delta") or {}).get("content"):
                    if first is None:
                        first = time.perf_counter() - started
                    pieces.append(piece)
    if not done or first is None or "".join(pieces) != answer:
        raise _fail(target, f"an unfinished or wrong stream (done={done}, text={''.join(pieces)[:200]!r})")
    return first


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, now (a server under py-spy is py-spy's child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def on_cpu_ns(pids: list[int]) -> int:
    """Nanoseconds the processes' threads have run so far (/proc/<pid>/task/<tid>/schedstat)."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


SETTLE_QUIET_NS = 50_000
SETTLE_LIMIT_SECONDS = 0.2


async def settle(pids: list[int]) -> None:
    """Wait (untimed) until the servers have stopped working after a call: under 50 µs of CPU
    in a millisecond, or 200 ms at most. Work a server defers past its answer (aiadmin's
    ledger write, LiteLLM's logging tasks) is then not charged to whichever target comes
    next on the same core; it still counts in that server's CPU per call."""
    deadline = time.perf_counter() + SETTLE_LIMIT_SECONDS
    last = on_cpu_ns(pids)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.001)
        now = on_cpu_ns(pids)
        if now - last < SETTLE_QUIET_NS:
            return
        last = now


async def interleave(client, targets: list[Target], call, *, stream: bool, warmup: int, calls: int,
                     answer: str) -> dict[str, list[float]]:
    """``calls`` timed rounds after ``warmup`` untimed ones; each round calls every target
    once, one call at a time, the first target rotating round by round; after each call the
    target's server and the upstream are let settle."""
    bodies = {target.name: _request_body(target.model, stream=stream) for target in targets}
    for target in targets:
        target.headers = {**target.headers, "Content-Type": "application/json"}
    upstream = process_tree(targets[0].server.process.pid)
    watched = {
        target.name: sorted(set(upstream) | set(process_tree(target.server.process.pid))) for target in targets
    }
    timings: dict[str, list[float]] = {target.name: [] for target in targets}
    for index in range(warmup + calls):
        shift = index % len(targets)
        for target in targets[shift:] + targets[:shift]:
            elapsed = await call(client, target, bodies[target.name], answer)
            await settle(watched[target.name])
            if index >= warmup:
                timings[target.name].append(elapsed)
    return timings


async def measure(targets: list[Target], args) -> dict:
    import httpx

    answer = expected_answer()
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=60)
    load_before = os.getloadavg()[0]
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        before = {target.name: cpu_seconds(target.server.process.pid) for target in targets}
        chat = await interleave(client, targets, chat_call, stream=False, warmup=args.warmup, calls=args.calls,
                                answer=answer)
        cpu = {
            target.name: (cpu_seconds(target.server.process.pid) - before[target.name]) / (args.warmup + args.calls)
            for target in targets
        }
        streams = await interleave(client, targets, first_token, stream=True, warmup=args.warmup // 5,
                                   calls=args.stream_calls, answer=answer)
    return {"chat": chat, "first_token": streams, "cpu_per_call": cpu, "load": [load_before, os.getloadavg()[0]]}


# ---------------------------------------------------------------------------- report


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(args, targets: list[Target], outcome: dict, placement: str, database: str) -> str:
    ms = 1000.0
    chat, ttft, cpu = outcome["chat"], outcome["first_token"], outcome["cpu_per_call"]
    direct, direct_first = chat["direct"], ttft["direct"]
    lines = [
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}; Python {platform.python_version()}; "
        f"Django {_version('django')}, uvicorn {_version('uvicorn')}, uvloop {_version('uvloop')}, "
        f"httptools {_version('httptools')}, httpx {_version('httpx')}, litellm {_version('litellm')}.",
        f"Upstream: the fake provider in its own process, fixed latency {args.latency_ms} ms. Each server: one "
        f"process, one uvicorn worker (uvloop, httptools). aiadmin: {AIADMIN_SETTINGS} (DEBUG off), {database}, "
        f"cache {'Redis' if os.environ.get('REDIS_URL') else 'local memory'}. LiteLLM: its proxy CLI, no database, "
        f"a master key. {placement}",
        f"{args.calls} non-streamed and {args.stream_calls} streamed chat calls per target, after a warm-up of "
        f"{args.warmup} (streams: {args.warmup // 5}); one call at a time, interleaved target by target, "
        "each server let settle after its call (untimed). "
        f"Load average (1 min) before and after: {outcome['load'][0]:.2f}, {outcome['load'][1]:.2f} "
        "(anything else running on the machine inflates the figures, the p95s most).",
        "",
        "| non-streamed chat | p50 ms | p95 ms | added p50 ms | added p95 ms | paired median added ms "
        "| server CPU ms per call |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in targets:
        values = chat[target.name]
        p50, p95 = percentile(values, 50), percentile(values, 95)
        if target.name == "direct":
            # No CPU figure: the fake provider's process also serves every other target's call.
            lines.append(f"| {target.label} | {p50 * ms:.2f} | {p95 * ms:.2f} | — | — | — | — |")
            continue
        added = (
            f"| {(p50 - percentile(direct, 50)) * ms:.2f} | {(p95 - percentile(direct, 95)) * ms:.2f} "
            f"| {paired_median(values, direct) * ms:.2f} "
        )
        lines.append(f"| {target.label} | {p50 * ms:.2f} | {p95 * ms:.2f} {added}| {cpu[target.name] * ms:.2f} |")
    lines += [
        "",
        "| time to first streamed token | p50 ms | p95 ms | added p50 ms | added p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for target in targets:
        values = ttft[target.name]
        p50, p95 = percentile(values, 50), percentile(values, 95)
        added = "| — | — " if target.name == "direct" else (
            f"| {(p50 - percentile(direct_first, 50)) * ms:.2f} | {(p95 - percentile(direct_first, 95)) * ms:.2f} "
        )
        lines.append(f"| {target.label} | {p50 * ms:.2f} | {p95 * ms:.2f} {added}|")
    lines += ["", *goal_lines(chat)]
    return "\n".join(lines)


def goal_lines(chat: dict[str, list[float]]) -> list[str]:
    if "aiadmin" not in chat or "litellm" not in chat:
        return []
    direct = percentile(chat["direct"], 50)
    ours = (percentile(chat["aiadmin"], 50) - direct) * 1000
    theirs = (percentile(chat["litellm"], 50) - direct) * 1000
    ratio = theirs / ours if ours > 0 else float("inf")
    first = "met" if ours <= 1.5 else "MISSED"
    second = "met" if ratio >= 5 else "MISSED"
    floor = ""
    if "floor" in chat:
        over_floor = (percentile(chat["aiadmin"], 50) - percentile(chat["floor"], 50)) * 1000
        floor = (
            f" A bare uvicorn + httpx hop adds {(percentile(chat['floor'], 50) - direct) * 1000:.2f} ms of that; "
            f"the gateway adds {over_floor:.2f} ms p50 over that floor."
        )
    return [
        f"Goal 1, the gateway adds at most 1.5 ms p50: {first} ({ours:.2f} ms).{floor}",
        f"Goal 2, at least 5x less than LiteLLM's proxy: {second} (LiteLLM adds {theirs:.2f} ms p50, "
        f"{'more than any multiple' if ours <= 0 else f'{ratio:.1f}x'} the gateway's).",
    ]


# ---------------------------------------------------------------------------- profile


_OWN_FRAME = re.compile(r"\((?:[^()]*/)?(?:aiadmin|django|asgiref)/")
_FRAME_FILE = re.compile(r"\(([^()]*)\)$")
# Work done after the answer was handed back (the usage ledger's writer on the event loop, and
# the rows' write in a sync thread): on the server's CPU, not on the caller's path.
_OFF_PATH = ("_LoopLedger._write", "usage_record_many")


def _package(frame: str) -> str:
    """``aiadmin`` for ``name (aiadmin/api/auth.py)``; the top folder of the frame's file."""
    # Leaves in C that py-spy cannot see into (it shows Python frames only).
    if frame.startswith("Runner.run (asyncio/runners.py)"):
        return "event loop in C (uvloop, httptools, sockets) or waiting"
    if frame.startswith("_worker (concurrent/futures/thread.py)"):
        return "a pool thread taking its next job, or waiting"
    match = _FRAME_FILE.search(frame)
    path = match.group(1) if match else frame
    if path.startswith("<"):
        return "python (frozen)"
    parts = [part for part in path.split("/") if part]
    for index, part in enumerate(parts):
        if part in ("site-packages", "lib") and index + 1 < len(parts):
            return parts[index + 1].split(".")[0]
    return parts[0].split(".")[0] if len(parts) > 1 else f"python ({parts[0]})" if parts else "?"


def summarise_profile(raw: Path, out: Path, top: int = 25) -> None:
    """From py-spy's collapsed stacks: the top ``top`` aiadmin / Django / asgiref functions by
    cumulative samples (a function counted once per sample however deep it recurs), the
    deepest such function per sample (so time in httpx, sqlite3 or json is charged to the
    aiadmin or Django code that called it), and the share of each package where samples end.
    py-spy records busy threads only; start-up (imports) is left out."""
    cumulative: dict[str, int] = {}
    deepest: dict[str, int] = {}
    leaf_packages: dict[str, int] = {}
    busy = off_path = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or "_find_and_load" in stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        busy += count
        off_path += count if any(marker in stack for marker in _OFF_PATH) else 0
        leaf = _package(frames[-1])
        leaf_packages[leaf] = leaf_packages.get(leaf, 0) + count
        own = [frame for frame in frames if _OWN_FRAME.search(frame)]
        for frame in set(own):
            cumulative[frame] = cumulative.get(frame, 0) + count
        if own:
            deepest[own[-1]] = deepest.get(own[-1], 0) + count

    def share(count: int) -> str:
        return f"{100 * count / max(busy, 1):6.1f}%  {count:6d}"

    def ranked(counts: dict[str, int], limit: int) -> list[str]:
        return [f"{share(count)}  {name}" for name, count in sorted(counts.items(), key=lambda item: -item[1])[:limit]]

    lines = [
        f"py-spy (250 Hz, busy threads only) of the aiadmin server process under benchmarks/gateway.py: "
        f"{busy} samples after start-up; {off_path} of them ({100 * off_path / max(busy, 1):.1f}%) in the "
        "usage ledger's writer and its row writes (after the answer, off the caller's path).",
        "",
        f"Top {top} aiadmin / Django / asgiref functions by cumulative share of the samples:",
        *ranked(cumulative, top),
        "",
        "Deepest aiadmin / Django / asgiref function of each sample (what it calls below is charged to it):",
        *ranked(deepest, top),
        "",
        "Where the samples end, by package:",
        *ranked(leaf_packages, 15),
    ]
    out.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="non-streamed chat calls per target (timed)")
    parser.add_argument("--stream-calls", type=int, default=200, help="streamed chat calls per target (timed)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per target first")
    parser.add_argument("--latency-ms", type=int, default=10, help="the fake provider's fixed latency")
    parser.add_argument("--targets", default="direct,floor,aiadmin,litellm",
                        help="comma-separated, from direct, floor, aiadmin, litellm (direct is always run)")
    parser.add_argument("--no-pin", action="store_true", help="let every process share every core")
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument("--profile", type=Path,
                        help="run the aiadmin server under py-spy and write its top functions here "
                             "(the timings of such a run are not the benchmark's figures)")
    args = parser.parse_args()
    if args.calls < 1 or args.stream_calls < 1 or args.warmup < 0:
        parser.error("--calls and --stream-calls must be positive, --warmup not negative")
    wanted = {"direct", *(name.strip() for name in args.targets.split(",") if name.strip())}
    unknown = wanted - {"direct", "floor", "aiadmin", "litellm"}
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if "litellm" in wanted and not Path(sys.executable).with_name("litellm").exists():
        raise SystemExit("LiteLLM's proxy is not installed: run `make bench` (it installs the bench extra).")

    # Two cores or more: the servers under test on core 1, the client and the upstream on
    # core 0. Calls are sequential, so only one server works at a time.
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0)
    client_core, server_core = ({0}, {1}) if pin else (None, None)
    placement = (
        "The servers under test are pinned to core 1, the client and the fake provider to core 0."
        if pin else "No core pinning."
    )
    if pin:
        os.sched_setaffinity(0, client_core)

    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp_name:
        tmp = Path(tmp_name)
        logs = tmp / "logs"
        logs.mkdir()
        profile_raw = tmp / "aiadmin-py-spy.txt" if args.profile else None
        try:
            fake = start_fake(args.latency_ms, logs, client_core)
            servers.append(fake)
            upstream = fake.base_url
            targets = [Target("direct", "direct to the fake provider", f"{upstream}/chat/completions",
                              UPSTREAM_MODEL, fake.headers, fake)]
            started: list[tuple[Server, str]] = []
            if "floor" in wanted:
                floor = start_floor(upstream, logs, server_core)
                servers.append(floor)
                targets.append(Target("floor", "floor: bare uvicorn + httpx pass-through",
                                      f"{floor.base_url}/chat/completions", UPSTREAM_MODEL, {}, floor))
                started.append((floor, None))
            if "aiadmin" in wanted:
                aiadmin = start_aiadmin(upstream, tmp, logs, server_core, profile_raw)
                servers.append(aiadmin)
                targets.append(Target("aiadmin", "aiadmin gateway (/v1/)", f"{aiadmin.base_url}/chat/completions",
                                      GATEWAY_MODEL, aiadmin.headers, aiadmin))
                started.append((aiadmin, "/models"))
            if "litellm" in wanted:
                litellm = start_litellm(upstream, tmp, logs, server_core)
                servers.append(litellm)
                targets.append(Target("litellm", "LiteLLM proxy", f"{litellm.base_url}/chat/completions",
                                      UPSTREAM_MODEL, litellm.headers, litellm))
                started.append((litellm, "/models"))
            for server, probe in started:
                if probe is None:
                    wait_for_port(server)
                else:
                    wait_until_serving(server, probe)
            if "aiadmin" in wanted:
                check_model_list(aiadmin)
            import uvloop

            outcome = uvloop.run(measure(targets, args))
        finally:
            stop(servers)
        database = aiadmin_env(tmp)["DATABASE_URL"].split(":", 1)[0]
        print(report(args, targets, outcome, placement, "SQLite" if database == "sqlite" else database))
        if args.json:
            args.json.write_text(json.dumps(outcome, indent=1))
        if args.profile:
            if not profile_raw.exists():
                raise BenchmarkError("py-spy wrote no profile (is it installed in the virtual environment?).")
            summarise_profile(profile_raw, args.profile)
            kept = args.profile.with_name(args.profile.name + ".raw")
            kept.write_bytes(profile_raw.read_bytes())
            print(f"\nThe aiadmin server's profile: {args.profile} (py-spy's collapsed stacks: {kept})")


def wait_for_port(server: Server) -> None:
    port = int(server.base_url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"{server.name} exited while starting:\n{server.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchmarkError(f"{server.name} did not start in {STARTUP_SECONDS} s:\n{server.tail()}")


def check_model_list(server: Server) -> None:
    """``GET /v1/models`` lists the benchmark's model under its gateway id."""
    import httpx

    response = httpx.get(f"{server.base_url}/models", headers=server.headers, timeout=10)
    ids = [item.get("id") for item in response.json().get("data", [])] if response.status_code == 200 else []
    if GATEWAY_MODEL not in ids:
        raise BenchmarkError(f"GET /v1/models does not list {GATEWAY_MODEL} (HTTP {response.status_code}): "
                             f"{response.text[:300]}")


if __name__ == "__main__":
    main()
