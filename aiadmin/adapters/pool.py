"""A connection pool that stays cheap with a thousand concurrent streams.

httpcore's pool walks every one of its connections (and polls each idle socket) whenever a
request starts or a response closes, so its cost per request grows with the number of open
connections: with 1,000 concurrent streams through one pool, that bookkeeping was most of the
worker's CPU (docs/benchmarks.md). :class:`ShardedTransport` keeps several small pools and
sends each request to the first one with room, so one admin's requests all reuse the first
pool's warm connections and only a crowd spills into the next ones.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

# Connections per pool: small enough that httpcore's scans stay cheap, large enough that
# ordinary traffic never leaves the first pool.
SHARD_CONNECTIONS = 8


class ShardedTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, *, max_connections: int, keepalive_expiry: float | None, shard_connections: int = SHARD_CONNECTIONS
    ) -> None:
        self._count = max(1, -(-max_connections // shard_connections))  # ceiling division
        shard_size = min(max_connections, shard_connections)
        self._shard_limits = httpx.Limits(
            max_connections=shard_size,
            # httpcore closes an idle connection whenever the pool holds more connections *in
            # all* than the keep-alive limit, so a lower limit here would close each stream's
            # connection as it ends and the next request would dial again. Idle connections
            # still go after ``keepalive_expiry``.
            max_keepalive_connections=shard_size,
            keepalive_expiry=keepalive_expiry,
        )
        self._capacity = self._shard_limits.max_connections
        # Loading the CA bundle costs tens of milliseconds: once, shared by every pool.
        self._ssl_context: ssl.SSLContext | None = None
        self._shards: list[httpx.AsyncHTTPTransport] = []
        self._in_flight: list[int] = []

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Requests started and not yet closed, per pool (for tests and diagnostics)."""
        return tuple(self._in_flight)

    def _pick(self) -> int:
        for index, busy in enumerate(self._in_flight):
            if busy < self._capacity:
                return index
        if len(self._shards) < self._count:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            self._shards.append(httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._shard_limits))
            self._in_flight.append(0)
            return len(self._shards) - 1
        # Every pool is full: wait in the least busy one (its pool timeout applies).
        return min(range(len(self._in_flight)), key=self._in_flight.__getitem__)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._pick()
        self._in_flight[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._in_flight[index] -= 1
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, self, index),
            extensions=response.extensions,
        )

    def _release(self, index: int) -> None:
        self._in_flight[index] -= 1

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """The response body; closing it (which every response does) frees its pool slot once."""

    def __init__(self, stream: httpx.AsyncByteStream, transport: ShardedTransport, index: int) -> None:
        self._stream = stream
        self._transport = transport
        self._index: int | None = index

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The inner iterator itself: no extra generator step per chunk.
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._index is not None:
                self._transport._release(self._index)
                self._index = None
