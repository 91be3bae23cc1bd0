"""The shared client's aiohttp transport keeps every guarantee of the httpcore one it replaced:
the URL guard on each connection, one pool per address policy, no redirects, no decompression,
bounded heads, httpx's timeouts and exception types, and an unfinished response closing its
connection at once.

Every request goes over a real loopback socket to a small threaded server that records what it
saw (tests/fake_network.py); names are resolved by the scripted resolver, so nothing here
touches the real network.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from aiadmin.adapters import aiohttp_transport, urlguard
from aiadmin.adapters.aiohttp_transport import AiohttpTransport
from aiadmin.adapters.content_coding import aiter_body
from aiadmin.adapters.error_mapping import exception_from_transport_error
from aiadmin.adapters.errors import ConfigurationError, ProviderConnectionError, ProviderTimeoutError
from aiadmin.adapters.urlguard import request_policy
from tests.fake_network import FakeNetwork, LoopbackServer, ThreadedLoopback, fake_network, loopback, request_heads  # noqa: F401

PRIVATE = request_policy(allow_private_network=True)
STRICT = request_policy(allow_private_network=False)
LOOPBACK = ("127.0.0.1",)


def transport(**kwargs: object) -> AiohttpTransport:
    return AiohttpTransport(**{"max_connections": 8, "keepalive_expiry": 5.0, **kwargs})  # type: ignore[arg-type]


class RawServer(ThreadedLoopback):
    """A loopback server whose every connection is answered by ``script(sock, reader)``; it
    records when each connection's client side closed (``closed_at``, monotonic seconds)."""

    def __init__(self, script: Callable[[socket.socket, object], None]) -> None:
        self.script = script
        self.connections = 0
        self.closed_at: list[float] = []
        self.closed = threading.Event()
        super().__init__()

    def answer(self, sock: socket.socket) -> None:
        self.connections += 1
        try:
            self.script(sock, sock.makefile("rb"))
        except OSError:
            pass

    def wait_for_close(self, sock: socket.socket, *, limit: float = 10.0) -> None:
        """Block until the client closes the connection (EOF or reset), then record it."""
        sock.settimeout(limit)
        try:
            while sock.recv(65536):
                pass
        except TimeoutError:
            return  # never closed: nothing recorded
        except OSError:
            pass
        self.closed_at.append(time.monotonic())
        self.closed.set()


def first_head(reader) -> bytes:
    return next(request_heads(reader))


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


# --- The URL guard: pinned, checked addresses, one pool per policy ---------------------------


async def test_a_name_that_resolves_to_loopback_is_refused_under_the_strict_policy(
    fake_network: FakeNetwork, loopback: LoopbackServer
):
    fake_network.answer("sneaky.test", LOOPBACK)
    async with httpx.AsyncClient(transport=transport()) as client:
        for extensions in ({}, STRICT):
            with pytest.raises(ConfigurationError, match="loopback"):
                await client.get(f"http://sneaky.test:{loopback.port}/v1/models", extensions=extensions)
    assert fake_network.dials == [] and loopback.connections == 0


async def test_an_ip_literal_is_checked_although_aiohttp_never_resolves_it(loopback: LoopbackServer):
    shared = transport()
    async with httpx.AsyncClient(transport=shared) as client:
        with pytest.raises(ConfigurationError, match="loopback"):
            await client.get(f"http://127.0.0.1:{loopback.port}/v1/models")
        with pytest.raises(ConfigurationError, match="metadata"):
            await client.get("http://169.254.169.254/latest/meta-data/", extensions=PRIVATE)
        assert (await client.get(f"http://127.0.0.1:{loopback.port}/v1/models", extensions=PRIVATE)).status_code == 200
    assert loopback.connections == 1
    assert shared.in_flight(allow_private_network=False) == 0


