"""The Anthropic adapter against a fake Messages/Models API speaking the real wire format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from aiadmin.adapters import retries, shared_client
from aiadmin.adapters.anthropic import AnthropicAdapter
from aiadmin.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamError,
)
from aiadmin.adapters.registry import registry
from aiadmin.adapters.sse import StreamEndedEarly
from aiadmin.adapters.types import ChatChunk, ChatFinish, ChatMessage, ChatRequest, Usage

from .fixtures import anthropic_payloads as payloads

CANARY = "sk-canary-anthropic-0123456789"
BASE_URL = "https://api.anthropic.com"
CONFIG = {
    "auth": {"style": "header", "header": "x-api-key"},
    "extra_headers": {"anthropic-version": "2023-06-01"},
    "models_path": "/v1/models",
    "capability_rules": {"exclude": ["embed", "moderation"]},
    "default_params": {},
}

Handler = Callable[[httpx.Request], httpx.Response]


class TrackedStream(httpx.AsyncByteStream):
    """A response body that records whether the adapter closed it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


class FakeAnthropic:
    """Routes requests to handlers by (method, path) and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Handler]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *handlers: Handler) -> None:
        self.routes[(method, path)] = list(handlers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handlers = self.routes[(request.method, request.url.path)]
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return handler(request)


@pytest.fixture
def server() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic()
    shared_client.set_transport_for_tests(httpx.MockTransport(fake))
    yield fake
    shared_client.set_transport_for_tests(None)


@pytest.fixture
def adapter() -> AnthropicAdapter:
    return AnthropicAdapter(base_url=BASE_URL, api_key=CANARY, config=CONFIG, provider_name="Anthropic")


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def stream_response(stream: TrackedStream) -> Handler:
    return lambda request: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=stream
    )


def chat_request(**kwargs: object) -> ChatRequest:
    messages = (
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Hello."),
        ChatMessage(role="user", content="Greet me again"),
    )
    return ChatRequest(model="claude-sonnet-4-5-20250929", messages=messages, **kwargs)  # type: ignore[arg-type]


async def collect(adapter: AnthropicAdapter, request: ChatRequest) -> list[ChatChunk | Usage]:
    return [item async for item in adapter.stream_chat(request)]


# ---------------------------------------------------------------------- registry


def test_anthropic_adapter_is_registered_under_its_key() -> None:
    assert registry.get("anthropic") is AnthropicAdapter
    assert AnthropicAdapter.capabilities == frozenset({"chat", "content"})


# ---------------------------------------------------------------------- models


async def test_list_models_follows_has_more_and_last_id_across_pages(server, adapter) -> None:
    server.on("GET", "/v1/models", json_response(payloads.MODEL_PAGE_1), json_response(payloads.MODEL_PAGE_2))

    models = await adapter.list_models()

    assert [m.id for m in models] == [
        "claude-opus-4-1-20250805",
        "claude-sonnet-4-5-20250929",
        "claude-3-5-haiku-20241022",
    ]
    first, second = server.requests
    assert first.url.params["limit"] == "1000"
    assert "after_id" not in first.url.params
    assert second.url.params["after_id"] == "claude-sonnet-4-5-20250929"


async def test_list_models_maps_display_name_context_window_and_text_capabilities(server, adapter) -> None:
    server.on("GET", "/v1/models", json_response(payloads.MODEL_PAGE_1), json_response(payloads.MODEL_PAGE_2))

    models = {m.id: m for m in await adapter.list_models()}

    sonnet = models["claude-sonnet-4-5-20250929"]
    assert sonnet.name == "Claude Sonnet 4.5"
    assert sonnet.context_window == 1_000_000
    assert sonnet.capabilities == frozenset({"chat", "content"})
    assert sonnet.pricing_input is None and sonnet.pricing_output is None
    assert "2025-09-29" in sonnet.description
    assert models["claude-3-5-haiku-20241022"].context_window is None


async def test_requests_carry_x_api_key_and_anthropic_version_headers(server, adapter) -> None:
    server.on("GET", "/v1/models", json_response(payloads.MODEL_PAGE_2))

    await adapter.list_models()

    (request,) = server.requests
    assert request.headers["x-api-key"] == CANARY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert CANARY not in str(request.url)


async def test_a_base_url_ending_in_v1_does_not_double_the_version_segment(server) -> None:
    server.on("GET", "/v1/models", json_response(payloads.MODEL_PAGE_2))
    adapter = AnthropicAdapter(base_url=f"{BASE_URL}/v1/", api_key=CANARY, config={})

    await adapter.list_models()

    assert server.requests[0].url.path == "/v1/models"
    assert server.requests[0].headers["anthropic-version"] == "2023-06-01"


# ---------------------------------------------------------------------- streaming


async def test_stream_chat_yields_text_deltas_then_one_usage(server, adapter) -> None:
    server.on("POST", "/v1/messages", stream_response(TrackedStream(payloads.STREAM_EVENTS)))

    items = await collect(adapter, chat_request())

    assert items == [ChatChunk("Hello"), ChatChunk("!"), ChatFinish("end_turn"), Usage(input_tokens=25, output_tokens=15)]


async def test_stream_chat_asks_for_an_event_stream(server, adapter) -> None:
    server.on("POST", "/v1/messages", stream_response(TrackedStream(payloads.STREAM_EVENTS)))

    await collect(adapter, chat_request())

    assert server.requests[0].headers.get_list("accept") == ["text/event-stream"]


async def test_stream_chat_sends_system_top_level_stream_true_and_required_max_tokens(server, adapter) -> None:
    server.on("POST", "/v1/messages", stream_response(TrackedStream(payloads.STREAM_EVENTS)))

    await collect(adapter, chat_request(temperature=0.3))

    body = json.loads(server.requests[0].content)
    assert body["system"] == "Be brief."
    assert body["stream"] is True
    assert body["max_tokens"] == 1024
    assert body["temperature"] == 0.3
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Greet me again"},
    ]


async def test_max_tokens_comes_from_the_request_then_the_provider_default_params(server) -> None:
    server.on("POST", "/v1/messages", json_response(payloads.MESSAGE_RESPONSE))
    adapter = AnthropicAdapter(base_url=BASE_URL, api_key=CANARY, config={"default_params": {"max_tokens": 4096}})

    await adapter.chat(chat_request())
    await adapter.chat(chat_request(max_tokens=77))

    assert [json.loads(r.content)["max_tokens"] for r in server.requests] == [4096, 77]


async def test_temperature_above_anthropics_range_is_clamped_to_one(server, adapter) -> None:
    server.on("POST", "/v1/messages", json_response(payloads.MESSAGE_RESPONSE))

    await adapter.chat(chat_request(temperature=1.7))

    assert json.loads(server.requests[0].content)["temperature"] == 1.0


async def test_thinking_and_signature_deltas_are_not_shown_as_answer_text(server, adapter) -> None:
    server.on("POST", "/v1/messages", stream_response(TrackedStream(payloads.THINKING_STREAM_EVENTS)))

    items = await collect(adapter, chat_request())

    assert items == [ChatChunk("Answer."), ChatFinish("end_turn"), Usage(input_tokens=25, output_tokens=42)]


async def test_overloaded_error_event_mid_stream_raises_a_retryable_upstream_error(server, adapter) -> None:
    body = TrackedStream(payloads.STREAM_WITH_ERROR)
    server.on("POST", "/v1/messages", stream_response(body))
    received: list[ChatChunk | Usage] = []

    with pytest.raises(UpstreamError) as caught:
        async for item in adapter.stream_chat(chat_request()):
            received.append(item)

    assert received == [ChatChunk("Hello")]
    assert caught.value.retryable
    assert "overloaded" in str(caught.value).lower()
    assert body.closed


async def test_a_stream_without_message_stop_is_a_failed_turn(server, adapter) -> None:
    body = TrackedStream(payloads.STREAM_CUT_SHORT)
    server.on("POST", "/v1/messages", stream_response(body))

    with pytest.raises(StreamEndedEarly):
        await collect(adapter, chat_request())
    assert body.closed


async def test_the_response_is_closed_when_the_consumer_stops_early(server, adapter) -> None:
    body = TrackedStream(payloads.STREAM_EVENTS)
    server.on("POST", "/v1/messages", stream_response(body))

    stream = adapter.stream_chat(chat_request())
    assert await anext(stream) == ChatChunk("Hello")
    await stream.aclose()

    assert body.closed


async def test_a_system_prompt_alone_is_refused_before_any_request(server, adapter) -> None:
    request = ChatRequest(model="claude-sonnet-4-5-20250929", messages=(ChatMessage("system", "Hi"),))

    with pytest.raises(BadRequestError):
        await collect(adapter, request)
    assert server.requests == []


# ---------------------------------------------------------------------- non-streamed


async def test_chat_joins_text_blocks_and_reports_usage_and_stop_reason(server, adapter) -> None:
    server.on("POST", "/v1/messages", json_response(payloads.MESSAGE_RESPONSE))

    result = await adapter.chat(chat_request())

    assert result.text == "Hi! How can I help?"
    assert result.usage == Usage(input_tokens=12, output_tokens=9)
    assert result.finish_reason == "end_turn"
    assert "stream" not in json.loads(server.requests[0].content)


# ---------------------------------------------------------------------- key validation


async def test_validate_key_asks_for_one_model(server, adapter) -> None:
    server.on("GET", "/v1/models", json_response(payloads.MODEL_PAGE_2))

    result = await adapter.validate_key()

    assert result.ok
    assert server.requests[0].url.params["limit"] == "1"


async def test_validate_key_reports_a_rejected_key_without_the_key(server, adapter) -> None:
    body = payloads.error_body("authentication_error", f"invalid x-api-key {CANARY}")
    server.on("GET", "/v1/models", json_response(body, status=401))

    result = await adapter.validate_key()

    assert not result.ok
    assert CANARY not in result.message


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (401, "authentication_error", AuthenticationError),
        (403, "permission_error", PermissionDeniedError),
    ],
)
async def test_auth_failures_map_to_the_error_tree_and_never_show_the_key(
    server, adapter, status, error_type, expected
) -> None:
    body = payloads.error_body(error_type, f"Key {CANARY} is not allowed here")
    server.on("POST", "/v1/messages", json_response(body, status=status))

    with pytest.raises(expected) as caught:
        await collect(adapter, chat_request())

    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value.args)
    assert len(server.requests) == 1  # never retried


async def test_429_with_a_long_retry_after_fails_fast_with_the_wait_attached(server, adapter) -> None:
    body = payloads.error_body("rate_limit_error", f"Number of requests has exceeded your rate limit ({CANARY})")
    server.on("POST", "/v1/messages", json_response(body, status=429, headers={"retry-after": "30"}))

    with pytest.raises(RateLimitedError) as caught:
        await adapter.chat(chat_request())

    assert caught.value.retry_after == 30
    assert CANARY not in str(caught.value)
    assert len(server.requests) == 1


async def test_http_529_overloaded_is_retried_then_succeeds(server, adapter, monkeypatch) -> None:
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, jitter=None: 0.0)
    overloaded = payloads.error_body("overloaded_error", "Overloaded")
    server.on(
        "POST",
        "/v1/messages",
        json_response(overloaded, status=529),
        json_response(payloads.MESSAGE_RESPONSE),
    )

    result = await adapter.chat(chat_request())

    assert result.text == "Hi! How can I help?"
    assert len(server.requests) == 2


async def test_stop_sequences_are_sent_as_stop_sequences(server, adapter) -> None:
    server.on("POST", "/v1/messages", stream_response(TrackedStream(payloads.STREAM_EVENTS)))
    await collect(adapter, chat_request(stop=("END",)))
    assert json.loads(server.requests[0].content)["stop_sequences"] == ["END"]
