"""AIADMIN["HTTP_*"] reaches the adapters' shared HTTP client (set on its module constants at
start-up and whenever a test overrides AIADMIN), and the defaults leave it as it was."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from aiadmin.adapters import http, openai
from aiadmin.adapters.errors import AIAdminError
from aiadmin.conf import DEFAULTS
from tests.aiadmin_overrides import aiadmin_override


async def _client_timeout() -> httpx.Timeout:
    try:
        return http.get_client().timeout
    finally:
        await http.aclose_clients()


def test_an_overridden_read_timeout_reaches_the_clients_timeout():
    with aiadmin_override(HTTP_READ_TIMEOUT=7.0, HTTP_CONNECT_TIMEOUT=3.0):
        timeout = asyncio.run(_client_timeout())
        assert (timeout.read, timeout.connect) == (7.0, 3.0)
        assert timeout.write == http.WRITE_TIMEOUT and timeout.pool == http.POOL_TIMEOUT
        # Adapters that imported the timeout by name use the new one too.
        assert openai.DEFAULT_TIMEOUT.read == 7.0 and openai.MEDIA_TIMEOUT.connect == 3.0
        assert openai.MEDIA_TIMEOUT.read == http.MEDIA_READ_TIMEOUT
    assert asyncio.run(_client_timeout()).read == DEFAULTS["HTTP_READ_TIMEOUT"] == 120.0


def test_stream_idle_timeout_connections_and_retries_reach_the_adapters():
    with aiadmin_override(HTTP_STREAM_IDLE_TIMEOUT=30.0, HTTP_MAX_CONNECTIONS=16, HTTP_MAX_RETRIES=0):
        assert http.STREAM_IDLE_TIMEOUT == openai.STREAM_IDLE_TIMEOUT == 30.0
        assert openai.STREAM_TIMEOUT.read == 30.0 + http.STREAM_READ_SLACK
        assert http.MAX_CONNECTIONS == 16
        assert http.send_with_retries.__kwdefaults__["max_retries"] == 0
    assert (http.STREAM_IDLE_TIMEOUT, http.MAX_CONNECTIONS, http.MAX_RETRIES) == (90.0, 2048, 2)
    assert http.send_with_retries.__kwdefaults__["max_retries"] == 2


def test_a_zero_retries_setting_means_one_attempt():
    attempts = []

    async def send():
        attempts.append(1)
        return httpx.Response(503, request=httpx.Request("GET", "https://api.example.com/"))

    async def no_sleep(delay):
        return None

    with aiadmin_override(HTTP_MAX_RETRIES=0):
        with pytest.raises(AIAdminError):
            asyncio.run(http.send_with_retries(send, provider="P", sleep=no_sleep))
    assert len(attempts) == 1
