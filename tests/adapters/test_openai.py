"""The OpenAI-compatible adapter against recorded wire shapes (see fixtures/openai_payloads.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from aiadmin.adapters import retries, shared_client
from aiadmin.adapters.errors import (
    AIAdminError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    ProviderConnectionError,
    QuotaExceededError,
    UnsupportedOperationError,
    UpstreamError,
)
from aiadmin.adapters.openai import OpenAIAdapter
from aiadmin.adapters.registry import registry
from aiadmin.adapters.sse import StreamEndedEarly
from aiadmin.adapters.types import (
    ChatFinish,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ImageRequest,
    SpeechRequest,
    TranscriptionRequest,
    Usage,
)

from .fixtures import openai_payloads as payloads

CANARY = "sk-canary-openai-0123456789"
BASE = "https://api.openai.com/v1"

Handler = Callable[[httpx.Request], httpx.Response]


class Upstream:
    """A MockTransport handler routing (method, URL without query) to canned responses."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, url: str, response: httpx.Response | Handler) -> Upstream:
        self.routes[(method, url)] = response if callable(response) else (lambda request: response)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url.copy_with(query=None))
        handler = self.routes.get((request.method, url))
        if handler is None:
            return httpx.Response(404, json={"error": {"message": f"no route for {request.method} {url}"}})
        return handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    server = Upstream()
    shared_client.set_transport_for_tests(httpx.MockTransport(server))
    # Retries of 5xx/connection failures must not slow the suite down.
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, **kwargs: 0.0)
    yield server
    shared_client.set_transport_for_tests(None)


def adapter(config: dict[str, Any] | None = None, *, base_url: str = BASE, api_key: str | None = CANARY) -> OpenAIAdapter:
    return OpenAIAdapter(base_url=base_url, api_key=api_key, config=config or {}, provider_name="Test provider")


def chat_request(**kwargs: Any) -> ChatRequest:
    return ChatRequest(
        model=kwargs.pop("model", "gpt-4o"),
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")),
        **kwargs,
    )