async def test_the_allowed_policy_dials_the_checked_address_once_and_keeps_the_name(
    fake_network: FakeNetwork, loopback: LoopbackServer
):
    fake_network.answer("selfhosted.test", LOOPBACK)
    async with httpx.AsyncClient(transport=transport()) as client:
        response = await client.get(f"http://selfhosted.test:{loopback.port}/v1/models", extensions=PRIVATE)
    assert response.status_code == 200
    assert fake_network.lookups == ["selfhosted.test"] and fake_network.dials == ["127.0.0.1"]
    assert loopback.hosts() == [f"selfhosted.test:{loopback.port}"]


async def test_each_new_connection_asks_the_guard_again(fake_network: FakeNetwork):
    # No DNS cache in the connector: while the first connection is busy with a stream, a second
    # request makes a new one with a fresh lookup, and a rebinding answer is refused rather than
    # served from a cached allowed one.
    fake_network.answer("rebind.test", LOOPBACK, ("169.254.169.254",))

    def script(sock, reader):
        first_head(reader)
        sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        server.wait_for_close(sock)

    with RawServer(script) as server:
        url = f"http://rebind.test:{server.port}/v1/chat/completions"
        async with httpx.AsyncClient(transport=transport()) as client:
            async with client.stream("GET", url, extensions=PRIVATE) as held:
                assert held.status_code == 200
                with pytest.raises(ConfigurationError, match="metadata"):
                    await client.get(url, extensions=PRIVATE)
    assert fake_network.lookups == ["rebind.test", "rebind.test"]
    assert fake_network.dials == ["127.0.0.1"]


async def test_a_connection_opened_under_the_allowed_policy_is_never_reused_by_a_strict_request(
    fake_network: FakeNetwork, loopback: LoopbackServer
):
    fake_network.answer("selfhosted.test", LOOPBACK)
    shared = transport()
    url = f"http://selfhosted.test:{loopback.port}/v1/models"
    async with httpx.AsyncClient(transport=shared) as client:
        assert (await client.get(url, extensions=PRIVATE)).status_code == 200
        # A kept-alive connection to this very host and port is idle now; a strict request
        # must not ride on it.
        with pytest.raises(ConfigurationError):
            await client.get(url)
        with pytest.raises(ConfigurationError):
            await client.get(url, extensions=STRICT)
        assert (await client.get(url, extensions=PRIVATE)).status_code == 200
    assert loopback.connections == 1 and len(loopback.heads) == 2
    assert shared.in_flight(allow_private_network=True) == 0 == shared.in_flight(allow_private_network=False)


async def test_unix_sockets_and_other_schemes_are_refused_before_any_connection(loopback: LoopbackServer):
    async with httpx.AsyncClient(transport=transport()) as client:
        for url in ("http+unix://%2Ftmp%2Fprovider.sock/v1/models", "unix:///tmp/provider.sock", "ftp://127.0.0.1/"):
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get(url, extensions=PRIVATE)
    assert loopback.connections == 0


async def test_an_unresolvable_name_is_a_connect_error_with_the_guards_message(fake_network: FakeNetwork):
    async with httpx.AsyncClient(transport=transport()) as client:
        with pytest.raises(httpx.ConnectError, match="Could not resolve the host name nowhere.test"):
            await client.get("http://nowhere.test/v1/models")


# --- Nothing done behind the caller's back ---------------------------------------------------


