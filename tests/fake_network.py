"""A scripted resolver and a loopback HTTP server, for tests of the outbound address guard.

:class:`FakeNetwork` replaces the event loop's ``getaddrinfo`` (what the guard asks) with
answers scripted per name, and its ``create_connection`` and ``sock_connect`` with ones that
only ever reach loopback: a dial to any other address is recorded and refused as unreachable,
so no test touches the real network whatever the code under test does.
:class:`LoopbackServer` is a small threaded HTTP/1.1 server that counts connections and keeps
every request head, for sync (service) and async (adapter) tests alike.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from aiadmin.adapters import retries, shared_client, urlguard

_REAL_RESOLVE = urlguard._resolve  # captured before the suite's autouse fixture replaces it


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


class FakeNetwork:
    def __init__(self) -> None:
        self._scripts: dict[str, list[tuple[str, ...] | OSError]] = {}
        self.lookups: list[str] = []
        self.dials: list[str] = []

    def answer(self, host: str, *answers: tuple[str, ...] | OSError) -> None:
        """Successive lookups of ``host`` get successive answers (the last one repeats); an
        ``OSError`` answer is raised, as a failed lookup."""
        self._scripts[host] = list(answers)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        network = self

        async def getaddrinfo(loop, host, port, *, family=0, type=0, proto=0, flags=0):  # noqa: A002
            return network._getaddrinfo(host, port)

        original_create_connection = asyncio.BaseEventLoop.create_connection
        original_sock_connect = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

        def dial(host: object) -> None:
            network.dials.append(str(host))
            if not _is_ip(str(host)) or not ipaddress.ip_address(str(host).partition("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"{host} is unreachable in tests")

        async def create_connection(loop, protocol_factory, host=None, port=None, **kwargs):
            if kwargs.get("sock") is None:  # with a socket, it was dialled by sock_connect below
                dial(host)
            return await original_create_connection(loop, protocol_factory, host, port, **kwargs)

        async def sock_connect(loop, sock, address):  # how aiohttp (aiohappyeyeballs) dials
            dial(address[0])
            return await original_sock_connect(loop, sock, address)

        monkeypatch.setattr(urlguard, "_resolve", _REAL_RESOLVE)
        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(asyncio.BaseEventLoop, "create_connection", create_connection)
        monkeypatch.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", sock_connect)

    def _getaddrinfo(self, host: str | bytes, port: int) -> list[tuple]:
        name = host.decode("ascii") if isinstance(host, bytes) else str(host)
        if _is_ip(name):
            addresses: tuple[str, ...] = (name,)
        else:
            self.lookups.append(name)
            script = self._scripts.get(name)
            if not script:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            answer = script.pop(0) if len(script) > 1 else script[0]
            if isinstance(answer, OSError):
                raise answer
            addresses = answer
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, int(port or 0), 0, 0) if ":" in address else (address, int(port or 0)),
            )
            for address in addresses
        ]


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    network = FakeNetwork()
    network.install(monkeypatch)
    return network


def request_heads(reader) -> Iterator[bytes]:
    """Each HTTP/1.1 request head read from ``reader`` (keep-alive), its body read past."""
    while True:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline(65536)
            if not line:
                return
            head += line
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        reader.read(length)
        yield head


class ThreadedLoopback:
    """A threaded TCP server on 127.0.0.1 (an ephemeral port) for ``answer(sock)`` per
    connection; a context manager that serves while inside."""

    def __init__(self) -> None:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.answer(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def answer(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class LoopbackServer(ThreadedLoopback):
    """HTTP/1.1 on 127.0.0.1 (TLS when given a context): keep-alive, one fixed JSON answer."""

    def __init__(self, body: bytes = b'{"object": "list", "data": []}', *, tls: ssl.SSLContext | None = None) -> None:
        self.body = body
        self.connections = 0
        self.heads: list[bytes] = []
        self._lock = threading.Lock()
        self._tls = tls
        super().__init__()

    def answer(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return
        for head in request_heads(sock.makefile("rb")):
            with self._lock:
                self.heads.append(head)
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                + self.body
            )

    def hosts(self) -> list[str]:
        """The ``Host`` header of every request received, in order."""
        found = []
        for head in self.heads:
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"host:"):
                    found.append(line.split(b":", 1)[1].strip().decode())
        return found


@contextmanager
def loopback_server(**kwargs) -> Iterator[LoopbackServer]:
    with LoopbackServer(**kwargs) as server:
        yield server


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def real_transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shared client's network transport, not a mock (the guard's backend dials), and
    retries without waiting."""
    shared_client.set_transport_for_tests(None)
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, **kwargs: 0.0)
    yield
    shared_client.set_transport_for_tests(None)
