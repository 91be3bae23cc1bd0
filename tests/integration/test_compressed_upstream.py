"""A compressed upstream over real HTTP (the shared transport, httpcore's reads, the service):
a gzip bomb as a stream ends at the answer's size cap, and as an error body is read only up to
its cap, each with its ledger row and a bounded peak; a normal gzip stream still streams."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiadmin.adapters import bodies, errors
from aiadmin.providers.models import AIModel, AIRequestLog
from aiadmin.unified import UnifiedAIService
from aiadmin.unified.errors import StreamLimitError
from tests.aiadmin_overrides import aiadmin_override
from tests.compressed_bodies import RawHTTPServer, gzip_body, gzip_bomb
from tests.fake_network import FakeNetwork, fake_network, real_transport  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_transport")]

service = UnifiedAIService()
SHARED = "sk-shared-compressed-key-000000001"
# 100 characters of answer per event, repeated to 1 GB (about 3 MB compressed).
EVENT = b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"' + b"word " * 20 + b'"}}]}\n\n'
STREAM_HEADERS = {"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}
# Django, the ledger row and the client besides the body itself.
OVERHEAD = 8 * 1024 * 1024


@pytest.fixture
def upstream(make_provider, fake_network: FakeNetwork) -> Iterator[Callable[..., Any]]:  # noqa: F811
    """``upstream(body, status=..., headers=...)``: a provider whose base URL is a loopback
    server sending exactly that."""
    servers: list[RawHTTPServer] = []

    def start(body: bytes, *, status: int = 200, headers: dict[str, str]) -> Any:
        server = RawHTTPServer(body, status=status, headers=headers).__enter__()
        servers.append(server)
        fake_network.answer("compressed.corp.test", ("127.0.0.1",))
        provider = make_provider(
            adapter="openai",
            api_base_url=f"http://compressed.corp.test:{server.port}/v1",
            capabilities={"chat": {"supported": True, "dynamic_models": True}},
            config={"auth": {"style": "bearer"}, "allow_private_network": True},
            shared_api_key=SHARED,
        )
        AIModel.objects.create(provider=provider, capability="chat", model_id="gpt-4o", is_active=True)
        return provider

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _peak(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_a_gzip_bomb_stream_ends_at_the_answer_cap_with_its_row_in_bounded_memory(upstream, superuser):
    provider = upstream(gzip_bomb(EVENT), headers=STREAM_HEADERS)
    received: list[str] = []

    def consume() -> None:
        with pytest.raises(StreamLimitError, match="500,000 characters"):
            for item in service.stream_chat("go", superuser, provider_slug=provider.slug):
                if isinstance(item, str):
                    received.append(item)

    peak = _peak(consume)
    assert sum(map(len, received)) <= 500_000
    assert AIRequestLog.objects.get().status == "stream_limit"
    # Before: about 100 MB (a 64 KiB read inflated to 21 MB, split into 110,000 events at once).
    assert peak < OVERHEAD, f"peak {peak / 1e6:.1f} MB"


@aiadmin_override(STREAM_MAX_CHARS=10**9)
def test_a_gzip_bomb_of_one_endless_line_ends_at_the_event_cap(upstream, superuser):
    from aiadmin.adapters.sse import MAX_EVENT_CHARS

    provider = upstream(gzip_bomb(), headers=STREAM_HEADERS)

    def consume() -> None:
        with pytest.raises(errors.MalformedResponseError, match="event that is too large"):
            for _ in service.stream_chat("go", superuser, provider_slug=provider.slug):
                pass

    peak = _peak(consume)
    assert AIRequestLog.objects.get().status == "malformed"
    # Before: about 280 MB.
    assert peak < MAX_EVENT_CHARS + OVERHEAD, f"peak {peak / 1e6:.1f} MB"


def test_a_gzip_bomb_error_body_is_read_only_up_to_its_cap(upstream, superuser):
    provider = upstream(gzip_bomb(), status=500, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})

    def call() -> None:
        with pytest.raises(errors.UpstreamError):
            service.chat("hi", superuser, provider_slug=provider.slug)

    peak = _peak(call)
    assert AIRequestLog.objects.get().status != "ok"
    # Before: about 150 MB per attempt.
    assert peak < bodies.MAX_ERROR_BODY_BYTES + OVERHEAD, f"peak {peak / 1e6:.1f} MB"


def test_a_normal_gzip_stream_still_streams(upstream, superuser):
    events = EVENT * 3 + b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    provider = upstream(gzip_body(events, flush_every=len(EVENT)), headers=STREAM_HEADERS)
    items = list(service.stream_chat("go", superuser, provider_slug=provider.slug))
    answer = "".join(item for item in items if isinstance(item, str))
    assert answer == ("word " * 20) * 3
    assert AIRequestLog.objects.get().status == "ok"