async def test_a_redirect_is_handed_back_not_followed():
    def script(sock, reader):
        for _ in request_heads(reader):
            sock.sendall(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")

    with RawServer(script) as server:
        async with httpx.AsyncClient(transport=transport()) as client:
            response = await client.get(f"http://127.0.0.1:{server.port}/v1/models", extensions=PRIVATE)
            await asyncio.sleep(0.1)
    assert response.status_code == 302 and response.headers["location"] == "/elsewhere"
    assert server.connections == 1


async def test_a_gzip_body_arrives_compressed_and_the_request_carries_only_httpxs_headers(fake_network: FakeNetwork):
    # A name, not an address: aiohttp's default cookie jar ignores cookies from IP hosts.
    fake_network.answer("cookies.test", LOOPBACK)
    body = b'{"object": "list", "data": []}' * 100
    compressed = gzip.compress(body)
    heads: list[bytes] = []

    def script(sock, reader):
        for head in request_heads(reader):
            heads.append(head)
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                + f"Content-Length: {len(compressed)}\r\nSet-Cookie: session=abc\r\n\r\n".encode()
                + compressed
            )

    with RawServer(script) as server:
        headers = {"Accept-Encoding": "gzip", "User-Agent": "aiadmin/test"}
        async with httpx.AsyncClient(transport=transport(), headers=headers) as client:
            url = f"http://cookies.test:{server.port}/v1/models?q=a%2Fb/../c"
            async with client.stream("GET", url, extensions=PRIVATE) as response:
                raw = b"".join([piece async for piece in response.aiter_raw()])
            client.cookies.clear()  # httpx's own jar; aiohttp's must not keep one either
            async with client.stream("GET", url, extensions=PRIVATE) as response:
                inflated = b"".join([piece async for piece in aiter_body(response)])
    assert raw == compressed  # not inflated on the way
    assert inflated == body  # by the bounded inflater, above the transport
    lines = heads[0].split(b"\r\n")
    assert lines[0] == b"GET /v1/models?q=a%2Fb/../c HTTP/1.1"  # the path exactly as httpx built it
    names = [line.split(b":", 1)[0].lower() for line in lines[1:] if line]
    assert sorted(names) == [b"accept", b"accept-encoding", b"connection", b"host", b"user-agent"]
    assert b"accept-encoding: gzip" in heads[0].lower() and b"user-agent: aiadmin/test" in heads[0].lower()
    assert b"\r\ncookie:" not in heads[1].lower()  # no cookie jar between requests


async def test_a_body_goes_out_with_no_header_aiohttp_would_add():
    heads: list[bytes] = []

    def script(sock, reader):
        for head in request_heads(reader):
            heads.append(head)
            sock.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    with RawServer(script) as server:
        async with httpx.AsyncClient(transport=transport()) as client:
            response = await client.post(f"http://127.0.0.1:{server.port}/v1/x", content=b'{"a": 1}', extensions=PRIVATE)
    assert response.status_code == 204
    head = heads[0].lower()
    assert b"\r\ncontent-length: 8\r\n" in head
    assert b"content-type" not in head and b"transfer-encoding" not in head


async def test_sequential_requests_reuse_one_connection(loopback: LoopbackServer):
    async with httpx.AsyncClient(transport=transport()) as client:
        for _ in range(5):
            response = await client.get(f"http://127.0.0.1:{loopback.port}/v1/models", extensions=PRIVATE)
            assert response.status_code == 200
    assert loopback.connections == 1 and len(loopback.heads) == 5


async def test_a_streamed_multipart_upload_arrives_whole():
    payload = bytes(range(256)) * (4 * 1024 * 20)  # 20 MiB, sent as a stream (not read into memory by httpx)
    received: list[str] = []

    def script(sock, reader):
        head = first_head_without_body(reader)
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1])
        digest = hashlib.sha256()
        while length:
            piece = reader.read(min(length, 1 << 20))
            if not piece:
                break
            digest.update(piece)
            length -= len(piece)
        received.append(digest.hexdigest())
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    with RawServer(script) as server:
        async with httpx.AsyncClient(transport=transport()) as client:
            request = client.build_request(
                "POST",
                f"http://127.0.0.1:{server.port}/v1/audio/transcriptions",
                files={"file": ("speech.wav", payload, "audio/wav")},
                data={"model": "whisper-1"},
                extensions=PRIVATE,
            )
            with pytest.raises(httpx.RequestNotRead):
                request.content  # noqa: B018  (streamed, as a transcription upload is)
            expected = hashlib.sha256(b"".join(request.stream)).hexdigest()  # type: ignore[arg-type]
            response = await client.send(request)
    assert response.status_code == 200
    assert received == [expected]


