"""The Gemini adapter against a fake Gemini API speaking the real wire format."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from aiadmin.adapters import shared_client
from aiadmin.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamError,
)
from aiadmin.adapters.gemini import GeminiAdapter, aspect_ratio_for, detect_capabilities
from aiadmin.adapters.registry import registry
from aiadmin.adapters.shared_client import MEDIA_READ_TIMEOUT, READ_TIMEOUT
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

from .fixtures import gemini_payloads as payloads

CANARY = payloads.CANARY_KEY
BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
CATALOGUE = Path(__file__).resolve().parents[2] / "aiadmin/providers/catalogue/providers.json"

Handler = Callable[[httpx.Request], httpx.Response]


def catalogue_config() -> dict:
    providers = json.loads(CATALOGUE.read_text())["providers"]
    return next(p for p in providers if p["slug"] == "gemini")["config"]


class TrackedStream(httpx.AsyncByteStream):
    """A response body that records whether the adapter closed it."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


class FakeGemini:
    """Routes requests by (method, path) and records every request."""

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

    def body(self, index: int = 0) -> dict:
        return json.loads(self.requests[index].content)


@pytest.fixture
def server() -> Iterator[FakeGemini]:
    fake = FakeGemini()
    shared_client.set_transport_for_tests(httpx.MockTransport(fake))
    yield fake
    shared_client.set_transport_for_tests(None)


@pytest.fixture
def adapter() -> GeminiAdapter:
    return GeminiAdapter(base_url=BASE_URL, api_key=CANARY, config=catalogue_config(), provider_name="Gemini")


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def sse_response(stream: TrackedStream) -> Handler:
    return lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def method_path(model: str, method: str) -> str:
    return f"/v1beta/models/{model}:{method}"


def chat_request(**kwargs: object) -> ChatRequest:
    messages = (
        ChatMessage(role="system", content="Answer in French."),
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Salut."),
        ChatMessage(role="user", content="Greet the world"),
    )
    return ChatRequest(model="gemini-2.5-flash", messages=messages, **kwargs)  # type: ignore[arg-type]


async def collect(adapter: GeminiAdapter, request: ChatRequest) -> list[ChatChunk | Usage]:
    return [item async for item in adapter.stream_chat(request)]


# ---------------------------------------------------------------------- registry, helpers


def test_gemini_adapter_is_registered_under_its_key() -> None:
    assert registry.get("gemini") is GeminiAdapter
    assert GeminiAdapter.capabilities == frozenset({"chat", "content", "image", "audio"})


@pytest.mark.parametrize(
    ("model_id", "methods", "expected"),
    [
        ("gemini-2.5-flash", ["generateContent", "countTokens"], {"chat", "content"}),
        ("gemini-2.5-flash-preview-tts", ["generateContent"], {"audio"}),
        ("gemini-2.5-flash-image", ["generateContent"], {"image"}),
        ("gemini-2.5-flash-image-preview", ["generateContent"], {"image"}),
        ("imagen-4.0-generate-001", ["predict"], {"image"}),
        ("text-embedding-004", ["embedContent"], set()),
        ("aqa", ["generateAnswer"], set()),
        ("veo-3.0-generate-001", ["predictLongRunning"], set()),
        ("gemini-2.0-flash-live-001", ["bidiGenerateContent", "countTokens"], set()),
    ],
)
def test_capabilities_are_detected_from_generation_methods_and_names(model_id, methods, expected) -> None:
    assert detect_capabilities(model_id, methods) == frozenset(expected)


@pytest.mark.parametrize(
    ("size", "ratio"),
    [("1024x1024", "1:1"), ("1792x1024", "16:9"), ("1024x1792", "9:16"), ("1280x960", "4:3"),
     ("768x1024", "3:4"), ("16:9", "16:9"), ("", "1:1"), ("huge", "1:1")],
)
def test_image_sizes_map_to_the_nearest_supported_aspect_ratio(size, ratio) -> None:
    assert aspect_ratio_for(size) == ratio


# ---------------------------------------------------------------------- models


