"""The sharded connection pool: one warm pool for ordinary traffic, more only for a crowd,
and never more connections in all than the limit."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from aiadmin.adapters.errors import ConfigurationError
from aiadmin.adapters.pool import ShardedTransport
from aiadmin.adapters.urlguard import request_policy
from tests.fake_network import FakeNetwork, LoopbackServer, fake_network, loopback  # noqa: F401
from tests.fakeprovider.server import FakeProviderServer

HEADERS = {"Authorization": "Bearer test-key"}
# The fake provider listens on loopback, which only the private-network policy may reach.
PRIVATE = request_policy(allow_private_network=True)


@pytest.fixture(scope="module")
def fake():
    with FakeProviderServer() as server:
        yield server


def stream_request(client: httpx.AsyncClient, fake: FakeProviderServer) -> httpx.Request:
    body = {"model": "paced-3x50", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    return client.build_request("POST", f"{fake.openai_base_url}/chat/completions", json=body, headers=HEADERS, extensions=PRIVATE)


async def test_sequential_requests_stay_on_the_first_pool(fake):
    transport = ShardedTransport(max_connections=8, keepalive_expiry=5.0, shard_connections=2)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(5):
            response = await client.get(f"{fake.openai_base_url}/models", headers=HEADERS, extensions=PRIVATE)
            assert response.status_code == 200
        assert transport.in_flight == (0,), "only the first pool was ever made"


async def test_concurrent_streams_spill_into_a_second_pool_and_free_their_slots_on_close(fake):
    transport = ShardedTransport(max_connections=4, keepalive_expiry=5.0, shard_connections=2)
    async with httpx.AsyncClient(transport=transport) as client:
        responses = [await client.send(stream_request(client, fake), stream=True) for _ in range(3)]
        assert transport.in_flight == (2, 1)
        for response in responses:
            chunks = [chunk async for chunk in response.aiter_bytes()]
            assert b"[DONE]" in b"".join(chunks)
            await response.aclose()
        assert transport.in_flight == (0, 0)


async def test_a_failed_request_frees_its_slot(fake):
    transport = ShardedTransport(max_connections=2, keepalive_expiry=5.0, shard_connections=2)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:9/unreachable", extensions=PRIVATE)
        assert transport.in_flight == (0,)


async def test_the_total_limit_holds_when_every_pool_is_full(fake):
    transport = ShardedTransport(max_connections=2, keepalive_expiry=5.0, shard_connections=1)
    timeout = httpx.Timeout(5.0, pool=0.2)
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        open_streams = [await client.send(stream_request(client, fake), stream=True) for _ in range(2)]
        assert transport.in_flight == (1, 1)
        with pytest.raises(httpx.PoolTimeout):
            await client.send(stream_request(client, fake), stream=True)
        await asyncio.gather(*(response.aclose() for response in open_streams))
        assert transport.in_flight == (0, 0)


async def test_a_connection_opened_where_private_addresses_are_allowed_is_never_reused_by_a_strict_request(
    fake_network: FakeNetwork, loopback: LoopbackServer
):
    fake_network.answer("selfhosted.test", ("127.0.0.1",))
    transport = ShardedTransport(max_connections=8, keepalive_expiry=5.0)
    url = f"http://selfhosted.test:{loopback.port}/v1/models"
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(url, extensions=PRIVATE)).status_code == 200
        with pytest.raises(ConfigurationError):
            await client.get(url)  # unmarked: the strict policy
        with pytest.raises(ConfigurationError):
            await client.get(url, extensions=request_policy(allow_private_network=False))
        assert (await client.get(url, extensions=PRIVATE)).status_code == 200
    assert loopback.connections == 1 and len(loopback.heads) == 2  # the kept-alive one, reused
    assert transport.shards_for(allow_private_network=True) == (0,)
    assert transport.shards_for(allow_private_network=False) == (1,)
    assert transport.in_flight == (0, 0)