def first_head_without_body(reader) -> bytes:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline(65536)
        if not line:
            break
        head += line
    return head


# --- Timeouts: httpx's four, one for one -----------------------------------------------------


async def test_connect_timeout_covers_the_guards_lookup(monkeypatch: pytest.MonkeyPatch):
    async def slow_resolve(host: str, port: int) -> tuple[str, ...]:
        await asyncio.sleep(5)
        return LOOPBACK

    monkeypatch.setattr(urlguard, "_resolve", slow_resolve)
    async with httpx.AsyncClient(transport=transport(), timeout=httpx.Timeout(5.0, connect=0.2)) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("http://slow-dns.test/v1/models", extensions=PRIVATE)
    assert time.monotonic() - started < 2


async def test_read_timeout_waiting_for_the_head_and_between_body_reads():
    def silent(sock, reader):
        first_head(reader)
        server.wait_for_close(sock)

    with RawServer(silent) as server:
        async with httpx.AsyncClient(transport=transport(), timeout=httpx.Timeout(5.0, read=0.3)) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"http://127.0.0.1:{server.port}/", extensions=PRIVATE)

    def stalls_mid_body(sock, reader):
        first_head(reader)
        sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        server.wait_for_close(sock)

    with RawServer(stalls_mid_body) as server:
        async with httpx.AsyncClient(transport=transport(), timeout=httpx.Timeout(5.0, read=0.3)) as client:
            async with client.stream("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE) as response:
                iterator = response.aiter_raw()
                assert await anext(iterator) == b"data: 1\n\n"
                with pytest.raises(httpx.ReadTimeout):
                    await anext(iterator)


async def test_the_read_timeout_starts_once_the_request_is_sent():
    # A slow upload is not a silent server: the read timeout must not run while we still write.
    def slow_reader(sock, reader):
        head = first_head_without_body(reader)
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1])
        while length:  # about 5 MB/s: the tail still buffered once the client has written all
            time.sleep(0.05)  # is read well within the read timeout
            piece = reader.read(min(length, 256 * 1024))
            length -= len(piece)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    body = b"x" * (12 * 1024 * 1024)
    with RawServer(slow_reader) as server:
        async with httpx.AsyncClient(transport=transport(), timeout=httpx.Timeout(5.0, read=1.0)) as client:
            started = time.monotonic()
            response = await client.post(f"http://127.0.0.1:{server.port}/", content=body, extensions=PRIVATE)
    assert response.status_code == 200
    assert time.monotonic() - started > 1.5  # the upload outlasted the read timeout


async def test_write_timeout_when_the_server_stops_reading_the_body():
    class NeverReads(ThreadedLoopback):
        def answer(self, sock: socket.socket) -> None:
            time.sleep(3)  # accepts, reads nothing while the client writes

    async def large_upload():
        piece = b"x" * (1024 * 1024)
        for _ in range(256):
            yield piece

    with NeverReads() as server:
        async with httpx.AsyncClient(transport=transport(), timeout=httpx.Timeout(5.0, write=0.3)) as client:
            started = time.monotonic()
            with pytest.raises(httpx.WriteTimeout):
                await client.post(f"http://127.0.0.1:{server.port}/", content=large_upload(), extensions=PRIVATE)
    assert time.monotonic() - started < 2


