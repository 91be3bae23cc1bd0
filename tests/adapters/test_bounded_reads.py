"""Non-streamed bodies are capped while they are read: a huge error or answer body is never
pulled beyond its cap (counted on a generator-backed body), on every adapter's call and model
list, and the retries do not multiply it."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from aiadmin.adapters import http as transport
from aiadmin.adapters.errors import MalformedResponseError, UpstreamError

from .test_hostile_bodies import ADAPTERS, _adapter, _request

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024 * 1024


class CountingBody(httpx.AsyncByteStream):
    """``total`` bytes in ``CHUNK`` pieces, made as they are pulled; counts what was pulled."""

    def __init__(self, total: int, pulled: list[int]) -> None:
        self.total = total
        self.pulled = pulled
        self.pulled.append(0)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            piece = b"x" * min(CHUNK, self.total - sent)
            sent += len(piece)
            self.pulled[-1] = sent
            yield piece

    async def aclose(self) -> None:
        pass


@pytest.fixture
def huge(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Every request is answered with ``state["status"]`` and a ``state["size"]``-byte body."""
    state: dict[str, Any] = {"status": 500, "size": FIFTY_MB, "pulled": []}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            state["status"], stream=CountingBody(state["size"], state["pulled"]), headers={"content-type": "application/json"}
        )

    async def public(host: str, port: int) -> tuple[str, ...]:
        return ("20.60.40.4",)

    from aiadmin.adapters import urlguard

    monkeypatch.setattr(urlguard, "_resolve", public)
    monkeypatch.setattr(transport, "backoff_delay", lambda attempt, **kwargs: 0.0)
    transport.set_transport_for_tests(httpx.MockTransport(handler))
    yield state
    transport.set_transport_for_tests(None)


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_50_mb_error_body_is_read_only_up_to_the_error_cap(huge, kind, operation):
    adapter = _adapter(kind)
    with pytest.raises(UpstreamError):
        await (adapter.chat(_request()) if operation == "chat" else adapter.list_models())
    assert huge["pulled"], "the upstream was called"
    # Each attempt (a 500 is retried) pulled at most the cap plus the chunk that crossed it.
    assert max(huge["pulled"]) <= transport.MAX_ERROR_BODY_BYTES + CHUNK


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_an_answer_over_the_body_cap_is_refused_while_it_is_read(huge, monkeypatch, kind, operation):
    monkeypatch.setattr(transport, "MAX_RESPONSE_BODY_BYTES", 1024 * 1024)
    huge["status"], huge["size"] = 200, 8 * 1024 * 1024
    adapter = _adapter(kind)
    with pytest.raises(MalformedResponseError, match="larger than 1 MB"):
        await (adapter.chat(_request()) if operation == "chat" else adapter.list_models())
    assert max(huge["pulled"]) <= 1024 * 1024 + CHUNK


async def test_a_50_mb_error_body_costs_a_bounded_amount_of_memory(huge):
    # Before: about 160 MB at peak (chunks, their join, the decoded text). Now: the cap.
    tracemalloc.start()
    try:
        with pytest.raises(UpstreamError):
            await _adapter("openai").chat(_request())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