async def test_list_models_follows_next_page_token(server, adapter) -> None:
    server.on("GET", "/v1beta/models", json_response(payloads.MODELS_PAGE_1), json_response(payloads.MODELS_PAGE_2))

    await adapter.list_models()

    first, second = server.requests
    assert first.url.params["pageSize"] == "1000"
    assert "pageToken" not in first.url.params
    assert second.url.params["pageToken"] == payloads.MODELS_PAGE_1["nextPageToken"]


async def test_list_models_offers_chat_image_and_tts_models_and_drops_the_rest(server, adapter) -> None:
    server.on("GET", "/v1beta/models", json_response(payloads.MODELS_PAGE_1), json_response(payloads.MODELS_PAGE_2))

    models = {m.id: m for m in await adapter.list_models()}

    assert {model_id: set(m.capabilities) for model_id, m in models.items()} == {
        "gemini-2.5-flash": {"chat", "content"},
        "gemini-2.5-flash-image": {"image"},
        "gemini-2.5-flash-preview-tts": {"audio"},
        "imagen-4.0-generate-001": {"image"},
    }
    flash = models["gemini-2.5-flash"]
    assert flash.name == "Gemini 2.5 Flash"
    assert flash.context_window == 1_048_576
    assert flash.description == "Stable version of Gemini 2.5 Flash."


# ---------------------------------------------------------------------- the key


async def test_the_key_travels_only_in_the_x_goog_api_key_header_for_every_operation(server, adapter) -> None:
    server.on("GET", "/v1beta/models", json_response(payloads.MODELS_PAGE_2))
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.GENERATE_RESPONSE))
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )
    server.on("POST", method_path("imagen-4.0-generate-001", "predict"), json_response(payloads.IMAGEN_RESPONSE))
    server.on("POST", method_path("gemini-2.5-flash-preview-tts", "generateContent"), json_response(payloads.TTS_RESPONSE))

    await adapter.list_models()
    await adapter.validate_key()
    await adapter.chat(chat_request())
    await collect(adapter, chat_request())
    await adapter.generate_image(ImageRequest(model="imagen-4.0-generate-001", prompt="a cat"))
    await adapter.text_to_speech(SpeechRequest(model="gemini-2.5-flash-preview-tts", text="Hello"))
    await adapter.speech_to_text(
        TranscriptionRequest(model="gemini-2.5-flash", audio=b"RIFF", filename="a.wav", mime_type="audio/wav")
    )

    assert len(server.requests) == 7
    for request in server.requests:
        assert request.headers["x-goog-api-key"] == CANARY
        assert CANARY not in str(request.url)
        assert "key" not in request.url.params


async def test_a_query_auth_style_in_the_config_is_overridden_by_the_header(server) -> None:
    server.on("GET", "/v1beta/models", json_response(payloads.MODELS_PAGE_2))
    adapter = GeminiAdapter(base_url=BASE_URL, api_key=CANARY, config={"auth": {"style": "query", "param": "key"}})

    await adapter.list_models()

    (request,) = server.requests
    assert request.headers["x-goog-api-key"] == CANARY
    assert CANARY not in str(request.url)


# ---------------------------------------------------------------------- streaming


async def test_stream_chat_reads_crlf_framed_events_and_skips_thoughts(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )

    items = await collect(adapter, chat_request())

    assert items[:-1] == [ChatChunk("Bonjour"), ChatChunk(" le monde, ça va ?"), ChatFinish("STOP")]


async def test_stream_chat_asks_for_an_event_stream(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )

    await collect(adapter, chat_request())

    assert server.requests[0].headers.get_list("accept") == ["text/event-stream"]


async def test_stream_usage_is_the_last_cumulative_count_with_thinking_as_output(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )

    items = await collect(adapter, chat_request())

    assert items[-1] == Usage(input_tokens=8, output_tokens=12 + 30)
    assert sum(isinstance(item, Usage) for item in items) == 1


