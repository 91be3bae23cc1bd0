"""Fixtures shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from aiadmin.adapters import retries, shared_client

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def mock_upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Handler], None]]:
    """``mock_upstream(handler)``: every request of the shared client is answered by
    ``handler`` (an ``httpx.MockTransport``, no network and no URL guard), and retries do not
    wait."""
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, **kwargs: 0.0)

    def install(handler: Handler) -> None:
        shared_client.set_transport_for_tests(httpx.MockTransport(handler))

    yield install
    shared_client.set_transport_for_tests(None)
