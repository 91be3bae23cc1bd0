from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

from aiadmin.providers.models import AIProvider

pytest_plugins = ["tests.fakeprovider.fixtures"]


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


FAKE_DNS = {"localhost": ("127.0.0.1",), "intranet.corp.example": ("10.1.2.3",), "rebind.example": ("93.184.215.14", "127.0.0.1")}


@pytest.fixture(autouse=True)
def _no_dns_lookups(monkeypatch):
    """Tests never ask a resolver: names resolve from this table (public address otherwise)."""

    async def resolve(host: str, port: int) -> tuple[str, ...]:
        return FAKE_DNS.get(host, ("93.184.215.14",))

    monkeypatch.setattr("aiadmin.adapters.urlguard._resolve", resolve)


@pytest.fixture(autouse=True, scope="session")
def _close_worker_thread_connections(django_db_setup, django_db_blocker):
    """sync_to_async's shared worker thread keeps its own database connection; close it so the
    test database can be dropped at the end."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
