"""httpx's transport interface over aiohttp's client: the shared client's network layer.

Adapters keep httpx's API (requests, streamed responses, its exception types); underneath,
aiohttp's connection pool and C HTTP parser do the work for about half the CPU of httpcore's
per streamed answer (docs/benchmarks.md). What this transport guarantees, each tested in
tests/adapters/test_aiohttp_transport.py:

* **The URL guard on every connection.** Two separate aiohttp sessions, one per address policy
  (``allow_private_network`` marked on the request, strict otherwise), each with its own
  connector and a :class:`~.guarded_resolver.GuardedResolver` of that policy, so a connection
  opened where private addresses are allowed is never reused by a strict request. IP literals,
  which aiohttp never hands to a resolver, are checked here. A refusal is raised as
  :class:`~.errors.ConfigurationError`, as before.
* **Nothing done behind the caller's back.** No redirects, no cookies kept between requests, no
  proxy or netrc from the environment, no decompression (the adapters inflate in bounded steps,
  aiadmin/adapters/content_coding.py), no headers added: the request goes out as httpx built it.
* **Bounded reads.** Status and header lines, the number of headers, and each body read
  (:data:`READ_CHUNK_BYTES`) are capped; aiohttp stops reading the socket while a response's
  buffer is full.
* **httpx's timeouts, one for one.** ``pool``: waiting for one of the policy's
  ``max_connections`` slots (:class:`httpx.PoolTimeout`); ``connect``: resolving, dialling and
  the TLS handshake; ``read``: the longest silence while waiting for the answer or between body
  reads, started once the request is sent; ``write``: each 64 KiB of the request body.
* **Closing an unfinished response closes its connection** (at once, not returned to the pool),
  so the provider sees the disconnect and stops generating; a response read to the end goes
  back to the pool.
* **httpx's exception types** for aiohttp's errors (:func:`_mapped_errors`), so the one
  mapping to the error tree (aiadmin/adapters/error_mapping.py) and the retry rules stay as
  they are: only failures before anything was sent count as connect errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import is_ip_address
from aiohttp.payload import Payload
from yarl import URL

from .errors import ProviderConnectionError
from .guarded_resolver import GuardedResolver
from .urlguard import addresses_to_dial, allows_private_network

# The most one body read hands over (as httpcore did), so the bounded inflater's steps stay small.
READ_CHUNK_BYTES = 64 * 1024
# The status line and each header line; aiohttp's defaults, named. A longer one is a protocol
# error, not a reason to buffer more.
MAX_LINE_BYTES = 8190
MAX_HEADERS = 128
# Request bodies are written (and their write timeout applied) in pieces of this size; a
# smaller body fits aiohttp's write buffer and never waits.
WRITE_CHUNK_BYTES = 64 * 1024

# aiohttp would add Accept, Accept-Encoding, User-Agent and a default Content-Type; httpx has
# already built every header the request should carry.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
# Framing is aiohttp's to write: it chunks a body of unknown length itself.
_DROPPED_REQUEST_HEADERS = frozenset({"transfer-encoding"})

_ssl_context: ssl.SSLContext | None = None
_ssl_context_lock = threading.Lock()


def shared_ssl_context() -> ssl.SSLContext:
    """httpx's verifying TLS context (its CA bundle), loaded once per process on first use:
    loading the bundle costs tens of milliseconds, and plain-http use never needs it."""
    global _ssl_context
    with _ssl_context_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


class _WriteTimedOut(TimeoutError):
    """A piece of the request body could not be sent within the write timeout. A
    ``TimeoutError`` without errno, which aiohttp passes through unwrapped."""


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    # No total: httpx has none either (a stream may last as long as it keeps talking).
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


class _Slots:
    """The connections one policy may hold at once, and the wait for one (httpx's pool timeout)."""

    def __init__(self, limit: int) -> None:
        self._free = asyncio.Semaphore(limit)
        self.in_flight = 0

    async def acquire(self, timeout: float | None) -> None:
        if self._free.locked():
            try:
                async with asyncio.timeout(timeout):
                    await self._free.acquire()
            except TimeoutError as err:
                raise httpx.PoolTimeout("Timed out waiting for a free connection.") from err
        else:
            await self._free.acquire()  # returns at once
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._free.release()


class _Policy:
    """One address policy's session (connector, guarded resolver) and connection slots."""

    def __init__(self, *, allow_private_network: bool, max_connections: int, keepalive_expiry: float | None) -> None:
        self.allow_private_network = allow_private_network
        self.slots = _Slots(max_connections)
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(allow_private_network=allow_private_network),
            # Each new connection asks the guard again (a cached answer would skip the check).
            use_dns_cache=False,
            # The slots above decide; this is only a backstop.
            limit=max_connections,
            limit_per_host=0,
            keepalive_timeout=keepalive_expiry,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=MAX_LINE_BYTES,
            max_field_size=MAX_LINE_BYTES,
            max_headers=MAX_HEADERS,
            requote_redirect_url=False,
        )

    def discard(self) -> None:
        """Close the idle connections without awaiting, for a transport dropped without
        ``aclose`` (its client forgotten, or its loop gone), and without aiohttp's reports of an
        unclosed session and connector. Done on the session's own loop: sockets are not
        thread-safe."""
        connector = self.session.connector
        self.session.detach()
        if connector is None or connector.closed:
            return
        if self._loop.is_closed():
            # Its sockets went with the loop; only mark it closed (what aiohttp's own
            # finaliser calls, before it reports).
            connector._close()
        elif self._loop.is_running():
            asyncio.run_coroutine_threadsafe(connector.close(), self._loop)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """The shared client's transport (see the module docstring). Bound to the event loop it
    first sends on, like the ``httpx.AsyncClient`` that owns it."""

    def __init__(
        self, *, max_connections: int, keepalive_expiry: float | None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        # None: the process's shared context, loaded on the first https request.
        self._ssl_context = ssl_context
        self._policies: dict[bool, _Policy] = {}

    def in_flight(self, *, allow_private_network: bool) -> int:
        """Requests of one policy started and not yet closed (for tests and diagnostics)."""
        policy = self._policies.get(allow_private_network)
        return 0 if policy is None else policy.slots.in_flight

    def _policy(self, allow_private_network: bool) -> _Policy:
        policy = self._policies.get(allow_private_network)
        if policy is None:
            policy = _Policy(
                allow_private_network=allow_private_network,
                max_connections=self._max_connections,
                keepalive_expiry=self._keepalive_expiry,
            )
            self._policies[allow_private_network] = policy
        return policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Exactly the URL httpx built: no re-quoting, no dot-segment folding.
        url = URL(str(request.url), encoded=True)
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        policy = self._policy(allows_private_network(request.extensions))
        host = url.raw_host or ""
        if is_ip_address(host):
            # aiohttp dials an IP literal without asking the resolver: check it here (no lookup).
            await addresses_to_dial(host, url.port or 0, allow_private_network=policy.allow_private_network)
        timeout = request.extensions.get("timeout", {})
        body = _request_body(request, write_timeout=timeout.get("write"))
        headers = [(name, value) for name, value in request.headers.multi_items() if name.lower() not in _DROPPED_REQUEST_HEADERS]
        await policy.slots.acquire(timeout.get("pool"))
        try:
            with _mapped_errors(sending=True):
                response = await policy.session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=_client_timeout(timeout.get("connect"), timeout.get("read")),
                    ssl=(self._ssl_context or shared_ssl_context()) if url.scheme == "https" else True,
                )
        except BaseException:
            policy.slots.release()
            raise
        version = response.version
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.0" if version is not None and version.minor == 0 else b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, policy.slots),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        policies, self._policies = list(self._policies.values()), {}
        for policy in policies:
            await policy.session.close()

    def __del__(self) -> None:
        for policy in self._policies.values():
            policy.discard()