class ByteChunks(httpx.AsyncByteStream):
    """A response body delivered in the given pieces, remembering whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def event_stream(body: bytes | list[bytes] | ByteChunks) -> httpx.Response:
    if not isinstance(body, ByteChunks):
        body = ByteChunks([body] if isinstance(body, bytes) else body)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


async def collect(stream: AsyncIterator[ChatChunk | Usage]) -> list[ChatChunk | Usage]:
    return [item async for item in stream]


def body_of(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


def rejected_key() -> httpx.Response:
    return httpx.Response(401, json=payloads.openai_invalid_key_error("sk-canar***********6789"))


# =========================================================================================
# Auth and headers
# =========================================================================================


async def test_bearer_auth_and_extra_headers_are_sent_with_every_request(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=payloads.CHAT_COMPLETION))
    openrouter_headers = {"HTTP-Referer": "https://github.com/aiadmin/aiadmin", "X-Title": "aiadmin"}
    provider = adapter({"auth": {"style": "bearer"}, "extra_headers": openrouter_headers})

    await provider.list_models()
    await provider.chat(chat_request())

    for request in upstream.requests:
        assert request.headers["Authorization"] == f"Bearer {CANARY}"
        assert request.headers["HTTP-Referer"] == "https://github.com/aiadmin/aiadmin"
        assert request.headers["X-Title"] == "aiadmin"
        assert CANARY not in str(request.url)


async def test_header_auth_sends_the_key_in_the_named_header_only(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))
    azure_style = adapter({"auth": {"style": "header", "header": "api-key"}})

    await azure_style.list_models()

    assert upstream.last.headers["api-key"] == CANARY
    assert "Authorization" not in upstream.last.headers
    assert CANARY not in str(upstream.last.url)


async def test_query_auth_sends_the_key_as_a_query_parameter(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))

    await adapter({"auth": {"style": "query", "param": "key"}}).list_models()

    assert upstream.last.url.params["key"] == CANARY
    assert "Authorization" not in upstream.last.headers


async def test_auth_none_sends_no_credentials_even_with_a_key_set(upstream: Upstream) -> None:
    upstream.on("GET", "http://localhost:11434/v1/models", httpx.Response(200, json={"object": "list", "data": []}))

    await adapter({"auth": {"style": "none"}}, base_url="http://localhost:11434/v1").list_models()

    assert "Authorization" not in upstream.last.headers
    assert CANARY not in str(upstream.last.url)


async def test_extra_headers_cannot_replace_the_auth_header(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))

    await adapter({"extra_headers": {"Authorization": "Bearer someone-else"}}).list_models()

    assert upstream.last.headers["Authorization"] == f"Bearer {CANARY}"


# =========================================================================================
# Model lists
# =========================================================================================


async def test_openai_models_get_capabilities_from_ids_and_drop_embeddings_moderation_realtime(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))

    models = {m.id: m for m in await adapter(payloads.catalogue_config("openai")).list_models()}

    assert models["gpt-4o"].capabilities == {"chat", "content"}
    assert models["o3-mini"].capabilities == {"chat", "content"}
    assert models["dall-e-3"].capabilities == {"image"}
    assert models["gpt-image-1"].capabilities == {"image"}
    for audio_model in ("tts-1", "gpt-4o-mini-tts", "whisper-1", "gpt-4o-transcribe"):
        assert models[audio_model].capabilities == {"audio"}
    for hidden in ("text-embedding-3-small", "omni-moderation-latest", "gpt-4o-realtime-preview", "babbage-002", "sora-2"):
        assert hidden not in models
    assert models["gpt-4o"].name == "gpt-4o"  # OpenAI's list has no display names
    assert models["gpt-4o"].pricing_input is None and models["gpt-4o"].is_free is False


async def test_model_list_is_sorted_by_id(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))

    ids = [m.id for m in await adapter().list_models()]

    assert ids == sorted(ids)


async def test_openrouter_models_use_modalities_per_million_pricing_free_flags_and_context(upstream: Upstream) -> None:
    base = "https://openrouter.ai/api/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.OPENROUTER_MODELS))
    provider = adapter(payloads.catalogue_config("openrouter"), base_url=base)

    models = {m.id: m for m in await provider.list_models()}

    gpt4o = models["openai/gpt-4o"]
    assert gpt4o.name == "OpenAI: GPT-4o"
    assert gpt4o.description.startswith("GPT-4o")
    assert gpt4o.context_window == 128000
    assert gpt4o.capabilities == {"chat", "content"}
    assert (gpt4o.pricing_input, gpt4o.pricing_output) == (Decimal("2.5"), Decimal("10"))
    assert gpt4o.is_free is False
    assert models["meta-llama/llama-3.3-70b-instruct:free"].is_free is True
    # Zero-priced keys omitted (2026 format): free, priced at zero.
    omitted = models["openrouter/horizon-beta"]
    assert omitted.is_free is True
    assert (omitted.pricing_input, omitted.pricing_output) == (Decimal(0), Decimal(0))
    # "-1" is variable pricing: unknown, never free.
    auto = models["openrouter/auto"]
    assert (auto.pricing_input, auto.pricing_output, auto.is_free) == (None, None, False)
    assert models["google/gemini-2.5-flash-image"].capabilities == {"image", "chat", "content"}
    assert "openai/text-embedding-3-small" not in models


@pytest.fixture
def openrouter_today(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    monkeypatch.setattr("aiadmin.adapters.openai._today", lambda: datetime.date(2026, 11, 29))


async def openrouter_models(upstream: Upstream) -> dict[str, Any]:
    base = "https://openrouter.ai/api/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.OPENROUTER_MODELS))
    provider = adapter(payloads.catalogue_config("openrouter"), base_url=base)
    return {m.id: m for m in await provider.list_models()}


async def test_openrouter_speech_and_transcription_models_are_audio_models(upstream: Upstream, openrouter_today: None) -> None:
    models = await openrouter_models(upstream)

    assert models["assemblyai/assemblyai-tts-1"].capabilities == {"audio"}
    assert models["openai/whisper-large-v3"].capabilities == {"audio"}
    assert models["openai/whisper-large-v3"].not_callable == ()


async def test_openrouter_audio_output_chat_models_are_not_offered_as_audio_and_say_why(
    upstream: Upstream, openrouter_today: None
) -> None:
    """OpenRouter's "audio" output models answer in audio only inside streamed chat
    completions; the audio capability calls /audio/speech and /audio/transcriptions."""
    models = await openrouter_models(upstream)

    audio_chat = models["openai/gpt-4o-audio-preview"]
    assert audio_chat.capabilities == {"chat", "content"}
    ((capability, reason),) = audio_chat.not_callable
    assert capability == "audio" and "chat completion" in reason and "speech model" in reason


async def test_openrouter_model_past_its_expiration_date_is_not_offered(upstream: Upstream, openrouter_today: None) -> None:
    models = await openrouter_models(upstream)

    assert "inception/mercury-2" not in models  # expired 2026-11-08


async def test_openrouter_model_with_a_future_expiration_date_is_flagged_deprecated(
    upstream: Upstream, openrouter_today: None
) -> None:
    models = await openrouter_models(upstream)

    assert "2026-12-31" in models["z-ai/glm-4.7"].deprecation
    assert models["openai/gpt-4o"].deprecation == ""


async def test_openrouter_transcription_sends_base64_json_and_reads_the_text(upstream: Upstream) -> None:
    base = "https://openrouter.ai/api/v1"
    answer = {"text": "Hello, this is a transcription.", "usage": {"seconds": 9.2, "total_tokens": 113, "cost": 0.000508}}
    upstream.on("POST", f"{base}/audio/transcriptions", httpx.Response(200, json=answer))
    provider = adapter(payloads.catalogue_config("openrouter"), base_url=base)
    audio = b"RIFF\x24\x00\x00\x00WAVEfmt sample-bytes"

    transcript = await provider.speech_to_text(
        TranscriptionRequest(model="openai/whisper-large-v3", audio=audio, filename="memo.wav", language="en")
    )

    assert transcript.text == "Hello, this is a transcription."
    sent = upstream.last
    assert sent.headers["content-type"] == "application/json"
    body = body_of(sent)
    assert body == {
        "model": "openai/whisper-large-v3",
        "input_audio": {"data": base64.b64encode(audio).decode(), "format": "wav"},
        "language": "en",
    }


async def test_json_transcription_of_an_unknown_audio_format_is_a_bad_request_before_any_call(upstream: Upstream) -> None:
    provider = adapter({"transcription_request": "json"})

    with pytest.raises(BadRequestError):
        await provider.speech_to_text(TranscriptionRequest(model="whisper-1", audio=b"x", filename="clip.bin"))

    assert upstream.requests == []


async def test_models_path_keeps_its_query_string(upstream: Upstream) -> None:
    base = "https://openrouter.ai/api/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.OPENROUTER_MODELS))

    await adapter({"models_path": "/models?output_modalities=all"}, base_url=base).list_models()

    assert upstream.last.url.params["output_modalities"] == "all"


async def test_query_auth_is_added_to_a_models_path_that_has_its_own_query(upstream: Upstream) -> None:
    base = "https://openrouter.ai/api/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.OPENROUTER_MODELS))
    config = {"models_path": "/models?output_modalities=all", "auth": {"style": "query", "param": "key"}}
    provider = adapter(config, base_url=base)

    await provider.list_models()

    assert dict(upstream.last.url.params) == {"output_modalities": "all", "key": CANARY}


async def test_groq_models_put_whisper_and_tts_under_audio_and_drop_guard_embeddings_and_inactive(
    upstream: Upstream,
) -> None:
    base = "https://api.groq.com/openai/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.GROQ_MODELS))

    models = {m.id: m for m in await adapter(payloads.catalogue_config("groq"), base_url=base).list_models()}

    assert set(models) == {
        "llama-3.3-70b-versatile",
        "openai/gpt-oss-120b",
        "whisper-large-v3",
        "whisper-large-v3-turbo",
        "playai-tts",
        "canopylabs/orpheus-v1-english",
    }
    assert models["llama-3.3-70b-versatile"].capabilities == {"chat", "content"}
    assert models["llama-3.3-70b-versatile"].context_window == 131072
    for audio_model in ("whisper-large-v3", "whisper-large-v3-turbo", "playai-tts", "canopylabs/orpheus-v1-english"):
        assert models[audio_model].capabilities == {"audio"}


async def test_together_bare_list_uses_type_and_display_name(upstream: Upstream) -> None:
    base = "https://api.together.ai/v1"
    upstream.on("GET", f"{base}/models", httpx.Response(200, json=payloads.TOGETHER_MODELS))

    models = {m.id: m for m in await adapter(payloads.catalogue_config("together"), base_url=base).list_models()}

    assert set(models) == {
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "black-forest-labs/FLUX.1-schnell",
        "openai/whisper-large-v3",
        "cartesia/sonic-2",
    }
    llama = models["meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    assert llama.name == "Meta Llama 3.3 70B Instruct Turbo"
    assert llama.capabilities == {"chat", "content"}
    assert llama.context_window == 131072
    # Together prices are per million already; the shape is not converted, so unknown.
    assert (llama.pricing_input, llama.is_free) == (None, False)
    assert models["black-forest-labs/FLUX.1-schnell"].capabilities == {"image"}
    assert models["openai/whisper-large-v3"].capabilities == {"audio"}
    assert models["cartesia/sonic-2"].capabilities == {"audio"}


async def test_absolute_models_path_on_the_base_urls_host_is_used(upstream: Upstream) -> None:
    upstream.on("GET", "https://models.github.ai/catalog/models", httpx.Response(200, json=payloads.GITHUB_MODELS))
    github = adapter(
        {"models_path": "https://models.github.ai/catalog/models", "extra_headers": {"X-GitHub-Api-Version": "2022-11-28"}},
        base_url="https://models.github.ai/inference",
    )

    models = await github.list_models()

    assert [m.id for m in models] == ["openai/gpt-4.1"]  # the embeddings model is dropped
    assert models[0].name == "OpenAI GPT-4.1"
    assert models[0].description.startswith("gpt-4.1 outperforms")
    assert models[0].context_window == 1048576
    assert upstream.last.headers["X-GitHub-Api-Version"] == "2022-11-28"


@pytest.mark.parametrize(
    "models_path",
    [
        "https://evil.example.com/models",
        "http://models.github.ai/catalog/models",  # same host, downgraded scheme
        "https://models.github.ai:8443/catalog/models",  # same host, another port
        "ftp://models.github.ai/catalog/models",
        "",
    ],
)
async def test_models_path_off_the_base_urls_origin_is_refused_before_any_request(
    upstream: Upstream, models_path: str
) -> None:
    github = adapter({"models_path": models_path}, base_url="https://models.github.ai/inference")

    with pytest.raises(ConfigurationError) as caught:
        await github.list_models()

    assert "models_path" in caught.value.message
    assert upstream.requests == []


async def test_models_path_null_raises_unsupported_with_a_hint_to_enter_ids_by_hand(upstream: Upstream) -> None:
    perplexity = adapter({"models_path": None}, base_url="https://api.perplexity.ai")

    with pytest.raises(UnsupportedOperationError) as caught:
        await perplexity.list_models()

    assert "by hand" in caught.value.message
    assert upstream.requests == []


async def test_model_list_of_an_unexpected_shape_is_malformed(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json={"object": "list", "models": "nope"}))

    with pytest.raises(MalformedResponseError):
        await adapter().list_models()


# =========================================================================================
# Streaming chat
# =========================================================================================


async def test_streaming_chat_yields_text_chunks_then_exactly_one_usage(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))

    items = await collect(adapter().stream_chat(chat_request(temperature=0.2, max_tokens=50)))

    assert items == [
        ChatChunk("Hello"),
        ChatChunk("! How"),
        ChatChunk(" can I help?"),
        ChatFinish("stop"),
        Usage(input_tokens=12, output_tokens=7),
    ]
    sent = body_of(upstream.last)
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("gpt-4o", 0.2, 50)


async def test_streamed_chat_asks_for_an_event_stream_over_any_configured_accept(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))

    await collect(adapter({"extra_headers": {"ACCEPT": "application/json"}}).stream_chat(chat_request()))

    assert upstream.last.headers.get_list("accept") == ["text/event-stream"]


async def test_chat_body_omits_unset_temperature_and_max_tokens_and_merges_default_params(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))
    provider = adapter({"default_params": {"top_p": 0.9, "stream": False, "model": "other", "temperature": 1.0}})

    await collect(provider.stream_chat(chat_request()))

    sent = body_of(upstream.last)
    assert "max_tokens" not in sent and "max_completion_tokens" not in sent
    assert sent["temperature"] == 1.0  # from default_params, since the request left it unset
    assert sent["top_p"] == 0.9
    assert (sent["stream"], sent["model"]) == (True, "gpt-4o")  # request fields win


async def test_max_tokens_param_config_sends_max_completion_tokens(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))

    await collect(adapter({"max_tokens_param": "max_completion_tokens"}).stream_chat(chat_request(max_tokens=64)))

    sent = body_of(upstream.last)
    assert sent["max_completion_tokens"] == 64
    assert "max_tokens" not in sent


async def test_request_max_tokens_replaces_a_token_limit_from_default_params(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))
    provider = adapter({"max_tokens_param": "max_completion_tokens", "default_params": {"max_tokens": 4096}})

    await collect(provider.stream_chat(chat_request(max_tokens=64)))

    sent = body_of(upstream.last)
    assert sent["max_completion_tokens"] == 64
    assert "max_tokens" not in sent


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini-2025-08-07"])
async def test_openai_catalogue_row_leaves_out_what_reasoning_models_reject(upstream: Upstream, model: str) -> None:
    """o-series and GPT-5 answer 400 unsupported_parameter to max_tokens and to sampling fields."""
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))
    provider = adapter(payloads.catalogue_config("openai"))

    await collect(provider.stream_chat(chat_request(model=model, temperature=0.2, max_tokens=50)))

    sent = body_of(upstream.last)
    assert sent["max_completion_tokens"] == 50
    assert not {"max_tokens", "temperature", "top_p"} & sent.keys()
    assert (sent["model"], sent["stream"]) == (model, True)


async def test_openai_catalogue_row_keeps_sampling_for_other_models(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))

    await collect(adapter(payloads.catalogue_config("openai")).stream_chat(chat_request(temperature=0.2, max_tokens=50)))

    sent = body_of(upstream.last)
    assert (sent["model"], sent["temperature"], sent["max_completion_tokens"]) == ("gpt-4o", 0.2, 50)
    assert "max_tokens" not in sent


async def test_azure_openai_catalogue_row_applies_the_same_rule_to_reasoning_deployments(upstream: Upstream) -> None:
    base = "https://contoso.openai.azure.com/openai/v1"
    upstream.on("POST", f"{base}/chat/completions", httpx.Response(200, json=payloads.CHAT_COMPLETION))
    provider = adapter(payloads.catalogue_config("azure-openai"), base_url=base)

    await provider.chat(chat_request(model="o3-mini", temperature=0.2, max_tokens=50))
    reasoning = body_of(upstream.last)
    await provider.chat(chat_request(model="gpt-4o", temperature=0.2, max_tokens=50))
    other = body_of(upstream.last)

    assert reasoning["max_completion_tokens"] == 50 and not {"max_tokens", "temperature"} & reasoning.keys()
    assert (other["max_tokens"], other["temperature"]) == (50, 0.2)


async def test_parameter_rules_omit_fields_from_default_params_and_request_extras(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=payloads.CHAT_COMPLETION))
    provider = adapter(
        {
            "default_params": {"top_p": 0.9, "seed": 7},
            "parameter_rules": [{"models": ["^o[1-9]"], "omit": ["top_p", "presence_penalty"]}],
        }
    )

    await provider.chat(chat_request(model="o3", extra={"presence_penalty": 0.5}))

    sent = body_of(upstream.last)
    assert "top_p" not in sent and "presence_penalty" not in sent
    assert sent["seed"] == 7  # not named by the rule


async def test_a_parameter_rule_can_choose_the_token_limit_field_for_its_models(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=payloads.CHAT_COMPLETION))
    provider = adapter({"parameter_rules": [{"models": ["^o[1-9]"], "max_tokens_param": "max_completion_tokens"}]})

    await provider.chat(chat_request(model="o4-mini", max_tokens=64))
    reasoning = body_of(upstream.last)
    await provider.chat(chat_request(model="gpt-4o", max_tokens=64))
    other = body_of(upstream.last)

    assert reasoning["max_completion_tokens"] == 64 and "max_tokens" not in reasoning
    assert other["max_tokens"] == 64 and "max_completion_tokens" not in other


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"models": ["^o1"]}, "must be a list of rules"),
        ([{"omit": ["temperature"]}], '"models"'),
        ([{"models": ["^o1"], "omit": "temperature"}], '"omit" must be a list'),
        ([{"models": ["^o1"], "omit": ["messages"]}], "cannot name messages"),
        ([{"models": ["^o1"], "max_tokens_param": "max_output_tokens"}], '"max_tokens_param" must be one of'),
        ([{"models": ["(unclosed"]}], "not a valid regular expression"),
        ([{"models": ["^o1"], "drop": ["temperature"]}], "unknown key(s) drop"),
    ],
)
async def test_malformed_parameter_rules_are_a_configuration_error_before_any_request(
    upstream: Upstream, rules: Any, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        await adapter({"parameter_rules": rules}).chat(chat_request(model="o1"))

    assert problem in raised.value.message and '"parameter_rules"' in raised.value.message
    assert upstream.requests == []


async def test_stream_include_usage_can_be_switched_off_and_then_usage_is_empty(upstream: Upstream) -> None:
    chunks_without_usage = payloads.STREAM_CHUNKS[:-1]
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*chunks_without_usage)))

    items = await collect(adapter({"stream_include_usage": False}).stream_chat(chat_request()))

    assert "stream_options" not in body_of(upstream.last)
    assert items[-1] == Usage()
    assert sum(isinstance(item, Usage) for item in items) == 1


async def test_stream_with_openrouter_processing_comments_and_split_chunks_is_read_whole(upstream: Upstream) -> None:
    body = payloads.sse(": OPENROUTER PROCESSING\n\n", ": OPENROUTER PROCESSING\n\n", *payloads.STREAM_CHUNKS)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]  # splits lines and events anywhere
    upstream.on("POST", "https://openrouter.ai/api/v1/chat/completions", event_stream(pieces))

    items = await collect(adapter(base_url="https://openrouter.ai/api/v1").stream_chat(chat_request()))

    assert "".join(item.text for item in items if isinstance(item, ChatChunk)) == "Hello! How can I help?"
    assert items[-1] == Usage(input_tokens=12, output_tokens=7)


async def test_groq_stream_usage_is_read_from_x_groq(upstream: Upstream) -> None:
    base = "https://api.groq.com/openai/v1"
    upstream.on("POST", f"{base}/chat/completions", event_stream(payloads.sse(*payloads.GROQ_STREAM_CHUNKS)))

    items = await collect(adapter(base_url=base).stream_chat(chat_request(model="llama-3.3-70b-versatile")))

    assert items == [ChatChunk("Fast"), ChatFinish("stop"), Usage(input_tokens=40, output_tokens=1)]


async def test_error_event_under_http_200_raises_the_mapped_error(upstream: Upstream) -> None:
    body = payloads.sse(payloads.STREAM_CHUNKS[1], payloads.OPENROUTER_MID_STREAM_ERROR, done=False)
    upstream.on("POST", "https://openrouter.ai/api/v1/chat/completions", event_stream(body))
    received: list[ChatChunk | Usage] = []

    with pytest.raises(UpstreamError) as caught:
        async for item in adapter(base_url="https://openrouter.ai/api/v1").stream_chat(chat_request()):
            received.append(item)

    assert received == [ChatChunk("Hello")]  # what came before the error, and no usage
    assert "Provider returned error" in caught.value.message


async def test_credit_error_inside_a_stream_is_a_quota_error(upstream: Upstream) -> None:
    event = {"error": {"code": 402, "message": "Insufficient credits. Add more using https://openrouter.ai/credits"}}
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(event, done=False)))

    with pytest.raises(QuotaExceededError):
        await collect(adapter().stream_chat(chat_request()))


async def test_vllm_error_object_inside_a_stream_raises(upstream: Upstream) -> None:
    event = {
        "object": "error",
        "message": "This model's maximum context length is 4096 tokens.",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    upstream.on("POST", "http://localhost:8000/v1/chat/completions", event_stream(payloads.sse(event, done=False)))

    with pytest.raises(BadRequestError) as caught:
        await collect(adapter(base_url="http://localhost:8000/v1").stream_chat(chat_request()))

    assert "maximum context length" in caught.value.message


async def test_stream_ending_without_done_raises_stream_ended_early(upstream: Upstream) -> None:
    body = payloads.sse(*payloads.STREAM_CHUNKS[:3], done=False)
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(body))

    with pytest.raises(StreamEndedEarly):
        await collect(adapter().stream_chat(chat_request()))


async def test_stream_response_is_closed_when_the_consumer_stops_early(upstream: Upstream) -> None:
    body = ByteChunks([payloads.sse(*payloads.STREAM_CHUNKS)])
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(body))

    stream = adapter().stream_chat(chat_request())
    first = await anext(stream)
    await stream.aclose()

    assert first == ChatChunk("Hello")
    assert body.closed is True


async def test_stream_response_is_closed_after_a_full_turn(upstream: Upstream) -> None:
    body = ByteChunks([payloads.sse(*payloads.STREAM_CHUNKS)])
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(body))

    await collect(adapter().stream_chat(chat_request()))

    assert body.closed is True


async def test_stream_answered_with_an_http_error_raises_before_any_chunk(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", rejected_key())

    with pytest.raises(AuthenticationError):
        await collect(adapter().stream_chat(chat_request()))


# =========================================================================================
# Non-streamed chat
# =========================================================================================


async def test_non_streamed_chat_returns_text_model_usage_and_finish_reason(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=payloads.CHAT_COMPLETION))

    result = await adapter().chat(chat_request(max_tokens=20))

    assert result.text == "Hello! How can I assist you today?"
    assert result.model == "gpt-4o-2024-08-06"
    assert result.usage == Usage(input_tokens=19, output_tokens=10)
    assert result.finish_reason == "stop"
    sent = body_of(upstream.last)
    assert sent["stream"] is False
    assert "stream_options" not in sent


async def test_non_streamed_chat_joins_text_parts_of_list_content(upstream: Upstream) -> None:
    completion = json.loads(json.dumps(payloads.CHAT_COMPLETION))
    completion["choices"][0]["message"]["content"] = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "hidden"}]},
        {"type": "text", "text": "Bonjour"},
    ]
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=completion))

    assert (await adapter().chat(chat_request())).text == "Bonjour"


async def test_non_streamed_refusal_is_returned_as_the_text(upstream: Upstream) -> None:
    completion = json.loads(json.dumps(payloads.CHAT_COMPLETION))
    completion["choices"][0]["message"].update(content=None, refusal="I'm sorry, I can't help with that.")
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=completion))

    assert (await adapter().chat(chat_request())).text == "I'm sorry, I can't help with that."


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>gateway</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": []}),
        httpx.Response(200, json={"id": "x", "object": "chat.completion"}),
        httpx.Response(200, json={"choices": [{"index": 0, "finish_reason": "stop"}]}),
    ],
    ids=["not-json", "empty-choices", "no-choices", "no-message"],
)
async def test_non_streamed_chat_with_a_malformed_answer_raises_malformed_response(
    upstream: Upstream, response: httpx.Response
) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", response)

    with pytest.raises(MalformedResponseError):
        await adapter().chat(chat_request())


async def test_non_streamed_chat_error_body_under_200_raises_the_mapped_error(upstream: Upstream) -> None:
    error_body = {"error": {"code": 502, "message": "Provider returned error"}}
    upstream.on("POST", f"{BASE}/chat/completions", httpx.Response(200, json=error_body))

    with pytest.raises(UpstreamError):
        await adapter().chat(chat_request())


# =========================================================================================
# Images
# =========================================================================================


async def test_gpt_image_generation_decodes_base64_and_sends_no_response_format(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=payloads.IMAGE_B64_RESPONSE))

    images = await adapter().generate_image(ImageRequest(model="gpt-image-1", prompt="a lighthouse", quality="medium"))

    assert [(image.data, image.mime_type) for image in images] == [(payloads.PNG_BYTES, "image/png")]
    sent = body_of(upstream.last)
    assert sent == {"model": "gpt-image-1", "prompt": "a lighthouse", "n": 1, "size": "1024x1024", "quality": "medium"}


async def test_dall_e_generation_asks_for_b64_json_and_omits_unset_quality(upstream: Upstream) -> None:
    answer = {"created": 1, "data": [{"b64_json": payloads.PNG_B64, "revised_prompt": "A red fox."}]}
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=answer))

    images = await adapter().generate_image(ImageRequest(model="dall-e-3", prompt="a fox", size="1792x1024"))

    assert images[0].revised_prompt == "A red fox."
    sent = body_of(upstream.last)
    assert sent["response_format"] == "b64_json"
    assert sent["size"] == "1792x1024"
    assert "quality" not in sent


async def test_image_response_format_can_be_left_out_by_config(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=payloads.IMAGE_B64_RESPONSE))

    await adapter({"image_response_format": None}).generate_image(ImageRequest(model="flux-dev", prompt="x"))

    assert "response_format" not in body_of(upstream.last)


async def test_image_url_response_is_downloaded_without_the_key_or_extra_headers(
    upstream: Upstream
) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=payloads.IMAGE_URL_RESPONSE))
    download_url = payloads.IMAGE_DOWNLOAD_URL.split("?")[0]
    jpeg = httpx.Response(200, content=payloads.JPEG_BYTES, headers={"content-type": "image/jpeg"})
    upstream.on("GET", download_url, jpeg)
    provider = adapter({"extra_headers": {"X-Title": "aiadmin"}})

    images = await provider.generate_image(ImageRequest(model="dall-e-3", prompt="lighthouse"))

    assert images[0].data == payloads.JPEG_BYTES
    assert images[0].mime_type == "image/jpeg"
    assert images[0].revised_prompt.startswith("A watercolour painting")
    download = upstream.last
    assert str(download.url) == payloads.IMAGE_DOWNLOAD_URL
    assert "Authorization" not in download.headers and "X-Title" not in download.headers


async def test_downloaded_image_without_an_image_content_type_is_sniffed(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=payloads.IMAGE_URL_RESPONSE))
    png = httpx.Response(200, content=payloads.PNG_BYTES, headers={"content-type": "application/octet-stream"})
    upstream.on("GET", payloads.IMAGE_DOWNLOAD_URL.split("?")[0], png)

    images = await adapter().generate_image(ImageRequest(model="dall-e-3", prompt="lighthouse"))

    assert images[0].mime_type == "image/png"


async def test_image_given_as_a_data_url_is_decoded_without_a_download(upstream: Upstream) -> None:
    body = {"created": 1, "data": [{"url": f"data:image/png;base64,{payloads.PNG_B64}"}]}
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=body))

    images = await adapter().generate_image(ImageRequest(model="flux-schnell", prompt="x"))

    assert (images[0].data, images[0].mime_type) == (payloads.PNG_BYTES, "image/png")
    assert len(upstream.requests) == 1


async def test_image_url_on_a_private_network_is_not_downloaded(upstream: Upstream) -> None:
    body = {"created": 1, "data": [{"url": "http://169.254.169.254/latest/meta-data/"}]}
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=body))

    with pytest.raises(ConfigurationError) as caught:
        await adapter().generate_image(ImageRequest(model="dall-e-2", prompt="x"))

    assert "169.254.169.254" in caught.value.message
    assert [request.method for request in upstream.requests] == ["POST"]


async def test_image_url_that_is_not_http_is_refused(upstream: Upstream) -> None:
    body = {"created": 1, "data": [{"url": "file:///etc/passwd"}]}
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=body))

    with pytest.raises(MalformedResponseError):
        await adapter().generate_image(ImageRequest(model="dall-e-2", prompt="x"))


async def test_failed_image_download_is_reported_as_not_retryable(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json=payloads.IMAGE_URL_RESPONSE))
    expired = httpx.Response(403, text="<Error><Code>AuthenticationFailed</Code></Error>")
    upstream.on("GET", payloads.IMAGE_DOWNLOAD_URL.split("?")[0], expired)

    with pytest.raises(UpstreamError) as caught:
        await adapter().generate_image(ImageRequest(model="dall-e-3", prompt="x"))

    assert caught.value.retryable is False
    assert "oaidalleapiprodscus.blob.core.windows.net" in caught.value.message


async def test_image_answer_without_images_is_malformed(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/images/generations", httpx.Response(200, json={"created": 1, "data": []}))

    with pytest.raises(MalformedResponseError):
        await adapter().generate_image(ImageRequest(model="dall-e-3", prompt="x"))


# =========================================================================================
# Speech and transcription
# =========================================================================================


@pytest.mark.parametrize(
    ("audio_format", "mime_type"),
    [
        ("mp3", "audio/mpeg"),
        ("wav", "audio/wav"),
        ("opus", "audio/ogg"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("pcm", "audio/L16"),
    ],
)
async def test_text_to_speech_posts_the_speech_body_and_maps_the_format_to_a_mime_type(
    upstream: Upstream, audio_format: str, mime_type: str
) -> None:
    audio_bytes = httpx.Response(200, content=b"ID3audio", headers={"content-type": "application/octet-stream"})
    upstream.on("POST", f"{BASE}/audio/speech", audio_bytes)
    request = SpeechRequest(model="gpt-4o-mini-tts", text="Hello there", speed=1.25, format=audio_format)

    audio = await adapter().text_to_speech(request)

    assert (audio.data, audio.mime_type) == (b"ID3audio", mime_type)
    assert body_of(upstream.last) == {
        "model": "gpt-4o-mini-tts",
        "input": "Hello there",
        "voice": "alloy",
        "response_format": audio_format,
        "speed": 1.25,
    }


async def test_text_to_speech_sends_the_chosen_voice_and_no_unset_speed(upstream: Upstream) -> None:
    wav = httpx.Response(200, content=b"RIFFwav", headers={"content-type": "audio/wav"})
    upstream.on("POST", f"{BASE}/audio/speech", wav)

    await adapter().text_to_speech(SpeechRequest(model="playai-tts", text="Hi", voice="Fritz-PlayAI", format="wav"))

    sent = body_of(upstream.last)
    assert sent["voice"] == "Fritz-PlayAI"
    assert "speed" not in sent


async def test_text_to_speech_answered_with_json_is_not_taken_for_audio(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/audio/speech", httpx.Response(200, json={"object": "list"}))

    with pytest.raises(MalformedResponseError):
        await adapter().text_to_speech(SpeechRequest(model="tts-1", text="Hi"))


async def test_transcription_sends_a_multipart_body_with_the_file_model_and_language(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/audio/transcriptions", httpx.Response(200, json=payloads.TRANSCRIPTION))
    audio = b"RIFF\x24\x00\x00\x00WAVEfmt sample-bytes"

    transcript = await adapter().speech_to_text(
        TranscriptionRequest(model="gpt-4o-transcribe", audio=audio, filename="memo.wav", language="en")
    )

    assert transcript.text.startswith("Imagine the wildest idea")
    assert transcript.language == "en"
    request = upstream.last
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    content = request.content
    assert b'name="file"; filename="memo.wav"' in content
    assert b"Content-Type: audio/x-wav" in content or b"Content-Type: audio/wav" in content
    assert audio in content
    assert b'name="model"\r\n\r\ngpt-4o-transcribe' in content
    assert b'name="language"\r\n\r\nen' in content
    assert b'name="response_format"\r\n\r\njson' in content


async def test_transcription_without_text_is_malformed(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/audio/transcriptions", httpx.Response(200, json={"usage": {}}))

    with pytest.raises(MalformedResponseError):
        await adapter().speech_to_text(TranscriptionRequest(model="whisper-1", audio=b"x", filename="a.mp3"))


# =========================================================================================
# Errors and the key
# =========================================================================================


async def test_401_raises_authentication_error_whose_message_has_no_key(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", rejected_key())

    with pytest.raises(AuthenticationError) as caught:
        await adapter().list_models()

    assert caught.value.status_code == 401
    assert CANARY not in str(caught.value)
    assert "key" in caught.value.message.lower()


def _echoing(status: int) -> Handler:
    """A hostile or careless server that quotes back everything it was sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        echoed = f"{request.headers.get('authorization')} {request.url} {request.content[:200]!r}"
        return httpx.Response(status, json={"error": {"message": f"Rejected: {echoed}", "type": "invalid_request_error"}})

    return handler


