"""The ASGI handler runs each request's sync work on one thread of a fixed pool, whose
database connections outlive the request."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from aiadmin.handler import ASGIHandler
from tests.aiadmin_overrides import aiadmin_set
from tests.asgi_request import asgi_get, asgi_request


@pytest.fixture
def record_threads():
    seen: list[tuple[str, str]] = []

    def started(**kwargs):
        seen.append(("started", threading.current_thread().name))

    def finished(**kwargs):
        seen.append(("finished", threading.current_thread().name))

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
async def test_concurrent_requests_share_a_fixed_pool_of_sync_threads(settings, record_threads):
    aiadmin_set(settings, ASGI_SYNC_THREADS=2)
    application = ASGIHandler()
    statuses = await asyncio.gather(*(asgi_get(application, "/admin/login/") for _ in range(6)))
    assert statuses == [200] * 6
    names = {name for _, name in record_threads}
    assert len(record_threads) == 12
    assert names <= {"django-sync-0_0", "django-sync-1_0"}, names


@pytest.mark.django_db(transaction=True)
async def test_the_database_connection_of_a_sync_thread_outlives_the_request(settings, django_user_model):
    aiadmin_set(settings, ASGI_SYNC_THREADS=1)
    application = ASGIHandler()

    def query(**kwargs):  # a request's ORM work, on its sync thread
        django_user_model.objects.count()

    request_started.connect(query)
    executor = application.executors[0]

    def connection_id() -> int | None:
        return id(connection.connection) if connection.connection is not None else None

    assert await asgi_get(application, "/admin/login/") == 200
    first = executor.submit(connection_id).result()
    assert await asgi_get(application, "/admin/login/") == 200
    request_started.disconnect(query)
    assert first is not None and executor.submit(connection_id).result() == first
    executor.submit(lambda: connection.close()).result()


class Lifespan:
    """The lifespan scope as a server drives it: one long call, messages in, replies out."""

    def __init__(self, application) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.call = asyncio.ensure_future(
            application({"type": "lifespan", "asgi": {"version": "3.0"}}, self.inbox.get, self.outbox.put)
        )

    async def send(self, kind: str) -> dict:
        self.inbox.put_nowait({"type": kind})
        return await asyncio.wait_for(self.outbox.get(), timeout=30)


@pytest.mark.django_db(transaction=True)
async def test_lifespan_shutdown_writes_the_queued_ledger_rows_and_closes_the_shared_client(make_provider, superuser):
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from aiadmin.adapters import shared_client
    from aiadmin.providers.models import AIRequestLog
    from aiadmin.providers.usage import LedgerEntry
    from aiadmin.unified.ledger import ledger_add

    provider = await sync_to_async(make_provider)()
    server = Lifespan(ASGIHandler())
    assert await server.send("lifespan.startup") == {"type": "lifespan.startup.complete"}
    client = shared_client.get_client()
    for _ in range(3):
        ledger_add(
            LedgerEntry(
                admin=superuser, provider=provider, provider_slug=provider.slug, model=None, model_name="m",
                capability="chat", key_source="none", status="ok", created_at=timezone.now(),
            )
        )
    assert await server.send("lifespan.shutdown") == {"type": "lifespan.shutdown.complete"}
    await server.call  # the lifespan call ends with the shutdown
    assert await AIRequestLog.objects.acount() == 3
    assert client.is_closed


async def test_a_startup_check_error_is_reported_as_a_failed_startup_not_raised(settings):
    aiadmin_set(settings, ENCRYPTION_KEYS=["not-a-fernet-key"])
    server = Lifespan(ASGIHandler())
    reply = await server.send("lifespan.startup")
    assert reply["type"] == "lifespan.startup.failed"
    assert "aiadmin.E001" in reply["message"] and 'AIADMIN["ENCRYPTION_KEYS"]' in reply["message"]
    await server.call  # ended, without raising


@pytest.mark.django_db(transaction=True)
async def test_the_http_api_skips_the_browser_only_middleware_and_keeps_the_rest():
    application = ASGIHandler()
    assert application.api_prefix() == "/v1/"
    status, headers = await asgi_request(application, "/v1/models", host="127.0.0.1")
    assert status == 401
    # Security headers still apply; session, CSRF, framing and page policies do not.
    assert headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in headers and "content-security-policy" not in headers
    assert "vary" not in headers or "cookie" not in headers["vary"].lower()
    status, headers = await asgi_request(application, "/admin/login/", host="127.0.0.1")
    assert status == 200
    assert headers["x-frame-options"] == "DENY" and "content-security-policy" in headers


@pytest.mark.django_db(transaction=True)
async def test_a_request_skips_request_started_only_while_its_receivers_are_djangos(record_threads):
    application = ASGIHandler()
    # record_threads connected a receiver of the host's own: requests send the signal as usual.
    status, _ = await asgi_request(application, "/v1/models", host="127.0.0.1")
    assert status == 401
    status, _ = await asgi_request(application, "/admin/login/", host="127.0.0.1")
    assert status == 200
    assert [event for event, _ in record_threads] == ["started", "finished"] * 2


@pytest.mark.django_db(transaction=True)
async def test_a_request_with_only_djangos_receivers_skips_request_started_not_request_finished(monkeypatch):
    sent = []
    real_asend = request_started.asend

    async def counting_asend(*args, **kwargs):
        sent.append("started")
        return await real_asend(*args, **kwargs)

    monkeypatch.setattr(request_started, "asend", counting_asend)
    finished_in = []

    def finished(**kwargs):
        finished_in.append(threading.current_thread().name)

    application = ASGIHandler()
    request_finished.connect(finished)
    try:
        for path, expected in (("/v1/models", 401), ("/admin/login/", 200)):  # the HTTP API and the console
            status, _ = await asgi_request(application, path, host="127.0.0.1")
            assert status == expected and sent == []
        # ... and their connections are still checked when they end, in their pool thread.
        assert len(finished_in) == 2 and all(name.startswith("django-sync-") for name in finished_in)
    finally:
        request_finished.disconnect(finished)