class _ResponseStream(httpx.AsyncByteStream):
    """The response body in reads of at most :data:`READ_CHUNK_BYTES`. Closing it (which every
    httpx response does) returns a fully read connection to the pool and closes any other, then
    frees the slot, once."""

    def __init__(self, response: aiohttp.ClientResponse, slots: _Slots) -> None:
        self._response = response
        self._slots: _Slots | None = slots

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._response.content.read(READ_CHUNK_BYTES)
        except Exception:
            # Mapped only when a read fails: entering the context manager on every read cost
            # more than the read itself on a streamed answer.
            with _mapped_errors(sending=False):
                raise
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        response = self._response
        try:
            if response.content.at_eof() and response.content.exception() is None:
                response.release()  # back to the pool
            else:
                # Unfinished (cancelled, abandoned, failed): close the socket now so the
                # provider sees the disconnect, instead of draining or parking it.
                response.close()
        finally:
            if self._slots is not None:
                self._slots.release()
                self._slots = None


def _request_body(request: httpx.Request, *, write_timeout: float | None) -> Payload | bytes | None:
    try:
        content = request.content
    except httpx.RequestNotRead:  # a streamed body (e.g. a multipart upload)
        return _TimedPayload(request.stream, write_timeout=write_timeout)
    if not content:
        return None
    if len(content) <= WRITE_CHUNK_BYTES:
        return content  # fits the write buffer: written without waiting
    return _TimedPayload(content, write_timeout=write_timeout)


