"""Benchmark of the console pages, server side: the cards page with 100 providers and the
model-browser partial for a cached list of 400 models (``make bench-console``).

Server time is the time the console's ASGI application takes to answer, driven in-process
the way uvicorn drives it (``standalone.asgi.application`` on a uvloop loop, its sync thread,
middleware, session and templates included; no socket), p50 and p95 over ``--requests``
requests. The header names the database and cache it measured.

Database: a throwaway SQLite file, or with DATABASE_URL (PostgreSQL) a throwaway database on
that server, created and migrated for the run and dropped after it, as the test runner does
(the user needs CREATEDB; the URL's own database is never touched). Cache: the local-memory
cache, or with REDIS_URL that Redis under a key prefix of the run's own, its keys deleted
after it. For example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aiadmin REDIS_URL=redis://127.0.0.1:6379/8 make bench-console
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.asgi_request import asgi_get  # noqa: E402  (the repository root is on the path now)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def calibration_ms() -> float:
    """A fixed pure-Python loop, best of three: how fast this machine runs Python right now.
    The same page takes half as long again on a slow day of a shared VM; this tells them apart."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best * 1000


def setup(database_url: str) -> str:
    """Django on ``database_url``, migrated. A server database (not SQLite) is replaced by a
    throwaway one on the same server (:func:`teardown` drops it); the cache gets a key prefix
    of this run's own (:func:`teardown` deletes its keys). Returns the URL's database name."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "standalone.settings.dev")
    os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings

    django.setup()
    run = f"bench_console_{os.getpid()}"
    # Before anything opens the cache: the handler reads CACHES on first use.
    settings.CACHES["default"]["KEY_PREFIX"] = f"aiadmin_{run}"
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = run
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return original_name


def teardown(original_name: str) -> None:
    from django.core.cache import cache
    from django.db import connection

    if hasattr(cache, "delete_pattern"):  # django-redis: only this run's prefix
        cache.delete_pattern("*")
    else:
        cache.clear()
    if connection.vendor == "postgresql":
        # The ASGI handler's threads keep their connections open (CONN_MAX_AGE), and a
        # database with sessions cannot be dropped: end them first.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    if connection.vendor != "sqlite":
        connection.creation.destroy_test_db(original_name, verbosity=0)


def measured_on() -> str:
    """The database and cache, without credentials: "postgresql (throwaway database x on
    host:port), cache redis (host:port/db)"."""
    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict
    if connection.vendor == "sqlite":
        where = "sqlite (a throwaway file)"
    else:
        server = database.get("HOST") or "the local socket"
        server += f":{database['PORT']}" if database.get("PORT") else ""
        where = f"{connection.vendor} (throwaway database {database['NAME']} on {server})"
    backend = settings.CACHES["default"]["BACKEND"]
    if "redis" in backend.lower():
        location = urlsplit(settings.CACHES["default"]["LOCATION"])
        cache = f"redis ({location.hostname}:{location.port or 6379}{location.path or '/0'})"
    else:
        cache = backend.rsplit(".", 1)[-1]
    return f"database {where}, cache {cache}"


def seed(providers: int, models: int, needs_key: int = 0):
    from django.contrib.auth import get_user_model

    from aiadmin.adapters.types import ModelInfo
    from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider
    from aiadmin.unified.model_lists import cache_keys, key_identity, provider_fingerprint, serialise

    admin, _ = get_user_model().objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    AIProvider.objects.filter(slug__startswith="bench-").delete()
    capabilities = {c: {"supported": True, "dynamic_models": True} for c in ("chat", "content", "image", "audio")}
    # The last ``needs_key`` providers are OpenAI-compatible rows without a key: the cards page
    # shows them as compact tiles under "Needs a key or setup".
    keyed = {"adapter": "openai", "api_base_url": "https://api.example.com/v1", "config": {"auth": {"style": "bearer"}}}
    keyless = {"adapter": "sandbox", "config": {}}
    rows = AIProvider.objects.bulk_create(
        AIProvider(
            slug=f"bench-{n:03d}", name=f"Bench provider {n}", capabilities=capabilities, sort_order=n, total_requests=n,
            **(keyed if n >= providers - needs_key else keyless),
        )
        for n in range(providers)
    )
    AIModel.objects.bulk_create(
        AIModel(provider=row, capability=capability, model_id=f"{capability}-model", is_active=True)
        for row in rows for capability in ("chat", "image")
    )
    AdminProviderSettings.objects.bulk_create(AdminProviderSettings(admin=admin, provider=row) for row in rows)
    listed = [
        ModelInfo(
            id=f"vendor/model-{n:03d}", name=f"Model {n:03d}", capabilities=frozenset({"chat", "content"}),
            description="A model for the benchmark with a description of ordinary length.", is_free=n % 5 == 0,
            pricing_input=Decimal("0.5"), pricing_output=Decimal("1.5"), context_window=128_000,
        )
        for n in range(models)
    ]
    first = rows[0]
    fresh, last_good = cache_keys(
        provider_id=first.pk,
        fingerprint=provider_fingerprint(adapter=first.adapter, base_url=first.api_base_url, config=first.config),
        identity=key_identity(None),
    )
    from django.core.cache import cache

    entry = {"fetched_at": time.time(), "models": serialise(listed)}
    cache.set(fresh, entry, 3600)
    cache.set(last_good, entry, 3600)
    return admin, first


