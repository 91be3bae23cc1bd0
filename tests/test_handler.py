"""The ASGI handler runs each request's sync work on one thread of a fixed pool, whose
database connections outlive the request."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from aiadmin.handler import ASGIHandler
from tests.asgi_request import asgi_get


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
    settings.AIADMIN_ASGI_SYNC_THREADS = 2
    application = ASGIHandler()
    statuses = await asyncio.gather(*(asgi_get(application, "/admin/login/") for _ in range(6)))
    assert statuses == [200] * 6
    names = {name for _, name in record_threads}
    assert len(record_threads) == 12
    assert names <= {"django-sync-0_0", "django-sync-1_0"}, names


@pytest.mark.django_db(transaction=True)
async def test_the_database_connection_of_a_sync_thread_outlives_the_request(settings, django_user_model):
    settings.AIADMIN_ASGI_SYNC_THREADS = 1
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