class _TimedPayload(Payload):
    """A request body written in pieces of at most :data:`WRITE_CHUNK_BYTES`, each within the
    write timeout. Its length comes from the request's ``Content-Length`` header when httpx
    set one; otherwise aiohttp sends it chunked."""

    _autoclose = True

    def __init__(self, value: bytes | AsyncIterable[bytes], *, write_timeout: float | None) -> None:
        # aiohttp wants a content type on every payload; _NO_AUTO_HEADERS keeps it off the
        # request, whose own headers say everything.
        super().__init__(value)
        self._write_timeout = write_timeout

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("A streamed request body cannot be decoded.")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        self._consumed = True  # a stream cannot be replayed
        async for chunk in _chunks(self._value):
            for start in range(0, len(chunk), WRITE_CHUNK_BYTES):
                piece = chunk[start : start + WRITE_CHUNK_BYTES]
                try:
                    async with asyncio.timeout(self._write_timeout):
                        await writer.write(piece)
                except TimeoutError as err:
                    raise _WriteTimedOut("Timed out sending the request body.") from err


async def _chunks(value: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(value, bytes):
        yield value
    else:
        async for chunk in value:
            yield chunk


@contextlib.contextmanager
def _mapped_errors(*, sending: bool) -> Iterator[None]:
    """aiohttp's exceptions as httpx's. ``sending``: while the request is sent and its answer's
    head awaited (the only time a connect error can happen)."""
    try:
        yield
    except ProviderConnectionError as err:  # the guard could not resolve the name
        raise httpx.ConnectError(err.message) from err
    except _WriteTimedOut as err:
        raise httpx.WriteTimeout(str(err)) from err
    except aiohttp.ConnectionTimeoutError as err:
        raise httpx.ConnectTimeout(str(err) or "Timed out connecting.") from err
    except aiohttp.ServerTimeoutError as err:  # sock_read: the silence outlasted the read timeout
        raise httpx.ReadTimeout(str(err) or "Timed out reading.") from err
    except aiohttp.ClientConnectorError as err:  # nothing was sent: refused, unreachable, TLS
        raise httpx.ConnectError(str(err)) from err
    except aiohttp.ServerDisconnectedError as err:
        raise httpx.RemoteProtocolError("Server disconnected without sending a complete response.") from err
    except aiohttp.ClientPayloadError as err:
        # The body ended wrong: cut short by a clean close (a protocol error, as httpcore
        # said), or by a reset.
        if isinstance(err.__cause__, OSError):
            raise httpx.ReadError(str(err)) from err
        raise httpx.RemoteProtocolError(str(err)) from err
    except aiohttp.ClientResponseError as err:  # an unparseable or oversized head
        raise httpx.RemoteProtocolError(f"Invalid response: {err.message}") from err
    except (aiohttp.NonHttpUrlClientError, aiohttp.InvalidURL) as err:
        raise httpx.UnsupportedProtocol(str(err)) from err
    except aiohttp.ClientOSError as err:
        if sending and "write request body" in str(err):
            raise httpx.WriteError(str(err)) from err
        raise httpx.ReadError(str(err)) from err
    except aiohttp.ClientConnectionError as err:
        raise (httpx.WriteError if sending else httpx.ReadError)(str(err)) from err
    except aiohttp.ClientError as err:
        raise httpx.TransportError(str(err)) from err
    except TimeoutError as err:  # any other aiohttp timeout
        raise httpx.TimeoutException(str(err) or "Timed out.") from err