async def timed(application, path: str, count: int, headers, before=None) -> list[float]:
    timings = []
    for _ in range(count):
        if before is not None:
            before()
        started = time.perf_counter()
        status = await asgi_get(application, path, host="127.0.0.1", headers=headers)
        timings.append(time.perf_counter() - started)
        assert status == 200, status
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--models", type=int, default=400)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--needs-key", type=int, default=0, help="how many of the providers need a key (compact tiles)")
    args = parser.parse_args()
    tmp = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        tmp = tempfile.TemporaryDirectory()
        database_url = f"sqlite:///{tmp.name}/bench.sqlite3"
    original_name = setup(database_url)
    try:
        measure(args)
    finally:
        teardown(original_name)
        if tmp is not None:
            tmp.cleanup()


def measure(args) -> None:
    from django.test import Client
    from django.urls import reverse

    admin, first = seed(args.providers, args.models, args.needs_key)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    cookie = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    from standalone.asgi import application
    from aiadmin.console.card_data import _render_card
    from asgiref.sync import sync_to_async

    try:
        from aiadmin.console.preferences import cards_layout_set
    except ImportError:
        cards_layout_set = None

    cards_url, browser_url = reverse("aiadmin_console:cards"), reverse("aiadmin_console:browser", args=[first.slug, "chat"])

    async def run() -> tuple[list[float], list[float], list[float]]:
        await timed(application, cards_url, 20, cookie)  # warm-up: templates, connections
        cold = await timed(application, cards_url, max(args.requests // 4, 10), cookie, before=_render_card.cache_clear)
        warm = await timed(application, cards_url, args.requests, cookie)
        await timed(application, browser_url, 20, [*cookie, (b"hx-request", b"true")])
        browsing = await timed(application, browser_url, args.requests, [*cookie, (b"hx-request", b"true")])
        table = []
        if cards_layout_set is not None:  # the table layout (absent before issue 10)
            await sync_to_async(cards_layout_set)(admin=admin, layout="table")
            await timed(application, cards_url, 20, cookie)
            table = await timed(application, cards_url, args.requests, cookie)
            await sync_to_async(cards_layout_set)(admin=admin, layout="cards")
        return cold, warm, browsing, table

    cold_cards, cards, browser, table = uvloop.run(run())
    ms = 1000
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{measured_on()}; {args.requests} requests each; "
        f"calibration loop {calibration_ms():.0f} ms (lower is a faster machine).\n\n"
        "| page | p50 ms | p95 ms |\n| --- | ---: | ---: |\n"
        f"| cards, {args.providers} providers | {percentile(cards, 50) * ms:.1f} | {percentile(cards, 95) * ms:.1f} |\n"
        f"| cards, {args.providers} providers, card cache cold | {percentile(cold_cards, 50) * ms:.1f} | {percentile(cold_cards, 95) * ms:.1f} |\n"
        f"| model browser, cached {args.models}-model list (first page of 25) | {percentile(browser, 50) * ms:.1f} | {percentile(browser, 95) * ms:.1f} |"
        + (f"\n| cards, {args.providers} providers, table layout | {percentile(table, 50) * ms:.1f} | {percentile(table, 95) * ms:.1f} |" if table else "")
    )


if __name__ == "__main__":
    main()