def _connect_failure(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"could not connect to {request.url} with {request.headers.get('authorization')}")


def _echoing_stream_error(request: httpx.Request) -> httpx.Response:
    event = {"error": {"code": 400, "message": f"bad key {CANARY}"}}
    return event_stream(payloads.sse(event, done=False))


AUTH_STYLES = [{"style": "bearer"}, {"style": "query", "param": "key"}, {"style": "header", "header": "api-key"}]


@pytest.mark.parametrize("auth", AUTH_STYLES, ids=lambda auth: auth["style"])
async def test_canary_key_never_appears_in_any_raised_error(upstream: Upstream, auth: dict[str, str]) -> None:
    provider = adapter({"auth": auth})
    paths: list[tuple[str, str, str, httpx.Response | Handler, Callable[[], Any]]] = [
        ("401", "GET", "/models", rejected_key(), provider.list_models),
        ("400 echo", "POST", "/chat/completions", _echoing(400), lambda: provider.chat(chat_request())),
        (
            "403 echo",
            "POST",
            "/images/generations",
            _echoing(403),
            lambda: provider.generate_image(ImageRequest(model="dall-e-3", prompt="x")),
        ),
        (
            "429 echo",
            "POST",
            "/audio/speech",
            _echoing(429),
            lambda: provider.text_to_speech(SpeechRequest(model="tts-1", text="x")),
        ),
        (
            "500 echo",
            "POST",
            "/audio/transcriptions",
            _echoing(500),
            lambda: provider.speech_to_text(TranscriptionRequest(model="whisper-1", audio=b"x", filename="a.wav")),
        ),
        ("connect", "GET", "/models", _connect_failure, provider.list_models),
        (
            "stream error",
            "POST",
            "/chat/completions",
            _echoing_stream_error,
            lambda: collect(provider.stream_chat(chat_request())),
        ),
        (
            "malformed",
            "POST",
            "/chat/completions",
            httpx.Response(200, content=CANARY.encode()),
            lambda: provider.chat(chat_request()),
        ),
    ]
    for name, method, path, response, call in paths:
        upstream.on(method, f"{BASE}{path}", response)
        with pytest.raises(AIAdminError) as caught:
            await call()
        error = caught.value
        texts = [str(error), error.message, repr(error), *map(str, error.args)]
        assert not any(CANARY in text for text in texts), name

    validation = await provider.validate_key()
    assert CANARY not in validation.message


