"""The one ``httpx.AsyncClient`` per event loop that every adapter sends through (no Django here).

* **One client per event loop.** ``client = shared_client.get_client()`` inside a coroutine.
  An ``httpx.AsyncClient`` is bound to the loop it first ran on, so the module keeps one client
  per running loop (the ASGI server's loop, or the fresh loop of each ``asyncio.run`` a sync
  twin makes). Sync twins should use :func:`run_sync`, which closes that loop's client before
  the loop goes away. The ASGI lifespan/shutdown hook calls ``await aclose_clients()``.
* **Timeouts**: the client default is :data:`DEFAULT_TIMEOUT`. Pass ``timeout=MEDIA_TIMEOUT``
  for image/speech/transcription requests and ``timeout=STREAM_TIMEOUT`` for SSE requests.
  Read them as ``shared_client.STREAM_TIMEOUT`` when the request is built, not imported by
  value: :func:`client_configure` replaces them.
* **Address policy**: every request passes ``extensions=self.network_policy``
  (:attr:`BaseAdapter.network_policy`, from the provider's ``allow_private_network``); the
  shared transport resolves each new connection's host once, refuses non-public addresses
  unless the request is marked, and dials what it checked (aiadmin/adapters/urlguard.py). An
  unmarked request gets the strict policy. A refusal is raised as :class:`ConfigurationError`
  from ``client.send`` itself.
* **Tests** inject a transport with ``set_transport_for_tests(httpx.MockTransport(handler))``
  and reset it with ``set_transport_for_tests(None)``; every client created afterwards uses it.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from .content_coding import ACCEPT_ENCODING
from .aiohttp_transport import AiohttpTransport

T = TypeVar("T")

# --- Timeouts (seconds) ------------------------------------------------------------------
CONNECT_TIMEOUT = 10.0
# Long enough for a slow non-streamed chat answer from a reasoning model.
READ_TIMEOUT = 120.0
# Transcription uploads can be tens of megabytes over a slow uplink.
WRITE_TIMEOUT = 60.0
# Waiting for a free pooled connection; hitting this means we are overloading ourselves.
POOL_TIMEOUT = 10.0
# The longest silence allowed between bytes of an SSE stream. Providers that think for long
# send keep-alives (OpenRouter comments, Anthropic pings), so real silence means a stall.
STREAM_IDLE_TIMEOUT = 90.0
# httpx's own read timeout on streams sits a little above the idle timeout so the SSE reader's
# clearer "stream stalled" error wins.
STREAM_READ_SLACK = 5.0
# Image generation and speech synthesis routinely take a minute or more.
MEDIA_READ_TIMEOUT = 300.0

# --- Connection pool ---------------------------------------------------------------------
# Per event loop and address policy, so per worker: every streamed chat holds one for its
# whole length.
MAX_CONNECTIONS = 2048
# Below the 30-60 s idle timeout of common load balancers, so we drop an idle connection
# before the far end does (a reused half-closed connection fails the next request).
KEEPALIVE_EXPIRY = 15.0

USER_AGENT = "aiadmin/0.1"


def _request_timeouts() -> tuple[httpx.Timeout, httpx.Timeout, httpx.Timeout]:
    """(default, media, stream) request timeouts built from the constants above."""
    default = httpx.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT)
    media = httpx.Timeout(connect=CONNECT_TIMEOUT, read=MEDIA_READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT)
    stream = httpx.Timeout(
        connect=CONNECT_TIMEOUT,
        read=STREAM_IDLE_TIMEOUT + STREAM_READ_SLACK,
        write=WRITE_TIMEOUT,
        pool=POOL_TIMEOUT,
    )
    return default, media, stream


DEFAULT_TIMEOUT, MEDIA_TIMEOUT, STREAM_TIMEOUT = _request_timeouts()


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
# Different threads (ASGI loop, asgiref worker loops, sync twins) may ask at the same time.
_clients_lock = threading.Lock()
_test_transport: httpx.AsyncBaseTransport | None = None


def _new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        # Never follow redirects: a redirect to another host would carry the key with it.
        # A 3xx is mapped to an error asking the admin to check the base URL.
        follow_redirects=False,
        # Only the codings aiadmin/adapters/content_coding.py inflates in bounded steps.
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        # aiohttp underneath, the URL guard on every connection (aiadmin/adapters/aiohttp_transport.py).
        transport=_test_transport
        or AiohttpTransport(max_connections=MAX_CONNECTIONS, keepalive_expiry=KEEPALIVE_EXPIRY),
    )


def get_client() -> httpx.AsyncClient:
    """The shared client of the running event loop (created on first use).

    Must be called from inside a coroutine; raises ``RuntimeError`` when no loop runs.
    """
    loop = asyncio.get_running_loop()
    with _clients_lock:
        _forget_closed_loops()
        client = _clients.get(loop)
        if client is None or client.is_closed:
            client = _new_client()
            _clients[loop] = client
        return client


def _forget_closed_loops() -> None:
    # A closed loop's client cannot be closed any more; dropping it lets its sockets be freed.
    for loop in [loop for loop in _clients if loop.is_closed()]:
        del _clients[loop]


async def aclose_clients() -> None:
    """Close the running loop's client and forget clients of loops that have closed.

    Clients of *other* still-running loops are left alone: they can only be closed from their
    own loop.
    """
    loop = asyncio.get_running_loop()
    with _clients_lock:
        client = _clients.pop(loop, None)
        _forget_closed_loops()
    if client is not None:
        await client.aclose()


def run_sync(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run an adapter coroutine from sync code on a fresh loop, closing its client after."""

    async def _run() -> T:
        try:
            return await make_coroutine()
        finally:
            await aclose_clients()

    return asyncio.run(_run())


def client_configure(
    *, connect_timeout: float, read_timeout: float, stream_idle_timeout: float, max_connections: int
) -> None:
    """Replace the timeouts and the pool size every request from now on uses.

    For startup (a host project's settings). The derived :data:`DEFAULT_TIMEOUT`,
    :data:`MEDIA_TIMEOUT` and :data:`STREAM_TIMEOUT` are rebuilt, and existing clients are
    forgotten so the next :func:`get_client` builds one with the new pool size; a request
    already under way finishes on the client it started with (a client can only be closed
    from its own loop).
    """
    global CONNECT_TIMEOUT, READ_TIMEOUT, STREAM_IDLE_TIMEOUT, MAX_CONNECTIONS
    global DEFAULT_TIMEOUT, MEDIA_TIMEOUT, STREAM_TIMEOUT
    for name, seconds in (
        ("connect_timeout", connect_timeout),
        ("read_timeout", read_timeout),
        ("stream_idle_timeout", stream_idle_timeout),
    ):
        if not seconds > 0:  # also refuses NaN
            raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}.")
    if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
        raise ValueError(f"max_connections must be a whole number of at least 1, not {max_connections!r}.")
    with _clients_lock:
        CONNECT_TIMEOUT, READ_TIMEOUT = float(connect_timeout), float(read_timeout)
        STREAM_IDLE_TIMEOUT, MAX_CONNECTIONS = float(stream_idle_timeout), max_connections
        DEFAULT_TIMEOUT, MEDIA_TIMEOUT, STREAM_TIMEOUT = _request_timeouts()
        _clients.clear()


def set_transport_for_tests(transport: httpx.AsyncBaseTransport | None) -> None:
    """Make every client created from now on use ``transport`` (``None`` restores the network).

    Existing clients are dropped so the next :func:`get_client` builds one with the new
    transport. For tests only.
    """
    global _test_transport
    with _clients_lock:
        _test_transport = transport
        _clients.clear()
