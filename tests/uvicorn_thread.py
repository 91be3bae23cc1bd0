"""An ASGI app under a real uvicorn server on 127.0.0.1, on a free port, in a background
thread with its own event loop: the skeleton the fake provider
(:mod:`tests.fakeprovider.server`) and aiadmin's own test server (:mod:`tests.api.server`)
share. Subclasses set how uvicorn is configured and may add work when the loop starts and
ends (:meth:`loop_started`, :meth:`loop_ending`)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class UvicornThread:
    name = "uvicorn"  # the thread's name and the errors' subject
    backlog = 256

    def __init__(self, app: Any) -> None:
        self.app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None
        self._startup_error: BaseException | None = None

    def config(self) -> uvicorn.Config:
        raise NotImplementedError

    def loop_started(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called in the server's thread, before it serves."""

    def loop_ending(self) -> None:
        """Called in the server's thread, after it served."""

    def start(self, timeout: float = 10.0):
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. asyncio sets it only on sockets it creates itself;
        # without it, Nagle holds the response body behind its headers until the client's
        # delayed ACK (about 40 ms a response on loopback).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((HOST, 0))
        sock.listen(self.backlog)
        self._port = sock.getsockname()[1]
        self._server = uvicorn.Server(self.config())
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"{self.name}-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._startup_error is not None or not self._thread.is_alive():
                self._thread = None
                raise RuntimeError(f"The {self.name} server did not start: {self._startup_error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The {self.name} server did not start in time.")
            time.sleep(0.01)
        return self

    def _run(self, sock: socket.socket) -> None:
        loop = new_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self.loop_started(loop)
        try:
            assert self._server is not None
            loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as err:  # reported by start()
            self._startup_error = err
        finally:
            sock.close()
            self.loop_ending()
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None or self._server is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self._thread = None
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"The {self.name} server is not started.")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"
