"""A connection pool that stays cheap with a thousand concurrent streams.

httpcore's pool walks every one of its connections (and polls each idle socket) whenever a
request starts or a response closes, so its cost per request grows with the number of open
connections: with 1,000 concurrent streams through one pool, that bookkeeping was most of the
worker's CPU (docs/benchmarks.md). :class:`ShardedTransport` keeps several small pools and
sends each request to the first one with room, so one admin's requests all reuse the first
pool's warm connections and only a crowd spills into the next ones.

Every connection is dialled through the URL guard (aiadmin/adapters/guarded_backend.py), so
calls, streams, model lists, key checks and image downloads all pass the same check.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

from .guarded_backend import GuardedNetworkBackend
from .urlguard import allows_private_network

# Connections per pool: small enough that httpcore's scans stay cheap, large enough that
# ordinary traffic never leaves the first pool.
SHARD_CONNECTIONS = 8


class GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over an httpcore pool that dials through :class:`GuardedNetworkBackend`.

    httpx 0.28 builds its ``httpcore.AsyncConnectionPool`` itself and takes no network backend,
    so the pool it builds is replaced by the same pool with the guarded backend; httpx's request
    conversion and exception mapping are kept as they are.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits, allow_private_network: bool) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            # Fail loudly rather than send requests around the guard.
            raise RuntimeError(
                "httpx.AsyncHTTPTransport no longer keeps its pool in _pool; the URL guard cannot be installed."
            )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private_network=allow_private_network),
        )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Every request goes through the URL guard; its policy (``allow_private_network`` marked
    on the request, strict otherwise) picks one of two separate sets of pools, so a connection
    opened where private addresses are allowed is never reused by a request where they are not.
    Each set has its own connection cap."""

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
        # Pool ids in creation order, per policy (key: private addresses allowed).
        self._policy_shards: dict[bool, list[int]] = {False: [], True: []}
        self._shards: list[httpx.AsyncHTTPTransport] = []
        self._in_flight: list[int] = []

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Requests started and not yet closed, per pool in creation order (for tests and
        diagnostics)."""
        return tuple(self._in_flight)

    def shards_for(self, *, allow_private_network: bool) -> tuple[int, ...]:
        """The pools (indexes into :attr:`in_flight`) that serve one policy."""
        return tuple(self._policy_shards[allow_private_network])

    def _pick(self, allow_private_network: bool) -> int:
        shards = self._policy_shards[allow_private_network]
        for index in shards:
            if self._in_flight[index] < self._capacity:
                return index
        if len(shards) < self._count:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            self._shards.append(
                GuardedHTTPTransport(
                    ssl_context=self._ssl_context,
                    limits=self._shard_limits,
                    allow_private_network=allow_private_network,
                )
            )
            self._in_flight.append(0)
            shards.append(len(self._shards) - 1)
            return shards[-1]
        # Every pool is full: wait in the least busy one (its pool timeout applies).
        return min(shards, key=self._in_flight.__getitem__)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._pick(allows_private_network(request.extensions))
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
