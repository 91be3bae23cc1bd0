"""Where one worker's CPU goes under concurrent streams: a py-spy profile per target, in shares.

The same servers as ``make bench-streams`` (``benchmarks/stream_servers.py``: the fake
provider's 64 chunks 20 ms apart; each target one uvicorn or aiohttp worker pinned to core 0,
the fake provider and this client on core 1). Each target gets a warm-up, then py-spy samples
its worker (250 Hz, Python frames, busy threads only) while ``--rounds`` runs of ``--streams``
concurrent streams go through it. Each sample is charged to the package of its innermost
Python frame (C code is charged to the Python frame that called it, so socket writes show up
under the code that wrote), grouped in the categories of :data:`CATEGORIES`. The report: the
share of each category per target, the worker's CPU per stream, and the raw collapsed stacks
kept under ``--out`` for a closer look.

    .venv/bin/python benchmarks/stream_profile.py --targets console,api,floor --streams 100

Needs py-spy (the bench extra) and permission to read another process's memory (root, or
``ptrace_scope`` 0). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gateway import cpu_seconds  # noqa: E402
from benchmarks.stream_client import run_level  # noqa: E402
from benchmarks.stream_servers import AIAdmin, start_fake, start_floor, stop_all  # noqa: E402

STALL_LIMIT = 0.2

# (category, does this innermost frame belong to it); the first match wins.
CATEGORIES: list[tuple[str, Callable[[str], bool]]] = [
    ("event loop in C, sockets (uvloop)", lambda f: f.startswith("Runner.run (asyncio/runners.py") or "uvloop/" in f),
    ("asyncio timeouts", lambda f: "asyncio/timeouts.py" in f or "aiadmin/adapters/waits.py" in f),
    ("json", lambda f: "(json/" in f or "/json/" in f),
    ("uvicorn (HTTP server)", lambda f: "uvicorn/" in f),
    ("aiohttp (HTTP client or server)", lambda f: any(p in f for p in ("aiohttp/", "yarl/", "multidict/"))),
    ("httpcore, anyio, h11 (HTTP client)", lambda f: any(p in f for p in ("httpcore/", "anyio/", "h11/"))),
    ("httpx (client API)", lambda f: "httpx/" in f),
    ("database (ORM, sqlite3)", lambda f: "django/db/" in f or "sqlite3" in f),
    ("Django, asgiref (handler, middleware, sessions, auth)",
     lambda f: any(p in f for p in ("django/", "asgiref/", "csp/", "django_htmx/", "servestatic/"))),
    ("aiadmin: adapters (SSE decoding, chunks)", lambda f: "aiadmin/adapters/" in f),
    ("aiadmin: service, limits, ledger", lambda f: "aiadmin/unified/" in f or "aiadmin/providers/" in f),
    ("aiadmin: views, events written, handler", lambda f: "aiadmin/" in f),
    ("threads: waiting for work", lambda f: "concurrent/futures/" in f or "threading.py" in f),
    ("asyncio (Python code)", lambda f: "asyncio/" in f),
]
OTHER = "other (contextlib, dataclasses, abc, ...)"


def categorise(raw: Path) -> tuple[Counter, int]:
    counts: Counter = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "_find_and_load" in stack:
            continue  # imports at start-up
        leaf = re.sub(r":\d+\)", ")", stack.split(";")[-1])
        name = next((name for name, matches in CATEGORIES if matches(leaf)), OTHER)
        counts[name] += int(count)
        total += int(count)
    return counts, total


def profile(target, *, streams: int, rounds: int, out: Path) -> tuple[Path, float]:
    """py-spy's collapsed stacks of ``target``'s worker over ``rounds`` runs, and its CPU per stream."""
    for _ in range(2):  # warm-up, not recorded
        uvloop.run(run_level(target.port, target.request, target.shape, 20, stall_limit=STALL_LIMIT, timeout=60))
    pid = target.server.process.pid  # one worker: the server process itself
    raw = out / f"{target.name}.collapsed"
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
         "--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    used = 0.0
    try:
        for _ in range(rounds):
            before = cpu_seconds(pid)
            row = uvloop.run(run_level(target.port, target.request, target.shape, streams, stall_limit=STALL_LIMIT, timeout=60))
            used += cpu_seconds(pid) - before
            print(f"{target.name}: {streams} streams, {row['stalled']} stalled, largest gap {row['max_gap_ms']} ms", flush=True)
            time.sleep(1.0)
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    return raw, used * 1000 / (streams * rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="console,api,floor", help="comma-separated, from console, api, floor")
    parser.add_argument("--streams", type=int, default=100, help="concurrent streams per run")
    parser.add_argument("--rounds", type=int, default=4, help="runs sampled per target")
    parser.add_argument("--out", type=Path, help="keep the collapsed stacks here (default: a temporary folder)")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.targets.split(",") if name.strip()]
    if unknown := set(wanted) - {"console", "api", "floor"}:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    pin = len(os.sched_getaffinity(0)) >= 2
    worker_core, other_core = ({0}, {1}) if pin else (None, None)
    if pin:
        os.sched_setaffinity(0, other_core)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = args.out or tmp
        out.mkdir(parents=True, exist_ok=True)
        servers = []
        try:
            fake = start_fake(tmp, other_core)
            servers.append(fake)
            aiadmin = AIAdmin(fake.base_url, tmp, tmp, redis_url=None) if {"console", "api"} & set(wanted) else None
            results = {}
            for name in wanted:
                if name == "floor":
                    target = start_floor(fake.base_url, tmp, worker_core)
                else:
                    target = getattr(aiadmin, name)(name, name, 1, worker_core)
                servers.append(target.server)
                results[name] = profile(target, streams=args.streams, rounds=args.rounds, out=out)
                stop_all([target.server])
                servers.remove(target.server)
        finally:
            stop_all(servers)
        shares = {name: categorise(raw) for name, (raw, _) in results.items()}
        print(f"\nShare of the worker's py-spy samples at {args.streams} concurrent streams "
              f"({args.rounds} runs each; worker pinned to core 0: {pin}):\n")
        print("| where the samples end | " + " | ".join(wanted) + " |")
        print("| --- | " + " | ".join("---:" for _ in wanted) + " |")
        for category in [name for name, _ in CATEGORIES] + [OTHER]:
            cells = [f"{100 * shares[name][0][category] / max(shares[name][1], 1):.1f}%" for name in wanted]
            if any(cell != "0.0%" for cell in cells):
                print(f"| {category} | " + " | ".join(cells) + " |")
        print("| worker CPU ms per stream (whole run) | " + " | ".join(f"{results[name][1]:.2f}" for name in wanted) + " |")
        if args.out:
            print(f"\nCollapsed stacks: {', '.join(str(results[name][0]) for name in wanted)}")


if __name__ == "__main__":
    main()