async def test_stream_handles_events_split_mid_line_and_mid_utf8(server, adapter) -> None:
    body = payloads.STREAM_BODY
    cut = body.index("ç".encode()) + 1  # inside the two-byte "ç"
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(body[:7], body[7:cut], body[cut:])),
    )

    items = await collect(adapter, chat_request())

    assert "".join(i.text for i in items if isinstance(i, ChatChunk)) == "Bonjour le monde, ça va ?"


async def test_stream_request_uses_alt_sse_contents_roles_and_system_instruction(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )

    await collect(adapter, chat_request(temperature=0.4, max_tokens=256))

    request = server.requests[0]
    assert request.url.params["alt"] == "sse"
    body = server.body()
    assert body["systemInstruction"] == {"parts": [{"text": "Answer in French."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Salut."}]},
        {"role": "user", "parts": [{"text": "Greet the world"}]},
    ]
    assert body["generationConfig"] == {"temperature": 0.4, "maxOutputTokens": 256}


async def test_a_stream_that_ends_before_any_finish_reason_is_a_failed_turn(server, adapter) -> None:
    body = TrackedStream(payloads.STREAM_CUT_SHORT_BODY)
    server.on("POST", method_path("gemini-2.5-flash", "streamGenerateContent"), sse_response(body))

    with pytest.raises(StreamEndedEarly):
        await collect(adapter, chat_request())
    assert body.closed


async def test_a_blocked_prompt_raises_a_bad_request_naming_the_reason(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.sse(payloads.PROMPT_BLOCKED))),
    )

    with pytest.raises(BadRequestError) as caught:
        await collect(adapter, chat_request())

    assert "blocked the prompt" in str(caught.value)
    assert "SAFETY" in str(caught.value)


async def test_a_safety_finish_reason_mid_stream_raises_a_bad_request(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_SAFETY_STOP_BODY)),
    )
    received: list[ChatChunk | Usage] = []

    with pytest.raises(BadRequestError) as caught:
        async for item in adapter.stream_chat(chat_request()):
            received.append(item)

    assert received == [ChatChunk("Bonjour")]
    assert "SAFETY" in str(caught.value)


async def test_an_error_object_in_the_stream_raises_the_mapped_error(server, adapter) -> None:
    body = TrackedStream(payloads.STREAM_ERROR_BODY)
    server.on("POST", method_path("gemini-2.5-flash", "streamGenerateContent"), sse_response(body))

    with pytest.raises(UpstreamError) as caught:
        await collect(adapter, chat_request())

    assert "overloaded" in str(caught.value).lower()
    assert body.closed


# ---------------------------------------------------------------------- non-streamed


async def test_chat_returns_the_answer_without_thoughts_with_usage_and_finish_reason(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.GENERATE_RESPONSE))

    result = await adapter.chat(chat_request())

    assert result.text == "Paris is the capital of France."
    assert result.usage == Usage(input_tokens=7, output_tokens=8)
    assert result.finish_reason == "STOP"


async def test_chat_with_a_blocked_prompt_raises_a_bad_request(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.PROMPT_BLOCKED))

    with pytest.raises(BadRequestError):
        await adapter.chat(chat_request())


async def test_a_model_name_with_the_models_prefix_is_not_doubled(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.GENERATE_RESPONSE))

    await adapter.chat(ChatRequest(model="models/gemini-2.5-flash", messages=(ChatMessage("user", "Hi"),)))

    assert server.requests[0].url.path == method_path("gemini-2.5-flash", "generateContent")


# ---------------------------------------------------------------------- images


