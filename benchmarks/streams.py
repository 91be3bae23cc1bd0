"""How many streamed chats one worker sustains, aiadmin beside LiteLLM and a bare floor
(``make bench-streams``; arguments in ``STREAMS_ARGS``).

Targets (``--targets``, default ``console,api,litellm,floor``), each a server process of its
own, all streaming the fake provider's ``paced-64x20`` model (64 chunks 20 ms apart):

* ``console``: the chat playground's SSE endpoint (session cookie + CSRF), standalone project
  under uvicorn, production settings, SQLite (or ``DATABASE_URL``);
* ``api``: the HTTP API, ``POST /v1/chat/completions`` with ``"stream": true`` and an API token;
* ``litellm``: LiteLLM's proxy, one worker, no database;
* ``floor``: ``benchmarks/aiohttp_floor.py``, an aiohttp server + aiohttp client pass-through;
* ``bare`` (optional): ``benchmarks/bare_proxy.py``, uvicorn + httpx.

Each target is one worker pinned to core 0; the fake provider and this load client share core
1 (no pinning on a one-core machine or with ``--no-pin``). The client opens N streams at once
and times every token event (``benchmarks/stream_client.py``). A stream *stalls* when two of its
token events are more than 10x the pacing apart (200 ms) or it does not finish. Every target
first gets an unrecorded warm-up (``--warmup`` streams, twice). Then the walk: at each level
(``--levels``) every target still in runs ``--repeat`` times (default 2), the targets
alternating run by run with the order rotated level by level, so the machine's noise hits all
alike; a second's pause (and until the server's CPU is quiet) separates runs. A target that
stalls at a level drops out of the levels above. Its *sustained* level is the highest level
whose every run, and every run of every level below, held. *Peak open* is the most streams
between their first token and their end at one moment. Worker CPU per stream comes from
/proc (the server's whole process tree), reported at 100 streams (a target that never held
100: at its highest held level).

The machine may be shared: every run also reports the CPU other processes took of the
worker's core(s) meanwhile (/proc/stat less the worker's own; unpinned, less the fake provider
and the client too). A run that stalls while others took more than ``--disturbed`` percent
(default 20) of a core is done again, up to ``--retries`` times (default 2); its JSON line is
kept, marked ``"disturbed": true``, and the report counts such runs.

``--runs N`` walks N times in one invocation and ends with each target's sustained levels
and whether they agree within one level step. ``--workers N`` (N >= 2) compares the console
and the API in one uvicorn worker with the same in N workers, nothing pinned, with Redis as the
shared cache when it answers on 127.0.0.1:6379 (``REDIS_URL`` wins; database 9 otherwise,
flushed first); the one-worker default run needs no Redis. Every child process dies with this
one, however it ends. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gateway import BenchmarkError, _version, cpu_model, cpu_seconds  # noqa: E402
from benchmarks.stream_client import run_level  # noqa: E402
from benchmarks.stream_servers import (  # noqa: E402
    CHUNKS,
    MODEL,
    PACING_MS,
    SPAWNED,
    AIAdmin,
    Target,
    start_bare,
    start_fake,
    start_floor,
    start_litellm,
    stop_all,
)

STALL_FACTOR = 10
STALL_LIMIT = STALL_FACTOR * PACING_MS / 1000
DEFAULT_LEVELS = "10,20,30,50,100,150,200,300,400,500,600,700,800"
DEFAULT_WORKER_LEVELS = "20,30,40,50,60,80,100,120,150,200,250,300,400,500,600,800"
TARGETS = ("console", "api", "litellm", "floor", "bare")
CPU_LEVEL = 100
DISTURBED = "disturbed runs"  # rows of runs done again, kept beside the targets' rows
WORKERS_GOAL = 1.6
REDIS_DB_URL = "redis://127.0.0.1:6379/9"
QUIET_CPU_SECONDS = 0.005  # a server using less than this in 100 ms has settled
SETTLE_LIMIT_SECONDS = 5.0


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system, all threads, reaped threads included) of ``pid`` and each of
    its descendants, from one pass over /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    found = {pid} if pid in times else set()
    grew = True
    while grew:
        more = {child for child, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return {member: times[member] for member in found}


def worker_split(before: dict[int, float], after: dict[int, float], supervisor: int) -> list[float]:
    """Each uvicorn worker's share of the run's CPU (several workers: who took the load)."""
    deltas = sorted((after[pid] - before.get(pid, 0.0) for pid in after if pid != supervisor and _is_worker(pid)),
                    reverse=True)
    total = sum(deltas) or 1.0
    return [round(delta / total, 2) for delta in deltas]


def _is_worker(pid: int) -> bool:
    """Not multiprocessing's resource tracker, which uvicorn's supervisor also starts."""
    try:
        return b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cores_busy(cores: set[int] | None) -> float:
    """Seconds the cores (every core if None) have spent running processes so far, whoever they
    are, plus steal (the hypervisor gave the time to someone else), from /proc/stat. Interrupt
    and softirq time is left out: the benchmark's own loopback traffic is handled there."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and (cores is None or int(name[3:]) in cores):
            fields = [int(value) for value in values]
            total += fields[0] + fields[1] + fields[2] + fields[7]  # user, nice, system, steal
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def settle(target: Target, pause: float) -> None:
    """``pause`` seconds, then until the server has stopped working (its deferred work, such
    as ledger writes, belongs to this run), at most 5 s more."""
    await asyncio.sleep(pause)
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    last = cpu_seconds(target.server.process.pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        now = cpu_seconds(target.server.process.pid)
        if now - last < QUIET_CPU_SECONDS:
            return
        last = now


async def measured_run(target: Target, fake_pid: int, streams: int, args) -> dict:
    supervisor = target.server.process.pid
    worker_before, fake_before, client_before = tree_cpu(supervisor), cpu_seconds(fake_pid), own_cpu_seconds()
    busy_before = cores_busy(args.worker_cores)
    row = await run_level(target.port, target.request, target.shape, streams, stall_limit=STALL_LIMIT,
                          timeout=args.timeout)
    busy = cores_busy(args.worker_cores) - busy_before
    worker_during = sum(tree_cpu(supervisor).values()) - sum(worker_before.values())
    fake_cpu, client_cpu = cpu_seconds(fake_pid) - fake_before, own_cpu_seconds() - client_before
    seconds = max(row["seconds"], 1e-3)
    # The load generator's share of a core while the streams ran (pinned: core 1's load).
    row["client_fake_cpu_pct"] = round(100 * (fake_cpu + client_cpu) / seconds)
    # What other processes took of the worker's core(s) meanwhile (the machine is shared).
    foreign = busy - worker_during - (0.0 if args.worker_cores else fake_cpu + client_cpu)
    row["other_cpu_pct"] = max(0, round(100 * foreign / seconds))
    await settle(target, args.pause)
    worker_after = tree_cpu(supervisor)
    worker_cpu = sum(worker_after.values()) - sum(worker_before.get(pid, 0.0) for pid in worker_after)
    if target.workers > 1:
        row["worker_cpu_split"] = worker_split(worker_before, worker_after, supervisor)
    row["worker_cpu_ms_per_stream"] = round(worker_cpu * 1000 / streams, 2)
    if target.server.process.poll() is not None:
        row["stalled"] = streams
        row["first_error"] = f"the server exited (code {target.server.process.returncode})"
    return row


async def smoke_and_warm(targets: list[Target], fake_pid: int, args) -> None:
    """One stream per target must come through whole; then the unrecorded warm-up."""
    for target in targets:
        row = await run_level(target.port, target.request, target.shape, 1, stall_limit=STALL_LIMIT, timeout=30)
        if row["errors"] or row["min_tokens"] < CHUNKS // 2:
            raise BenchmarkError(f"{target.label}: a single stream failed ({row['first_error']}, "
                                 f"{row['min_tokens']} token events):\n{target.server.tail()}")
    for round_index in range(2 if args.warmup else 0):
        for target in targets[round_index % len(targets):] + targets[:round_index % len(targets)]:
            row = await run_level(target.port, target.request, target.shape, args.warmup, stall_limit=STALL_LIMIT,
                                  timeout=args.timeout)
            print(f"warm-up {target.name}: {args.warmup} streams, {row['stalled']} stalled", file=sys.stderr,
                  flush=True)
            await settle(target, args.pause)


async def walk(targets: list[Target], fake_pid: int, levels: list[int], args, walk_number: int) -> dict:
    """One walk up the levels; every run's row by target."""
    rows: dict[str, list[dict]] = {target.name: [] for target in targets} | {DISTURBED: []}
    active = list(targets)
    for level_index, streams in enumerate(levels):
        if not active:
            break
        stalled: set[str] = set()
        for repeat in range(args.repeat):
            shift = (level_index * args.repeat + repeat) % len(active)
            for target in active[shift:] + active[:shift]:
                for attempt in range(args.retries + 1):
                    row = await measured_run(target, fake_pid, streams, args)
                    # A stall while other processes held the worker's core says little about
                    # the worker: the run is done again (the JSON line keeps it, marked).
                    disturbed = bool(row["stalled"]) and row["other_cpu_pct"] > args.disturbed and attempt < args.retries
                    row = {"walk": walk_number, "target": target.name, "repeat": repeat + 1, **row,
                           "disturbed": disturbed}
                    print(json.dumps(row), flush=True)
                    if not disturbed:
                        break
                    rows[DISTURBED].append(row)
                rows[target.name].append(row)
                if row["stalled"]:
                    stalled.add(target.name)
        active = [target for target in active if target.name not in stalled]
    return rows


# ---------------------------------------------------------------------------- figures


def sustained(rows: list[dict], levels: list[int]) -> int:
    held = 0
    for streams in levels:
        runs = [row for row in rows if row["streams"] == streams]
        if not runs or any(row["stalled"] for row in runs):
            break
        held = streams
    return held


def peak_open(rows: list[dict], level: int) -> int:
    return max((row["peak_open"] for row in rows if row["streams"] == level), default=0)


def cpu_per_stream(rows: list[dict], levels: list[int]) -> tuple[float | None, int | None]:
    """Mean worker CPU ms per stream at 100 streams, else at the highest held level (else the
    lowest level run)."""
    held = sustained(rows, levels)
    for level in (CPU_LEVEL, held, levels[0]):
        runs = [row["worker_cpu_ms_per_stream"] for row in rows if row["streams"] == level]
        if runs:
            return sum(runs) / len(runs), level
    return None, None


def ratio(mine: int, theirs: int | None) -> str:
    if theirs is None:
        return "—"
    if theirs == 0:
        return "∞" if mine else "—"
    return f"{mine / theirs:.2f}"


def level_table(target: Target, rows: list[dict]) -> list[str]:
    split = target.workers > 1
    lines = [
        f"\n{target.label}:",
        "| streams | run | stalled | errors | peak open | largest gap ms | p95 gap ms | p50 first token ms "
        "| p50 stream s | worker CPU ms per stream | fake + client CPU % | others' CPU % |"
        + (" CPU share per worker |" if split else ""),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" --- |" if split else ""),
    ]
    for row in rows:
        lines.append(
            f"| {row['streams']} | {row['repeat']} | {row['stalled']} | {row['errors']} | {row['peak_open']} "
            f"| {row['max_gap_ms'] or 0:.0f} | {row['p95_gap_ms'] or 0:.0f} | {row['p50_first_token_ms'] or 0:.0f} "
            f"| {row['p50_stream_s'] or 0:.2f} | {row['worker_cpu_ms_per_stream']:.1f} | {row['client_fake_cpu_pct']} "
            f"| {row['other_cpu_pct']} |"
            + (f" {' / '.join(map(str, row.get('worker_cpu_split', [])))} |" if split else "")
        )
    return lines


