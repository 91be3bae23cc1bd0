"""Benchmark: the unified service's overhead over a raw httpx call, side by side with LiteLLM.

One run, against the fake provider in its own process with a fixed upstream latency:

* non-streamed chat, ``--calls`` calls each (default 1,000): raw ``httpx.AsyncClient`` POST,
  ``UnifiedAIService.achat`` (model choice, key, limit check, adapter, usage ledger: database
  and cache work included), and ``litellm.acompletion``; the three are interleaved call by call
  so drift hits all alike;
* streamed chat: time to first token, raw vs the service vs LiteLLM;
* the ledger write the service does after each call (off the caller's path), timed on its own.

Run it with ``make bench`` (installs LiteLLM into .venv for the benchmark only). It uses a
throwaway SQLite database unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

API_KEY = "test-key"
MODEL = "bench-model"
MESSAGES = [{"role": "user", "content": "Say hello in five words."}]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "mean": statistics.fmean(values)}


def start_fake_provider(latency_ms: int) -> tuple[subprocess.Popen, str]:
    """The fake provider in its own process, so it does not share our CPU time slice."""
    code = (
        "import sys, time\n"
        "from tests.fakeprovider.server import FakeProviderServer\n"
        f"server = FakeProviderServer(latency_ms={latency_ms}, record_requests=False).start()\n"
        "print(server.base_url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    base_url = process.stdout.readline().strip()
    if not base_url:
        raise SystemExit("The fake provider did not start.")
    return process, base_url


def setup_django(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "standalone.settings.dev")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_provider(openai_base_url: str):
    from django.contrib.auth import get_user_model

    from aiadmin.providers.models import AIModel, AIProvider

    admin, _ = get_user_model().objects.get_or_create(
        username="benchmark", defaults={"is_staff": True, "is_superuser": True}
    )
    AIProvider.objects.filter(slug="bench-fake").delete()
    provider = AIProvider.objects.create(
        slug="bench-fake",
        name="Benchmark fake",
        adapter="openai",
        api_base_url=openai_base_url,
        capabilities={"chat": {"supported": True, "dynamic_models": True}},
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
        shared_api_key=API_KEY,
    )
    AIModel.objects.create(provider=provider, capability="chat", model_id=MODEL, is_active=True)
    return admin, provider


async def raw_call(client, url: str) -> float:
    started = time.perf_counter()
    response = await client.post(
        f"{url}/chat/completions",
        json={"model": MODEL, "messages": MESSAGES},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    response.raise_for_status()
    response.json()["choices"][0]["message"]["content"]
    return time.perf_counter() - started


async def raw_first_token(client, url: str) -> float:
    started = time.perf_counter()
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    async with client.stream(
        "POST", f"{url}/chat/completions", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as response:
        first = None
        async for line in response.aiter_lines():
            if first is None and line.startswith("data: {") and _has_text(line[6:]):
                first = time.perf_counter() - started
    return first


def _has_text(data: str) -> bool:
    choices = json.loads(data).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


async def service_call(service, admin) -> float:
    started = time.perf_counter()
    await service.achat("Say hello in five words.", admin, provider_slug="bench-fake")
    return time.perf_counter() - started


async def service_first_token(service, admin) -> float:
    started = time.perf_counter()
    first = None
    async for item in service.astream_chat("Say hello in five words.", admin, provider_slug="bench-fake"):
        if first is None and isinstance(item, str) and item:
            first = time.perf_counter() - started
    return first


async def litellm_call(litellm, url: str) -> float:
    started = time.perf_counter()
    response = await litellm.acompletion(model=f"openai/{MODEL}", messages=MESSAGES, api_base=url, api_key=API_KEY)
    response.choices[0].message.content
    return time.perf_counter() - started


async def litellm_first_token(litellm, url: str) -> float:
    started = time.perf_counter()
    first = None
    stream = await litellm.acompletion(
        model=f"openai/{MODEL}", messages=MESSAGES, api_base=url, api_key=API_KEY, stream=True
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    return first


def load_litellm():
    # LiteLLM would otherwise fetch its price list from the internet at import time.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    try:
        import litellm
    except ImportError:
        return None
    litellm.telemetry = False
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    litellm.suppress_debug_info = True
    return litellm


async def measure(args, openai_base_url: str) -> dict:
    import httpx
    from asgiref.sync import sync_to_async

    from aiadmin.unified import UnifiedAIService

    admin, provider = await sync_to_async(make_provider)(openai_base_url)
    service = UnifiedAIService()
    litellm = load_litellm()
    results: dict[str, list[float]] = {"raw": [], "service": [], "litellm": []}
    first_token: dict[str, list[float]] = {"raw": [], "service": [], "litellm": []}
    async with httpx.AsyncClient(timeout=30) as client:
        chat_clients = {
            "raw": lambda: raw_call(client, openai_base_url),
            "service": lambda: service_call(service, admin),
            "litellm": lambda: litellm_call(litellm, openai_base_url),
        }
        stream_clients = {
            "raw": lambda: raw_first_token(client, openai_base_url),
            "service": lambda: service_first_token(service, admin),
            "litellm": lambda: litellm_first_token(litellm, openai_base_url),
        }
        if litellm is None:
            del chat_clients["litellm"], stream_clients["litellm"]
        await interleave(chat_clients, results, args.warmup, args.calls, service)
        await interleave(stream_clients, first_token, args.warmup, args.stream_calls, service)
    ledger = await sync_to_async(measure_ledger_writes)(provider, admin, args.ledger_writes)
    rows = await sync_to_async(provider.requests.count)()
    return {"chat": results, "first_token": first_token, "ledger": ledger, "ledger_rows": rows, "litellm": litellm}


async def interleave(clients, into, warmup: int, calls: int, service) -> None:
    """Call the clients in turn, rotating who goes first so order effects hit all alike.
    Deferred work (the service's ledger write, LiteLLM's logging tasks) is let finish between
    calls, outside the timed region, so it cannot slow whoever comes next."""
    names = list(clients)
    for index in range(warmup + calls):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = await clients[name]()
            await service.aflush()
            await asyncio.sleep(0)
            if index >= warmup:
                into[name].append(elapsed)


def measure_ledger_writes(provider, admin, count: int) -> list[float]:
    from aiadmin.providers.usage import usage_record

    model = provider.models.get()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        usage_record(
            admin=admin, provider=provider, provider_slug=provider.slug, model=model, model_name=model.model_id,
            capability="chat", key_source="shared", status="ok", latency_ms=10,
        )
        timings.append(time.perf_counter() - started)
    return timings


def report(args, outcome: dict, database: str) -> str:
    ms = 1000.0
    chat = {name: summary(values) for name, values in outcome["chat"].items() if values}
    ttft = {name: summary(values) for name, values in outcome["first_token"].items() if values}
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; database {database}; cache {os.environ.get('REDIS_URL') and 'Redis' or 'local memory'}.",
        f"Upstream: the fake provider in its own process, fixed latency {args.latency_ms} ms; "
        f"{args.calls} non-streamed calls and {args.stream_calls} streamed calls per client, interleaved.",
        "",
        "| non-streamed chat | p50 ms | p95 ms | overhead p50 ms | overhead p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, label in (("raw", "raw httpx"), ("service", "UnifiedAIService.achat"), ("litellm", "litellm.acompletion")):
        if name not in chat:
            continue
        over50 = (chat[name]["p50"] - chat["raw"]["p50"]) * ms
        over95 = (chat[name]["p95"] - chat["raw"]["p95"]) * ms
        lines.append(
            f"| {label} | {chat[name]['p50'] * ms:.2f} | {chat[name]['p95'] * ms:.2f} | "
            f"{'—' if name == 'raw' else f'{over50:.2f}'} | {'—' if name == 'raw' else f'{over95:.2f}'} |"
        )
    lines += ["", "| time to first streamed token | p50 ms | p95 ms | added p50 ms |", "| --- | ---: | ---: | ---: |"]
    for name, label in (("raw", "raw httpx"), ("service", "UnifiedAIService.astream_chat"), ("litellm", "litellm.acompletion(stream=True)")):
        if name not in ttft:
            continue
        added = (ttft[name]["p50"] - ttft["raw"]["p50"]) * ms
        lines.append(
            f"| {label} | {ttft[name]['p50'] * ms:.2f} | {ttft[name]['p95'] * ms:.2f} | {'—' if name == 'raw' else f'{added:.2f}'} |"
        )
    paired = [service - raw for service, raw in zip(outcome["chat"]["service"], outcome["chat"]["raw"], strict=True)]
    lines += [
        "",
        f"Paired difference (each service call minus the raw call next to it): p50 {percentile(paired, 50) * ms:.2f} ms, "
        f"p95 {percentile(paired, 95) * ms:.2f} ms.",
    ]
    ledger = summary(outcome["ledger"])
    lines += [
        "",
        f"Ledger write after each call (off the caller's path, timed alone): p50 {ledger['p50'] * ms:.2f} ms, "
        f"p95 {ledger['p95'] * ms:.2f} ms. Ledger rows written by the run: {outcome['ledger_rows']}.",
    ]
    if "litellm" in chat:
        ours = (chat["service"]["p50"] - chat["raw"]["p50"]) * ms
        theirs = (chat["litellm"]["p50"] - chat["raw"]["p50"]) * ms
        if ours > 0:
            lines.append(f"LiteLLM's p50 overhead is {theirs / ours:.1f}x the service's ({theirs:.2f} ms vs {ours:.2f} ms).")
        else:
            lines.append(
                f"The service's p50 is not measurably above the raw call ({ours:.2f} ms); LiteLLM adds {theirs:.2f} ms."
            )
        if outcome["litellm"] is not None:
            lines.append(f"LiteLLM version: {getattr(outcome['litellm'], 'version', None) or _litellm_version()}.")
    else:
        lines.append("LiteLLM is not installed: run `make bench` to include it.")
    return "\n".join(lines)


def _litellm_version() -> str:
    from importlib.metadata import version

    return version("litellm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--stream-calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--ledger-writes", type=int, default=300)
    parser.add_argument("--json", type=Path, help="Also write the raw timings here.")
    args = parser.parse_args()

    fake, base_url = start_fake_provider(args.latency_ms)
    database_url = os.environ.get("DATABASE_URL")
    tmp = None
    if not database_url:
        tmp = tempfile.TemporaryDirectory()
        database_url = f"sqlite:///{tmp.name}/bench.sqlite3"
    try:
        setup_django(database_url)
        from django.db import connection

        outcome = asyncio.run(measure(args, f"{base_url}/openai/v1"))
        print(report(args, outcome, connection.vendor))
        if args.json:
            args.json.write_text(json.dumps({k: v for k, v in outcome.items() if k != "litellm"}, indent=1))
    finally:
        fake.stdin.close()
        fake.wait(timeout=10)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
