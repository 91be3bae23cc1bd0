"""pytest fixtures for the fake provider.

Enable them for the whole suite with one line in the top-level ``tests/conftest.py``::

    pytest_plugins = ["tests.fakeprovider.fixtures"]

``fake_provider_server`` starts one server for the session; ``fake_provider`` hands the same
server to a test after :meth:`~tests.fakeprovider.server.FakeProviderServer.reset` (initial
settings, empty request log, fresh flaky counters) and resets it again afterwards, so tests
can ``configure(...)`` freely.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeProviderServer


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_provider(fake_provider_server: FakeProviderServer) -> Iterator[FakeProviderServer]:
    fake_provider_server.reset()
    try:
        yield fake_provider_server
    finally:
        fake_provider_server.reset()