def summary_table(targets: list[Target], rows: dict[str, list[dict]], levels: list[int]) -> list[str]:
    held = {target.name: sustained(rows[target.name], levels) for target in targets}
    top = levels[-1]
    lines = [
        "",
        "| target | sustained | peak open | worker CPU ms per stream at 100 | vs floor | vs LiteLLM |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in targets:
        mine = held[target.name]
        cpu, at = cpu_per_stream(rows[target.name], levels)
        cpu_text = "—" if cpu is None else f"{cpu:.2f}" + ("" if at == CPU_LEVEL else f" (at {at})")
        shown = f"{mine}" + (" (every level held)" if mine == top else "")
        lines.append(
            f"| {target.label} | {shown} | {peak_open(rows[target.name], mine)} | {cpu_text} "
            f"| {ratio(mine, held.get('floor'))} | {ratio(mine, held.get('litellm'))} |"
        )
    for target in targets:
        failed = [row for row in rows[target.name] if row["stalled"]]
        if failed:
            lines.append(
                f"{target.label}: first stall at {failed[0]['streams']} streams ({failed[0]['stalled']} stalled, "
                f"largest gap {failed[0]['max_gap_ms'] or 0:.0f} ms, {failed[0]['errors']} errors"
                + (f": {failed[0]['first_error']}" if failed[0]["first_error"] else "")
                + f"); meanwhile the fake provider + client used {failed[0]['client_fake_cpu_pct']}% of a core, other "
                f"processes {failed[0]['other_cpu_pct']}% of the worker's core(s)."
            )
    return lines


def workers_table(pairs: list[tuple[str, str, str]], held: dict[str, int], workers: int) -> list[str]:
    lines = [
        "",
        f"| app | sustained, 1 worker | sustained, {workers} workers | ratio | goal >= {WORKERS_GOAL} |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for app, one, many in pairs:
        value = held[many] / held[one] if held[one] else None
        verdict = "—" if value is None else ("met" if value >= WORKERS_GOAL else "MISSED")
        lines.append(f"| {app} | {held[one]} | {held[many]} | {'—' if value is None else f'{value:.2f}'} | {verdict} |")
    return lines


def agreement_table(targets: list[Target], walks: list[dict], levels: list[int]) -> list[str]:
    lines = [
        "",
        f"Sustained levels of the {len(walks)} walks (agree = every walk within one step of the level list):",
        "| target | " + " | ".join(f"walk {n + 1}" for n in range(len(walks))) + " | agree within one step |",
        "| --- | " + " | ".join("---:" for _ in walks) + " | --- |",
    ]
    for target in targets:
        values = [sustained(rows[target.name], levels) for rows in walks]
        steps = [levels.index(value) if value in levels else -1 for value in values]
        agree = max(steps) - min(steps) <= 1
        lines.append(f"| {target.label} | " + " | ".join(map(str, values)) + f" | {'yes' if agree else 'NO'} |")
    return lines


# ---------------------------------------------------------------------------- set-up


def redis_for_workers() -> tuple[str | None, str]:
    """The shared cache for the multi-worker comparison, and how to name it."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], "Redis (REDIS_URL)"
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(64).startswith(b"+PONG"):
                raise OSError("no PONG")
    except OSError:
        return None, "local memory (no Redis on 127.0.0.1:6379: each worker its own cache)"
    import redis

    # The benchmark's own database: stale routing entries from an earlier run must not count.
    redis.Redis.from_url(REDIS_DB_URL).flushdb()
    return REDIS_DB_URL, f"Redis ({REDIS_DB_URL}, flushed first)"


def start_targets(args, upstream: str, tmp: Path, logs: Path, core: set[int] | None,
                  redis_url: str | None) -> list[Target]:
    wanted = [name.strip() for name in args.targets.split(",") if name.strip()]
    targets: list[Target] = []

    def keep(target: Target) -> Target:
        targets.append(target)
        return target

    if args.workers > 1:
        apps = [name for name in wanted if name in ("console", "api")]
        if not apps:
            raise BenchmarkError("--workers compares the console and the API: name one of them in --targets.")
        aiadmin = AIAdmin(upstream, tmp, logs, redis_url)
        for app in apps:
            start = aiadmin.console if app == "console" else aiadmin.api
            for workers in (1, args.workers):
                keep(start(f"{app}-{workers}w", f"{app}, {workers} worker{'s' if workers > 1 else ''}", workers, None))
        return targets
    if "console" in wanted or "api" in wanted:
        aiadmin = AIAdmin(upstream, tmp, logs, None)
    for name in wanted:
        if name == "console":
            keep(aiadmin.console("console", "console chat stream", 1, core))
        elif name == "api":
            keep(aiadmin.api("api", "HTTP API chat stream", 1, core))
        elif name == "litellm":
            if not Path(sys.executable).with_name("litellm").exists():
                raise BenchmarkError("LiteLLM's proxy is not installed: run `make bench-streams` (the bench extra).")
            keep(start_litellm(upstream, tmp, logs, core))
        elif name == "floor":
            keep(start_floor(upstream, logs, core))
        elif name == "bare":
            keep(start_bare(upstream, logs, core))
    return targets


def machine_line(args, placement: str, cache: str, load: tuple[float, float], levels: list[int]) -> str:
    database = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}; Python {platform.python_version()}; "
        f"Django {_version('django')}, uvicorn {_version('uvicorn')}, uvloop {_version('uvloop')}, "
        f"httptools {_version('httptools')}, httpx {_version('httpx')}, aiohttp {_version('aiohttp')}, "
        f"litellm {_version('litellm')}. {placement} aiadmin: production settings, "
        f"{'SQLite' if database == 'sqlite' else database}, cache {cache}. Upstream: the fake provider, "
        f"{MODEL} ({CHUNKS} chunks {PACING_MS} ms apart). Stall: a gap over {STALL_FACTOR * PACING_MS} ms or an "
        f"unfinished stream. Levels {','.join(map(str, levels))}, {args.repeat} run(s) each, warm-up "
        f"{args.warmup} streams x2. Load average (1 min) before and after: {load[0]:.2f}, {load[1]:.2f}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="console,api,litellm,floor", help=f"comma-separated, from {TARGETS}")
    parser.add_argument("--levels", help=f"concurrent streams per level (default {DEFAULT_LEVELS}; "
                                         f"with --workers {DEFAULT_WORKER_LEVELS})")
    parser.add_argument("--repeat", type=int, default=2, help="runs per level; every one must be stall-free")
    parser.add_argument("--runs", type=int, default=1, help="walks in this invocation (their agreement is reported)")
    parser.add_argument("--warmup", type=int, default=20, help="streams of each target's warm-up (run twice)")
    parser.add_argument("--workers", type=int, default=1, help="N >= 2: console and API in 1 vs N uvicorn workers")
    parser.add_argument("--no-pin", action="store_true", help="let every process share every core")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a stream may take at most")
    parser.add_argument("--retries", type=int, default=2,
                        help="times a stalled run is done again when other processes used more than --disturbed "
                             "percent of the worker's core(s) meanwhile")
    parser.add_argument("--disturbed", type=int, default=20, help="see --retries (percent of one core)")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder (default: thrown away)")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.targets.split(",") if name.strip()]
    if not wanted or set(wanted) - set(TARGETS) or len(set(wanted)) != len(wanted):
        parser.error(f"--targets: distinct names from {', '.join(TARGETS)}")
    levels = [int(n) for n in (args.levels or (DEFAULT_WORKER_LEVELS if args.workers > 1 else DEFAULT_LEVELS)).split(",")]
    if (levels != sorted(set(levels)) or levels[0] < 1 or args.repeat < 1 or args.runs < 1 or args.workers < 1
            or args.retries < 0):
        parser.error("--levels must rise; --repeat, --runs and --workers must be positive, --retries not negative")

    # SIGTERM ends the run like Ctrl-C: through the finally that stops every server.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    cores = os.sched_getaffinity(0)
    pin = args.workers == 1 and not args.no_pin and {0, 1} <= cores
    worker_core, other_core = ({0}, {1}) if pin else (None, None)
    args.worker_cores = worker_core
    if pin:
        os.sched_setaffinity(0, other_core)
        placement = "Each target one worker pinned to core 0; the fake provider and the load client on core 1."
    elif args.workers > 1:
        placement = (f"The console and the API in 1 and in {args.workers} uvicorn workers; nothing pinned "
                     "(the fake provider and the load client share the cores).")
    else:
        placement = "Each target one worker; nothing pinned."
    cache = "local memory"
    redis_url = None
    if args.workers > 1:
        redis_url, cache = redis_for_workers()

    with tempfile.TemporaryDirectory(prefix="streams-bench-") as tmp_name:
        tmp = Path(tmp_name)
        logs = args.logs or tmp / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        try:
            fake = start_fake(logs, other_core)
            targets = start_targets(args, fake.base_url, tmp, logs, worker_core, redis_url)
            load_before = os.getloadavg()[0]
            import uvloop

            async def everything() -> list[dict]:
                await smoke_and_warm(targets, fake.process.pid, args)
                return [await walk(targets, fake.process.pid, levels, args, n + 1) for n in range(args.runs)]

            walks = uvloop.run(everything())
            load = (load_before, os.getloadavg()[0])
        finally:
            stop_all(SPAWNED)

    print("\n" + machine_line(args, placement, cache, load, levels))
    for number, rows in enumerate(walks, start=1):
        print(f"\n## Walk {number} of {len(walks)}")
        for target in targets:
            print("\n".join(level_table(target, rows[target.name])))
        if args.workers > 1:
            held = {target.name: sustained(rows[target.name], levels) for target in targets}
            apps = sorted({target.name.split("-")[0] for target in targets}, key=wanted.index)
            pairs = [(app, f"{app}-1w", f"{app}-{args.workers}w") for app in apps]
            print("\n".join(summary_table(targets, rows, levels) + workers_table(pairs, held, args.workers)))
        else:
            print("\n".join(summary_table(targets, rows, levels)))
        if rows[DISTURBED]:
            print(f"{len(rows[DISTURBED])} stalled run(s) done again: other processes used more than "
                  f"{args.disturbed}% of the worker's core(s) while they ran (the JSON lines marked disturbed).")
    if len(walks) > 1:
        print("\n".join(agreement_table(targets, walks, levels)))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("Interrupted: every server was stopped.") from None