async def test_imagen_generates_through_predict_with_count_and_aspect_ratio(server, adapter) -> None:
    server.on("POST", method_path("imagen-4.0-generate-001", "predict"), json_response(payloads.IMAGEN_RESPONSE))

    images = await adapter.generate_image(
        ImageRequest(model="imagen-4.0-generate-001", prompt="a lighthouse", size="1792x1024", n=2)
    )

    assert [(image.data, image.mime_type) for image in images] == [(payloads.PNG_BYTES, "image/png")] * 2
    assert server.body() == {
        "instances": [{"prompt": "a lighthouse"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "16:9"},
    }
    assert server.requests[0].extensions["timeout"]["read"] == MEDIA_READ_TIMEOUT


async def test_imagen_output_removed_by_its_filters_raises_a_bad_request(server, adapter) -> None:
    server.on(
        "POST", method_path("imagen-4.0-generate-001", "predict"), json_response(payloads.IMAGEN_FILTERED_RESPONSE)
    )

    with pytest.raises(BadRequestError) as caught:
        await adapter.generate_image(ImageRequest(model="imagen-4.0-generate-001", prompt="something"))

    assert "safety filter" in str(caught.value)


async def test_gemini_image_models_return_inline_data_from_generate_content(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash-image", "generateContent"), json_response(payloads.GEMINI_IMAGE_RESPONSE)
    )

    images = await adapter.generate_image(ImageRequest(model="gemini-2.5-flash-image", prompt="a cat in a top hat"))

    assert [(image.data, image.mime_type) for image in images] == [(payloads.PNG_BYTES, "image/png")]
    body = server.body()
    assert body["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "a cat in a top hat"}]}]
    assert server.requests[0].extensions["timeout"]["read"] == MEDIA_READ_TIMEOUT


async def test_gemini_image_models_get_one_call_per_image_and_the_aspect_ratio(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash-image", "generateContent"), json_response(payloads.GEMINI_IMAGE_RESPONSE)
    )

    images = await adapter.generate_image(
        ImageRequest(model="gemini-2.5-flash-image", prompt="a cat", size="1024x1792", n=2)
    )

    assert len(images) == 2 and len(server.requests) == 2
    assert server.body()["generationConfig"]["imageConfig"] == {"aspectRatio": "9:16"}


async def test_an_image_request_for_too_many_images_is_refused_before_any_call(server, adapter) -> None:
    with pytest.raises(BadRequestError):
        await adapter.generate_image(ImageRequest(model="imagen-4.0-generate-001", prompt="x", n=5))
    assert server.requests == []


# ---------------------------------------------------------------------- audio


async def test_text_to_speech_wraps_the_pcm_into_a_valid_wav(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash-preview-tts", "generateContent"), json_response(payloads.TTS_RESPONSE)
    )

    audio = await adapter.text_to_speech(SpeechRequest(model="gemini-2.5-flash-preview-tts", text="Hello there"))

    assert audio.mime_type == "audio/wav"
    with wave.open(io.BytesIO(audio.data), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
        assert wav.getnframes() == len(payloads.PCM_SAMPLES)
        assert wav.readframes(wav.getnframes()) == payloads.PCM_BYTES


async def test_text_to_speech_asks_for_audio_in_the_chosen_voice_or_kore(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash-preview-tts", "generateContent"), json_response(payloads.TTS_RESPONSE)
    )

    await adapter.text_to_speech(SpeechRequest(model="gemini-2.5-flash-preview-tts", text="Hi"))
    await adapter.text_to_speech(SpeechRequest(model="gemini-2.5-flash-preview-tts", text="Hi", voice="Puck"))

    configs = [json.loads(r.content)["generationConfig"] for r in server.requests]
    assert configs[0] == {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
    }
    assert configs[1]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Puck"
    assert server.requests[0].extensions["timeout"]["read"] == MEDIA_READ_TIMEOUT


async def test_speech_to_text_sends_the_audio_inline_with_a_transcription_prompt(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.TRANSCRIPT_RESPONSE))
    audio = b"RIFF....WAVEfmt fake audio"

    transcript = await adapter.speech_to_text(
        TranscriptionRequest(model="gemini-2.5-flash", audio=audio, filename="clip.wav", mime_type="audio/wav")
    )

    assert transcript.text == "Hello, this is a test recording."
    (prompt, audio_part) = server.body()["contents"][0]["parts"]
    assert prompt == {"text": "Transcribe this audio verbatim."}
    assert audio_part == {"inlineData": {"mimeType": "audio/wav", "data": base64.b64encode(audio).decode()}}
    assert server.requests[0].extensions["timeout"]["read"] == MEDIA_READ_TIMEOUT


async def test_speech_to_text_with_a_tts_model_uses_a_model_that_can_listen(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.TRANSCRIPT_RESPONSE))

    await adapter.speech_to_text(
        TranscriptionRequest(model="gemini-2.5-flash-preview-tts", audio=b"ID3 mp3", filename="clip.mp3")
    )

    assert server.requests[0].url.path == method_path("gemini-2.5-flash", "generateContent")
    assert server.body()["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "audio/mpeg"


async def test_speech_to_text_refuses_audio_over_the_inline_request_limit(server, adapter) -> None:
    too_big = bytes(15_000_000)

    with pytest.raises(BadRequestError) as caught:
        await adapter.speech_to_text(
            TranscriptionRequest(model="gemini-2.5-flash", audio=too_big, filename="long.wav", mime_type="audio/wav")
        )

    assert "20 MB" in str(caught.value)
    assert server.requests == []


# ---------------------------------------------------------------------- errors and validation


async def test_an_invalid_key_is_an_authentication_error_without_the_key(server, adapter) -> None:
    body = payloads.api_key_invalid(f"API key not valid: {CANARY}. Please pass a valid API key.")
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(body, status=400))

    with pytest.raises(AuthenticationError) as caught:
        await adapter.chat(chat_request())

    assert CANARY not in str(caught.value)
    assert len(server.requests) == 1


async def test_401_and_403_map_to_authentication_and_permission_errors(server, adapter) -> None:
    unauthenticated = payloads.error_body(401, "UNAUTHENTICATED", f"Request had invalid credentials {CANARY}")
    server.on(
        "POST", method_path("gemini-2.5-flash", "generateContent"),
        json_response(unauthenticated, status=401), json_response(payloads.PERMISSION_DENIED, status=403),
    )

    with pytest.raises(AuthenticationError) as first:
        await adapter.chat(chat_request())
    with pytest.raises(PermissionDeniedError):
        await adapter.chat(chat_request())

    assert CANARY not in str(first.value)


async def test_429_with_retry_info_fails_fast_with_the_delay_attached(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"), json_response(payloads.RATE_LIMITED, status=429)
    )

    with pytest.raises(RateLimitedError) as caught:
        await collect(adapter, chat_request())

    assert caught.value.retry_after == 37
    assert len(server.requests) == 1


async def test_429_with_a_retry_after_header_is_honoured(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "generateContent"),
        json_response({"error": {"code": 429, "message": f"slow down {CANARY}", "status": "RESOURCE_EXHAUSTED"}},
                      status=429, headers={"Retry-After": "45"}),
    )

    with pytest.raises(RateLimitedError) as caught:
        await adapter.chat(chat_request())

    assert caught.value.retry_after == 45
    assert CANARY not in str(caught.value)


async def test_validate_key_asks_for_one_model_and_reports_a_bad_key(server, adapter) -> None:
    server.on(
        "GET", "/v1beta/models",
        json_response(payloads.MODELS_PAGE_2), json_response(payloads.api_key_invalid(f"bad {CANARY}"), status=400),
    )

    good = await adapter.validate_key()
    bad = await adapter.validate_key()

    assert good.ok and server.requests[0].url.params["pageSize"] == "1"
    assert not bad.ok and CANARY not in bad.message


async def test_chat_uses_the_default_timeout_not_the_media_one(server, adapter) -> None:
    server.on("POST", method_path("gemini-2.5-flash", "generateContent"), json_response(payloads.GENERATE_RESPONSE))

    await adapter.chat(chat_request())

    assert server.requests[0].extensions["timeout"]["read"] == READ_TIMEOUT


async def test_stop_sequences_are_sent_as_stop_sequences_in_the_generation_config(server, adapter) -> None:
    server.on(
        "POST", method_path("gemini-2.5-flash", "streamGenerateContent"),
        sse_response(TrackedStream(payloads.STREAM_BODY)),
    )
    await collect(adapter, chat_request(stop=("END", "###")))
    assert server.body()["generationConfig"]["stopSequences"] == ["END", "###"]