async def test_pool_timeout_when_every_slot_of_the_policy_is_taken():
    def streams(sock, reader):
        first_head(reader)
        sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        server.wait_for_close(sock)

    shared = transport(max_connections=2)
    with RawServer(streams) as server:
        url = f"http://127.0.0.1:{server.port}/"
        async with httpx.AsyncClient(transport=shared, timeout=httpx.Timeout(5.0, pool=0.2)) as client:
            held = [await client.send(client.build_request("GET", url, extensions=PRIVATE), stream=True) for _ in range(2)]
            assert shared.in_flight(allow_private_network=True) == 2
            with pytest.raises(httpx.PoolTimeout):
                await client.get(url, extensions=PRIVATE)
            # The other policy has slots of its own (and refuses loopback, as it should).
            with pytest.raises(ConfigurationError):
                await client.get(url)
            await held[0].aclose()
            async with client.stream("GET", url, extensions=PRIVATE) as third:
                assert third.status_code == 200
            await held[1].aclose()
            assert shared.in_flight(allow_private_network=True) == 0


# --- Errors: httpx's types, so the error tree and the retry rules stay as they are ---------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_transport_errors_keep_their_httpx_types_and_map_to_the_same_errors():
    def hangs_up(sock, reader):
        first_head(reader)  # reads the request, answers nothing, closes

    def cuts_the_body_short(sock, reader):
        first_head(reader)
        sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n"))  # no final chunk

    def short_content_length(sock, reader):
        first_head(reader)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")

    shared = transport()
    async with httpx.AsyncClient(transport=shared) as client:
        with pytest.raises(httpx.ConnectError) as refused:  # the one retried: nothing was sent
            await client.get(f"http://127.0.0.1:{_closed_port()}/", extensions=PRIVATE)
        mapped = exception_from_transport_error(refused.value, provider="P")
        assert isinstance(mapped, ProviderConnectionError) and mapped.retryable

        with RawServer(hangs_up) as server:
            with pytest.raises(httpx.RemoteProtocolError):  # sent: never a connect error
                await client.post(f"http://127.0.0.1:{server.port}/", content=b"{}", extensions=PRIVATE)

        for script in (cuts_the_body_short, short_content_length):
            with RawServer(script) as server:
                async with client.stream("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE) as response:
                    with pytest.raises(httpx.RemoteProtocolError) as cut:
                        async for _ in response.aiter_raw():
                            pass
                mapped = exception_from_transport_error(cut.value, provider="P")
                assert isinstance(mapped, ProviderConnectionError)
                assert "closed the connection unexpectedly" in mapped.message

        read_timeout = exception_from_transport_error(httpx.ReadTimeout("x"), provider="P", media=True)
        assert isinstance(read_timeout, ProviderTimeoutError) and not read_timeout.retryable
    assert shared.in_flight(allow_private_network=True) == 0


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"".join(f"X-{n}: v\r\n".encode() for n in range(500)) + b"Content-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 " + b"O" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["long header", "too many headers", "long status line", "garbage"],
)
async def test_an_oversized_or_broken_head_is_a_protocol_error(head: bytes):
    def script(sock, reader):
        first_head(reader)
        sock.sendall(head)
        server.wait_for_close(sock, limit=3)

    with RawServer(script) as server:
        async with httpx.AsyncClient(transport=transport()) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"http://127.0.0.1:{server.port}/", extensions=PRIVATE)
        assert server.closed.wait(2)  # and the connection was dropped, not kept


# --- An unfinished response closes its connection at once -----------------------------------


def endless_stream(server: RawServer, started: threading.Event):
    def script(sock, reader):
        first_head(reader)
        sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        started.set()
        sock.settimeout(0.05)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # keeps talking until the client hangs up
            try:
                sock.sendall(chunk(b"data: more\n\n"))
                if sock.recv(65536) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        server.closed_at.append(time.monotonic())
        server.closed.set()

    return script


