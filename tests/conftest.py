from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.conf import settings

from aiadmin.adapters import errors
from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import ChatChunk, ChatRequest, ModelInfo, Usage
from aiadmin.providers.models import AIModel, AIProvider

pytest_plugins = ["tests.fakeprovider.fixtures"]

# A host project's source that tests/host/test_host_project.py runs in its own virtual
# environment; never imported here.
collect_ignore = ["host/project"]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    """With CI=true the suite must run on PostgreSQL and Redis, and say so loudly if it can't."""
    if os.environ.get("CI") != "true":
        return
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("CI=true but DATABASE_URL does not select PostgreSQL")
    elif not _reachable(database_url, 5432):
        problems.append(f"PostgreSQL at {urlparse(database_url).netloc} is unreachable")
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        problems.append("CI=true but REDIS_URL is not set")
    elif not _reachable(redis_url, 6379):
        problems.append(f"Redis at {urlparse(redis_url).netloc} is unreachable")
    if problems:
        pytest.exit("Test services missing: " + "; ".join(problems), returncode=3)


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    from aiadmin.unified.routing import routing_clear

    cache.clear()
    routing_clear()
    yield
    cache.clear()
    routing_clear()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("staff", "staff@example.com", "pw-staff-123", is_staff=True)


@pytest.fixture
def other_staff_user(django_user_model):
    return django_user_model.objects.create_user("other", "other@example.com", "pw-other-123", is_staff=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def make_provider(db):
    counter = iter(range(1, 100_000))

    def make(**overrides) -> AIProvider:
        number = next(counter)
        values = {
            "slug": f"provider-{number}",
            "name": f"Provider {number}",
            "adapter": "sandbox",
            "api_base_url": f"https://api{number}.example.com/v1",
            "capabilities": {"chat": {"supported": True, "dynamic_models": True}},
            "sort_order": number,
        }
        values.update(overrides)
        return AIProvider.objects.create(**values)

    return make


FAKE_DNS = {"localhost": ("127.0.0.1",)}


@pytest.fixture(autouse=True)
def _no_dns_lookups(monkeypatch):
    """Tests never ask a resolver, and the URL guard dials only what it resolved: names resolve
    from this table (loopback only) and any other name fails to resolve, as with no network.
    Tests that script names use tests/fake_network.py."""

    async def resolve(host: str, port: int) -> tuple[str, ...]:
        if host in FAKE_DNS:
            return FAKE_DNS[host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (tests resolve no names)")

    monkeypatch.setattr("aiadmin.adapters.urlguard._resolve", resolve)


@pytest.fixture(autouse=True, scope="session")
def _close_worker_thread_connections(django_db_setup, django_db_blocker):
    """sync_to_async's shared worker thread keeps its own database connection; close it so the
    test database can be dropped at the end."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)

class ScriptedAdapter(BaseAdapter):
    """A test adapter driven by its provider config: ``{"script": {...}}``.

    It behaves like a real one (key required, base URL checked) without any HTTP, so service
    tests can drive every path; the fake HTTP provider covers the wire formats.
    """

    key = "scripted"
    label = "Scripted (tests)"
    capabilities = frozenset({"chat", "content", "image", "audio"})
    calls: list[str] = []
    lists_fail = False  # flips an already cached provider into failing, config unchanged

    def _script(self) -> dict:
        return self.config.get("script", {})

    async def list_models(self) -> list[ModelInfo]:
        ScriptedAdapter.calls.append("list_models")
        await asyncio.sleep(self._script().get("list_delay", 0))
        if self._script().get("list_fails") or ScriptedAdapter.lists_fail:
            raise errors.ProviderConnectionError(provider=self.provider_name)
        prices = self._script().get("prices", {})  # {model id: [input, output] per million tokens}
        return [
            ModelInfo(
                id=model_id,
                name=model_id.title(),
                capabilities=frozenset({"chat", "content"}),
                is_free=model_id.endswith(":free"),
                pricing_input=Decimal(prices[model_id][0]) if model_id in prices else None,
                pricing_output=Decimal(prices[model_id][1]) if model_id in prices else None,
            )
            for model_id in self._script().get("models", ["alpha", "beta", "gamma:free"])
        ]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        ScriptedAdapter.calls.append(f"chat:{request.model}:{self.api_key}")
        script = self._script()
        if script.get("raise"):
            kind = getattr(errors, script["raise"])
            # Like a careless provider, echo the key back in the error text.
            raise kind(errors.redact(f"upstream said: bad key {self.api_key}", self.api_key), provider=self.provider_name)
        for word in script.get("words", ["Hello", " world"]):
            await asyncio.sleep(script.get("delay", 0))
            yield ChatChunk(word)
        yield Usage(input_tokens=10, output_tokens=20)


@pytest.fixture
def scripted_adapter():
    registry.register(ScriptedAdapter, replace=True)
    ScriptedAdapter.calls = []
    ScriptedAdapter.lists_fail = False
    yield ScriptedAdapter
    registry.unregister("scripted")


@pytest.fixture
def scripted_provider(make_provider, scripted_adapter):
    def make(*, model: str | None = "alpha", script: dict | None = None, **overrides):
        overrides.setdefault("api_base_url", "https://api.scripted.example/v1")
        provider = make_provider(
            adapter="scripted",
            capabilities={c: {"supported": True, "dynamic_models": True} for c in ("chat", "content", "image", "audio")},
            config={"script": script or {}},
            **overrides,
        )
        if model:
            AIModel.objects.create(
                provider=provider, capability="chat", model_id=model, is_active=True, pricing_input=2, pricing_output=8
            )
        return provider

    return make
