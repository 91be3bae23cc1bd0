"""Non-streamed bodies are capped while they are read: a huge error or answer body is never
pulled beyond its cap (counted on a generator-backed body), on every adapter's call and model
list, and the retries do not multiply it. The caps hold for compressed bodies too: a gzip bomb
is inflated only as far as the cap (as an error body, an answer, and a stream)."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aiadmin.adapters import bodies
from aiadmin.adapters.errors import MalformedResponseError, UpstreamError
from aiadmin.adapters.sse import MAX_EVENT_CHARS

from ..compressed_bodies import RawBody, gzip_bomb
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
def huge(mock_upstream) -> dict[str, Any]:
    """Every request is answered with ``state["status"]`` and a ``state["size"]``-byte body."""
    state: dict[str, Any] = {"status": 500, "size": FIFTY_MB, "pulled": []}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            state["status"], stream=CountingBody(state["size"], state["pulled"]), headers={"content-type": "application/json"}
        )

    mock_upstream(handler)
    return state


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_50_mb_error_body_is_read_only_up_to_the_error_cap(huge, kind, operation):
    adapter = _adapter(kind)
    with pytest.raises(UpstreamError):
        await (adapter.chat(_request()) if operation == "chat" else adapter.list_models())
    assert huge["pulled"], "the upstream was called"
    # Each attempt (a 500 is retried) pulled at most the cap plus the chunk that crossed it.
    assert max(huge["pulled"]) <= bodies.MAX_ERROR_BODY_BYTES + CHUNK


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_an_answer_over_the_body_cap_is_refused_while_it_is_read(huge, monkeypatch, kind, operation):
    monkeypatch.setattr(bodies, "MAX_RESPONSE_BODY_BYTES", 1024 * 1024)
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


# --- Compressed bodies: the caps count decoded bytes, so decoding must stop with them -------
#
# A gzip bomb (1 GB of zeros in about 1 MB) served as raw network reads of 64 KiB: httpx alone
# inflates each read whole (about 64 MB) before any cap sees it, whatever Accept-Encoding said.
# Peaks are measured with tracemalloc around the whole call, client and retries included.

# What a call costs besides the body it reads (client, request, error objects, tracemalloc).
OVERHEAD = 4 * 1024 * 1024


@pytest.fixture
def bomb(mock_upstream) -> dict[str, Any]:
    """Every request is answered with ``state["status"]`` and a gzip bomb as raw bytes."""
    state: dict[str, Any] = {"status": 500, "content_type": "application/json", "pulled": []}
    body = gzip_bomb()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            state["status"],
            stream=RawBody(body, pulled=state["pulled"]),
            headers={"content-type": state["content_type"], "content-encoding": "gzip"},
        )

    mock_upstream(handler)
    return state


async def _peak_bytes(call: Any) -> int:
    tracemalloc.start()
    try:
        await call
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


async def _expect(error: type[Exception], call: Any, match: str | None = None) -> None:
    with pytest.raises(error, match=match):
        await call


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_gzip_bomb_error_body_is_inflated_only_up_to_the_error_cap(bomb, kind, operation):
    adapter = _adapter(kind)
    call = adapter.chat(_request()) if operation == "chat" else adapter.list_models()
    peak = await _peak_bytes(_expect(UpstreamError, call))
    # Each request is tried three times (a 500 is retried); the Hugging Face model list sends
    # several requests at once, each of which may hold its own capped body.
    assert bomb["pulled"] and len(bomb["pulled"]) % 3 == 0
    in_parallel = len(bomb["pulled"]) // 3
    # Before: about 150 MB per request (each 64 KiB read inflated whole, then joined).
    assert peak < in_parallel * bodies.MAX_ERROR_BODY_BYTES + OVERHEAD, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("operation", ["chat", "list_models"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_gzip_bomb_answer_is_refused_at_the_body_cap(bomb, monkeypatch, kind, operation):
    monkeypatch.setattr(bodies, "MAX_RESPONSE_BODY_BYTES", 1024 * 1024)
    bomb["status"] = 200
    adapter = _adapter(kind)
    call = adapter.chat(_request()) if operation == "chat" else adapter.list_models()
    peak = await _peak_bytes(_expect(MalformedResponseError, call, match="larger than 1 MB"))
    in_parallel = len(bomb["pulled"])  # an answer that is refused is not retried
    assert peak < in_parallel * 1024 * 1024 + OVERHEAD, f"peak {peak / 1e6:.1f} MB"
    # Far less than one network read of the bomb was needed to fill the cap.
    assert max(bomb["pulled"]) <= CHUNK


async def test_a_gzip_bomb_answer_past_the_64_mb_cap_costs_the_cap_not_more(bomb):
    bomb["status"] = 200
    call = _adapter("openai").chat(_request())
    peak = await _peak_bytes(_expect(MalformedResponseError, call, match="larger than 64 MB"))
    # Before: about 210 MB (a read inflated whole past the cap, and zlib's own buffers).
    assert peak < bodies.MAX_RESPONSE_BODY_BYTES + OVERHEAD, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_gzip_bomb_stream_ends_at_the_event_cap_in_bounded_memory(bomb, kind):
    # 1 GB of zeros is one endless line, never an event: the per-event cap ends it.
    bomb["status"], bomb["content_type"] = 200, "text/event-stream"
    adapter = _adapter(kind)

    async def drain() -> None:
        async for _ in adapter.stream_chat(_request()):
            pass

    peak = await _peak_bytes(_expect(MalformedResponseError, drain(), match="event that is too large"))
    # Before: about 280 MB (a read inflated whole, then decoded to text beside it).
    assert peak < MAX_EVENT_CHARS + OVERHEAD, f"peak {peak / 1e6:.1f} MB"
