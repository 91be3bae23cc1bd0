"""aiadmin's ASGI app (``standalone.asgi:application``) under a real uvicorn server on
127.0.0.1, on a free port, in a background thread of the test process, for tests that drive
the HTTP API with real clients (the official ``openai`` SDKs).

Being in the test process, the server's threads use pytest-django's test database: a test
using it needs ``pytest.mark.django_db(transaction=True)`` so what it writes is committed and
visible to the server's threads. Use the fixtures by importing them into a test module::

    from tests.api.server import aiadmin_server, api_server  # noqa: F401  (fixtures)

``aiadmin_server`` is one server for the session (the ASGI application object is a module
singleton whose thread pool ends with its lifespan, so it is started once); ``api_server``
hands it to a test after clearing the per-process caches the server shares with the test
(routing, checked tokens) and flushes the ledger when the test is done. ``target`` is the
provider a test calls, once the offline sandbox and once the fake OpenAI-compatible provider
on loopback, each with a model whose answer follows from the prompt.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from aiadmin.adapters.sandbox import _chat_reply
from aiadmin.adapters.types import ChatMessage
from aiadmin.providers.models import AIModel, AIProvider
from tests.fakeprovider.server import FakeProviderServer
from tests.uvicorn_thread import HOST, UvicornThread

DEFAULT_EXECUTOR_THREADS = 8


class AiadminServer(UvicornThread):
    """aiadmin on a real socket; ``base_url`` is the root (the API is under ``/v1``)."""

    name = "aiadmin"

    def config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            lifespan="on",  # aiadmin's handler serves it: system checks at startup, ledger flush at shutdown
            http="auto",
            log_config=None,  # leave pytest's and Django's logging alone
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )

    def start(self, timeout: float = 20.0) -> AiadminServer:
        super().start(timeout)
        self._wait_until_it_answers(time.monotonic() + timeout)
        return self

    def _wait_until_it_answers(self, deadline: float) -> None:
        """``started`` means listening; an answer on the socket proves requests are served."""
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=2) as conn:
                    conn.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if conn.recv(16).startswith(b"HTTP/1.1 "):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("aiadmin's server listens but does not answer.")
            time.sleep(0.05)

    def loop_started(self, loop: asyncio.AbstractEventLoop) -> None:
        # The loop's own pool runs aiadmin's thread_sensitive=False work (the ledger's writes):
        # owned here so its threads' database connections can be closed at the end.
        self._default_executor = ThreadPoolExecutor(
            max_workers=DEFAULT_EXECUTOR_THREADS, thread_name_prefix="aiadmin-server-default"
        )
        loop.set_default_executor(self._default_executor)

    def loop_ending(self) -> None:
        _close_connections_of_every_thread(self._default_executor, DEFAULT_EXECUTOR_THREADS)

    def stop(self, timeout: float = 15.0) -> None:
        if self._thread is not None:
            # The handler's sync threads keep their connections (CONN_MAX_AGE); close them so
            # the test database can be dropped at the end of the session.
            for executor in getattr(self.app, "executors", ()):
                _close_connections_of_every_thread(executor, executor._max_workers)
        super().stop(timeout)

    def run(self, coroutine_function: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run ``coroutine_function()`` on the server's event loop and return its result."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("aiadmin's server is not running.")
        return asyncio.run_coroutine_threadsafe(coroutine_function(), self._loop).result(timeout)

    def ledger_flush(self) -> None:
        """Write the ledger rows the server has queued (they are written off the caller's path)."""
        from aiadmin.unified.ledger import ledger_flush

        self.run(ledger_flush)

    @property
    def api_url(self) -> str:
        """What the OpenAI SDKs take as ``base_url``."""
        return f"{self.base_url}/v1"


def _close_connections_of_every_thread(executor: ThreadPoolExecutor, threads: int) -> None:
    """Close the database connections of each of ``executor``'s threads: ``threads`` tasks
    that wait for each other at a barrier cannot share a thread, so each runs on its own."""
    from django.db import connections

    barrier = threading.Barrier(threads, timeout=10)

    def close() -> None:
        connections.close_all()
        barrier.wait()

    try:
        for future in [executor.submit(close) for _ in range(threads)]:
            future.result(timeout=15)
    except (RuntimeError, FutureTimeout, threading.BrokenBarrierError):  # shut down already, or stuck
        pass


@pytest.fixture(scope="session")
def aiadmin_server(django_db_setup, django_db_blocker) -> Iterator[AiadminServer]:
    """One aiadmin server for the session, on the test database."""
    from standalone.asgi import application

    # Database access is allowed while it starts and stops (checks, closing connections);
    # in between, its threads may use the database only while a test that allows it runs.
    with django_db_blocker.unblock():
        server = AiadminServer(application).start()
    try:
        yield server
    finally:
        with django_db_blocker.unblock():
            server.stop()


@pytest.fixture
def api_server(aiadmin_server: AiadminServer, transactional_db) -> Iterator[AiadminServer]:
    """The session's server, with no token or route cached from an earlier test."""
    from aiadmin.unified.routing import routing_clear

    routing_clear()
    try:
        yield aiadmin_server
    finally:
        # Rows still queued belong to this test: write them before its data is flushed.
        aiadmin_server.ledger_flush()
        routing_clear()


def wait_until(predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """``predicate()``'s first truthy value, polling until ``timeout`` (then AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:g} s waiting for {getattr(predicate, '__name__', predicate)}.")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------- providers to call

FAKE_SLUG = "fake-openai"
FAKE_KEY = "test-key"
# The fake provider answers "You said: <last user message>" for a model with "echo" in its id.
FAKE_CHAT_MODEL = "fake-echo"
# 40 chunks 100 ms apart: a stream a client can leave half way.
FAKE_PACED_MODEL = "paced-40x100"


@dataclass(frozen=True)
class Target:
    name: str
    provider: AIProvider
    model: str  # as the API shows it: <provider-slug>/<model-id>
    answer: Callable[[str], str]  # the reply to a single user message
    fake: FakeProviderServer | None = None


def fake_openai_provider(make_provider, fake: FakeProviderServer, *, slug: str = FAKE_SLUG, **overrides) -> AIProvider:
    """A provider row for the fake's OpenAI-compatible API, its shared key usable by staff."""
    values = dict(
        slug=slug,
        name="Fake OpenAI",
        adapter="openai",
        api_base_url=fake.openai_base_url,
        capabilities={c: {"supported": True, "dynamic_models": True} for c in ("chat", "content", "image", "audio")},
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
        shared_api_key=FAKE_KEY,
        allow_shared_for_normal_admins=True,
        sort_order=2,
    )
    values.update(overrides)
    return make_provider(**values)


@pytest.fixture(params=["sandbox", "fake"])
def target(request, sandbox) -> Target:
    """Each SDK test runs once on the sandbox and once on the fake provider."""
    if request.param == "sandbox":
        return Target(
            name="sandbox",
            provider=sandbox,
            model="sandbox/sandbox-chat",
            answer=lambda prompt: _chat_reply([ChatMessage("user", prompt)]),
        )
    fake = request.getfixturevalue("fake_provider")
    provider = fake_openai_provider(request.getfixturevalue("make_provider"), fake)
    AIModel.objects.create(provider=provider, capability="chat", model_id=FAKE_CHAT_MODEL, is_active=True)
    return Target(
        name="fake",
        provider=provider,
        model=f"{FAKE_SLUG}/{FAKE_CHAT_MODEL}",
        answer=lambda prompt: f"You said: {prompt}",
        fake=fake,
    )
