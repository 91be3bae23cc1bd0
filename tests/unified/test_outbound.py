"""AIADMIN["HTTP_*"] reaches the adapters' shared HTTP client (at start-up and whenever a test
overrides AIADMIN), and the defaults leave it as it was."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from aiadmin.adapters import retries, shared_client
from aiadmin.adapters.errors import AIAdminError
from aiadmin.conf import DEFAULTS
from tests.aiadmin_overrides import aiadmin_override


async def _client_timeout() -> httpx.Timeout:
    try:
        return shared_client.get_client().timeout
    finally:
        await shared_client.aclose_clients()


def test_an_overridden_read_timeout_reaches_the_clients_timeout():
    with aiadmin_override(HTTP_READ_TIMEOUT=7.0, HTTP_CONNECT_TIMEOUT=3.0):
        timeout = asyncio.run(_client_timeout())
        assert (timeout.read, timeout.connect) == (7.0, 3.0)
        assert timeout.write == shared_client.WRITE_TIMEOUT and timeout.pool == shared_client.POOL_TIMEOUT
        assert shared_client.MEDIA_TIMEOUT.connect == 3.0 and shared_client.MEDIA_TIMEOUT.read == shared_client.MEDIA_READ_TIMEOUT
    assert asyncio.run(_client_timeout()).read == DEFAULTS["HTTP_READ_TIMEOUT"] == 120.0


def test_stream_idle_timeout_connections_and_retries_reach_the_adapters():
    with aiadmin_override(HTTP_STREAM_IDLE_TIMEOUT=30.0, HTTP_MAX_CONNECTIONS=16, HTTP_MAX_RETRIES=0):
        assert shared_client.STREAM_IDLE_TIMEOUT == 30.0
        assert shared_client.STREAM_TIMEOUT.read == 30.0 + shared_client.STREAM_READ_SLACK
        assert shared_client.MAX_CONNECTIONS == 16
        assert retries.MAX_RETRIES == 0
    assert (shared_client.STREAM_IDLE_TIMEOUT, shared_client.MAX_CONNECTIONS, retries.MAX_RETRIES) == (90.0, 2048, 2)


def test_a_zero_retries_setting_means_one_attempt():
    attempts = []

    async def send():
        attempts.append(1)
        return httpx.Response(503, request=httpx.Request("GET", "https://api.example.com/"))

    async def no_sleep(delay):
        return None

    with aiadmin_override(HTTP_MAX_RETRIES=0):
        with pytest.raises(AIAdminError):
            asyncio.run(retries.send_with_retries(send, provider="P", sleep=no_sleep))
    assert len(attempts) == 1