async def test_closing_a_response_early_closes_the_upstream_connection_within_a_second():
    started = threading.Event()
    server = RawServer(lambda sock, reader: None)
    server.script = endless_stream(server, started)
    shared = transport()
    with server:
        async with httpx.AsyncClient(transport=shared) as client:
            response = await client.send(client.build_request("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE), stream=True)
            assert (await anext(response.aiter_raw())).startswith(b"data: 1\n\n")
            closed = time.monotonic()
            await response.aclose()
            await asyncio.to_thread(server.closed.wait, 5)
            assert server.closed_at and server.closed_at[0] - closed < 1.0
            assert shared.in_flight(allow_private_network=True) == 0
            # ... and the next request does not ride on the closed connection.
            async with client.stream("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE) as again:
                assert again.status_code == 200
    assert server.connections == 2


async def test_cancelling_the_reader_closes_the_upstream_connection_within_a_second():
    started = threading.Event()
    server = RawServer(lambda sock, reader: None)
    server.script = endless_stream(server, started)
    with server:
        async with httpx.AsyncClient(transport=transport()) as client:

            async def consume() -> None:
                async with client.stream("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE) as response:
                    async for _ in response.aiter_raw():
                        pass

            task = asyncio.create_task(consume())
            await asyncio.to_thread(started.wait, 5)
            await asyncio.sleep(0.1)
            cancelled = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.to_thread(server.closed.wait, 5)
    assert server.closed_at and server.closed_at[0] - cancelled < 1.0


async def test_cancelling_before_the_answer_arrives_closes_the_connection_within_a_second():
    def silent(sock, reader):
        first_head(reader)
        server.wait_for_close(sock)

    shared = transport()
    with RawServer(silent) as server:
        async with httpx.AsyncClient(transport=shared) as client:
            task = asyncio.create_task(client.get(f"http://127.0.0.1:{server.port}/", extensions=PRIVATE))
            await asyncio.sleep(0.2)
            cancelled = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.to_thread(server.closed.wait, 5)
            assert shared.in_flight(allow_private_network=True) == 0
    assert server.closed_at and server.closed_at[0] - cancelled < 1.0


async def test_a_response_read_to_the_end_returns_its_connection_to_the_pool():
    def streams_then_waits(sock, reader):
        for _ in request_heads(reader):
            sock.sendall(CHUNKED_HEAD + chunk(b"data: 1\n\n") + b"0\r\n\r\n")

    with RawServer(streams_then_waits) as server:
        async with httpx.AsyncClient(transport=transport()) as client:
            for _ in range(3):
                async with client.stream("GET", f"http://127.0.0.1:{server.port}/", extensions=PRIVATE) as response:
                    assert b"".join([piece async for piece in response.aiter_raw()]) == b"data: 1\n\n"
    assert server.connections == 1


# --- TLS context: shared, and never loaded for plain http ------------------------------------


async def test_the_tls_context_is_loaded_once_and_not_for_plain_http(monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer):
    loads: list[int] = []
    real = httpx.create_ssl_context
    monkeypatch.setattr(aiohttp_transport, "_ssl_context", None)
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *a, **k: loads.append(1) or real(*a, **k))
    async with httpx.AsyncClient(transport=transport()) as client:
        assert (await client.get(f"http://127.0.0.1:{loopback.port}/v1/models", extensions=PRIVATE)).status_code == 200
    assert loads == []
    first = aiohttp_transport.shared_ssl_context()
    assert aiohttp_transport.shared_ssl_context() is first and loads == [1]
    assert first.verify_mode.name == "CERT_REQUIRED" and first.check_hostname


async def test_an_idle_connection_is_closed_after_the_keepalive_expiry():
    def answers_then_waits(sock, reader):
        for _ in request_heads(reader):
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        server.closed_at.append(time.monotonic())  # the client hung up
        server.closed.set()

    with RawServer(answers_then_waits) as server:
        async with httpx.AsyncClient(transport=transport(keepalive_expiry=0.3)) as client:
            assert (await client.get(f"http://127.0.0.1:{server.port}/", extensions=PRIVATE)).status_code == 200
            idle_since = time.monotonic()
            await asyncio.to_thread(server.closed.wait, 3)
            assert server.closed_at and server.closed_at[0] - idle_since < 1.5