async def test_connection_failure_is_a_connection_error(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", _connect_failure)

    with pytest.raises(ProviderConnectionError):
        await adapter().list_models()


def test_repr_never_shows_the_key() -> None:
    assert CANARY not in repr(adapter())


# =========================================================================================
# Key validation
# =========================================================================================


async def test_validate_key_is_ok_when_the_model_list_answers(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", httpx.Response(200, json=payloads.OPENAI_MODELS))

    result = await adapter().validate_key()

    assert result.ok is True
    assert "14 models" in result.message


async def test_validate_key_is_not_ok_when_the_key_is_rejected(upstream: Upstream) -> None:
    upstream.on("GET", f"{BASE}/models", rejected_key())

    result = await adapter().validate_key()

    assert result.ok is False
    assert "key" in result.message.lower()
    assert CANARY not in result.message


async def test_validate_key_uses_key_check_path_when_the_model_list_is_public(upstream: Upstream) -> None:
    base = "https://openrouter.ai/api/v1"
    upstream.on("GET", f"{base}/key", httpx.Response(401, json={"error": {"code": 401, "message": "User not found."}}))

    result = await adapter({"key_check_path": "/key"}, base_url=base).validate_key()

    assert result.ok is False
    assert str(upstream.last.url) == f"{base}/key"


async def test_validate_key_without_a_list_endpoint_tries_models_and_says_when_it_cannot_check(upstream: Upstream) -> None:
    perplexity = adapter({"models_path": None}, base_url="https://api.perplexity.ai")

    result = await perplexity.validate_key()  # no route: the server answers 404

    assert result.ok is False
    assert "could not be checked" in result.message
    assert str(upstream.last.url) == "https://api.perplexity.ai/models"


async def test_validate_key_without_a_list_endpoint_still_reports_a_rejected_key(upstream: Upstream) -> None:
    rejected = {"error": {"message": "Invalid API key", "type": "invalid_api_key", "code": 401}}
    upstream.on("GET", "https://api.perplexity.ai/models", httpx.Response(401, json=rejected))

    result = await adapter({"models_path": None}, base_url="https://api.perplexity.ai").validate_key()

    assert result.ok is False
    assert "could not be checked" not in result.message


async def test_validate_key_reports_a_missing_configured_key_check_endpoint_as_such(upstream: Upstream) -> None:
    result = await adapter({"models_path": None, "key_check_path": "/key"}).validate_key()

    assert result.ok is False
    assert "could not be checked" not in result.message
    assert str(upstream.last.url) == f"{BASE}/key"


async def test_validate_key_with_a_bad_models_path_reports_the_configuration_problem(upstream: Upstream) -> None:
    result = await adapter({"models_path": "https://elsewhere.example/models"}).validate_key()

    assert result.ok is False
    assert "models_path" in result.message
    assert upstream.requests == []


# =========================================================================================
# Registry
# =========================================================================================


def test_registry_offers_the_openai_adapter() -> None:
    adapter_class = registry.require("openai")

    assert adapter_class is OpenAIAdapter
    assert adapter_class.label == "OpenAI-compatible"
    assert adapter_class.capabilities == {"chat", "content", "image", "audio"}


async def test_stop_sequences_are_sent_as_stop(upstream: Upstream) -> None:
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))
    await collect(adapter().stream_chat(chat_request(stop=("\n\n", "END"))))
    assert body_of(upstream.last)["stop"] == ["\n\n", "END"]
    upstream.on("POST", f"{BASE}/chat/completions", event_stream(payloads.sse(*payloads.STREAM_CHUNKS)))
    await collect(adapter().stream_chat(chat_request()))
    assert "stop" not in body_of(upstream.last)
