"""The shared client: one per event loop, built from the named constants, reconfigurable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from aiadmin.adapters import shared_client
from aiadmin.adapters.errors import AIAdminError
from aiadmin.adapters.openai import OpenAIAdapter
from aiadmin.adapters.shared_client import aclose_clients, client_configure, get_client, run_sync, set_transport_for_tests
from aiadmin.adapters.types import ChatMessage, ChatRequest

URL = "https://api.example.com/v1/chat/completions"


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


@pytest.fixture
async def mock_network() -> AsyncIterator[None]:
    set_transport_for_tests(httpx.MockTransport(_ok))
    yield
    await aclose_clients()
    set_transport_for_tests(None)


@pytest.fixture
def restore_configuration() -> Iterator[None]:
    before = {
        "connect_timeout": shared_client.CONNECT_TIMEOUT,
        "read_timeout": shared_client.READ_TIMEOUT,
        "stream_idle_timeout": shared_client.STREAM_IDLE_TIMEOUT,
        "max_connections": shared_client.MAX_CONNECTIONS,
    }
    yield
    client_configure(**before)


async def test_shared_client_is_configured_from_the_named_constants(mock_network):
    client = get_client()
    assert client.follow_redirects is False
    assert client.timeout.connect == shared_client.CONNECT_TIMEOUT
    assert client.timeout.read == shared_client.READ_TIMEOUT
    assert client.timeout.write == shared_client.WRITE_TIMEOUT
    assert client.timeout.pool == shared_client.POOL_TIMEOUT


async def test_get_client_returns_one_client_per_loop(mock_network):
    assert get_client() is get_client()


def test_each_event_loop_gets_its_own_client_and_run_sync_closes_it():
    set_transport_for_tests(httpx.MockTransport(_ok))
    try:

        async def grab() -> httpx.AsyncClient:
            client = get_client()
            await client.get(URL)
            return client

        first = run_sync(grab)
        second = run_sync(grab)
        assert first is not second
        assert first.is_closed and second.is_closed
    finally:
        set_transport_for_tests(None)


def test_get_client_outside_a_loop_is_an_error():
    with pytest.raises(RuntimeError):
        get_client()


async def test_aclose_clients_closes_and_forgets_this_loops_client(mock_network):
    client = get_client()
    await aclose_clients()
    assert client.is_closed
    assert get_client() is not client


# --- client_configure -------------------------------------------------------------------------


async def test_client_configure_replaces_the_timeouts_and_the_next_client_uses_them(mock_network, restore_configuration):
    before = get_client()
    client_configure(connect_timeout=3, read_timeout=40, stream_idle_timeout=30, max_connections=16)
    assert (shared_client.CONNECT_TIMEOUT, shared_client.READ_TIMEOUT) == (3.0, 40.0)
    assert shared_client.STREAM_IDLE_TIMEOUT == 30.0
    assert shared_client.MAX_CONNECTIONS == 16
    assert shared_client.DEFAULT_TIMEOUT == httpx.Timeout(connect=3, read=40, write=shared_client.WRITE_TIMEOUT, pool=shared_client.POOL_TIMEOUT)
    assert shared_client.MEDIA_TIMEOUT.connect == 3 and shared_client.MEDIA_TIMEOUT.read == shared_client.MEDIA_READ_TIMEOUT
    assert shared_client.STREAM_TIMEOUT.connect == 3 and shared_client.STREAM_TIMEOUT.read == 30 + shared_client.STREAM_READ_SLACK
    client = get_client()
    assert client is not before  # a client built before would keep the old default timeout
    assert (client.timeout.connect, client.timeout.read) == (3.0, 40.0)


async def test_client_configure_sizes_the_pool_of_the_next_client(monkeypatch, restore_configuration):
    built: list[dict[str, Any]] = []

    class RecordingTransport(httpx.MockTransport):
        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)
            super().__init__(_ok)

    monkeypatch.setattr(shared_client, "AiohttpTransport", RecordingTransport)
    set_transport_for_tests(None)
    client_configure(connect_timeout=3, read_timeout=40, stream_idle_timeout=30, max_connections=16)
    get_client()
    await aclose_clients()
    assert built and built[-1]["max_connections"] == 16


async def test_adapters_send_with_the_configured_timeouts(mock_upstream, restore_configuration):
    seen: list[dict[str, float]] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(400, json={"error": {"message": "no"}})

    mock_upstream(refuse)
    client_configure(connect_timeout=3, read_timeout=40, stream_idle_timeout=30, max_connections=16)
    adapter = OpenAIAdapter(base_url="https://api.example.com/v1", api_key="sk-test", config={}, provider_name="P")
    request = ChatRequest(model="m", messages=(ChatMessage("user", "Hi"),))
    with pytest.raises(AIAdminError):
        await adapter.chat(request)
    with pytest.raises(AIAdminError):
        async for _ in adapter.stream_chat(request):
            pass
    assert [(timeout["connect"], timeout["read"]) for timeout in seen] == [(3.0, 40.0), (3.0, 30 + shared_client.STREAM_READ_SLACK)]


@pytest.mark.parametrize(
    "bad",
    [
        {"connect_timeout": 0},
        {"read_timeout": -1},
        {"stream_idle_timeout": float("nan")},
        {"max_connections": 0},
        {"max_connections": 2.5},
        {"max_connections": True},
    ],
)
def test_client_configure_refuses_values_that_cannot_work(bad, restore_configuration):
    values = {"connect_timeout": 3, "read_timeout": 40, "stream_idle_timeout": 30, "max_connections": 16, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        client_configure(**values)
    assert shared_client.MAX_CONNECTIONS != 16  # nothing was half applied


async def test_transport_override_is_reset_after_each_test():
    # Runs after tests that installed a fake server: none of them may leak it.
    assert shared_client._test_transport is None
    await asyncio.sleep(0)


async def test_the_shared_client_runs_on_the_guarded_aiohttp_transport():
    from aiadmin.adapters.aiohttp_transport import AiohttpTransport

    set_transport_for_tests(None)
    client = get_client()
    try:
        assert isinstance(client._transport, AiohttpTransport)
    finally:
        await aclose_clients()
