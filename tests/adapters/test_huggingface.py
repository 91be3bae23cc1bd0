"""The Hugging Face adapter against recorded wire shapes (see fixtures/huggingface_payloads.py),
and once end to end against the fake provider."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiadmin.adapters import retries, shared_client
from aiadmin.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    QuotaExceededError,
    UpstreamError,
)
from aiadmin.adapters.huggingface import HuggingFaceAdapter
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

from .fixtures import huggingface_payloads as payloads

CANARY = "hf_canaryTOKEN0123456789abcdef"
ROUTER = "https://router.huggingface.co/v1"
HUB = "https://huggingface.co"
CATALOGUE = Path(__file__).resolve().parents[2] / "aiadmin" / "providers" / "catalogue" / "providers.json"

Handler = Callable[[httpx.Request], httpx.Response]


def catalogue_config() -> dict[str, Any]:
    data = json.loads(CATALOGUE.read_text())
    providers = data if isinstance(data, list) else data["providers"]
    return next(provider for provider in providers if provider["slug"] == "huggingface")["config"]


class Upstream:
    """MockTransport handler: routes (method, URL without query) to canned responses."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, url: str, response: httpx.Response | Handler) -> Upstream:
        self.routes[(method, url)] = response if callable(response) else (lambda request: response)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, str(request.url.copy_with(query=None))))
        if handler is None:
            return httpx.Response(404, json={"error": f"no route for {request.method} {request.url}"})
        return handler(request)

    def to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    server = Upstream()
    shared_client.set_transport_for_tests(httpx.MockTransport(server))
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, **kwargs: 0.0)
    yield server
    shared_client.set_transport_for_tests(None)


def adapter(**config: Any) -> HuggingFaceAdapter:
    return HuggingFaceAdapter(
        base_url=ROUTER, api_key=CANARY, config={**catalogue_config(), **config}, provider_name="Hugging Face"
    )


def hub_by_tag(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=payloads.HUB_BY_TAG[request.url.params["pipeline_tag"]])


def chat_request(**overrides: Any) -> ChatRequest:
    values: dict[str, Any] = {
        "model": "openai/gpt-oss-120b:groq",
        "messages": (ChatMessage("user", "What is the capital of France?"),),
    }
    values.update(overrides)
    return ChatRequest(**values)


# --------------------------------------------------------------------------- registry


def test_registered_under_its_key() -> None:
    assert registry.get("huggingface") is HuggingFaceAdapter
    assert HuggingFaceAdapter.label == "Hugging Face"
    assert HuggingFaceAdapter.capabilities == {"chat", "content", "image", "audio"}


# --------------------------------------------------------------------------- listing


async def test_list_models_asks_the_hub_once_per_pipeline_tag(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/models", hub_by_tag)
    await adapter().list_models()

    sent = {request.url.params["pipeline_tag"]: request for request in upstream.to("/api/models")}
    assert set(sent) == {
        "text-generation", "image-text-to-text", "text-to-image", "text-to-speech",
        "automatic-speech-recognition",
    }
    assert len(upstream.requests) == 5
    chat = sent["text-generation"].url.params
    assert chat["inference_provider"] == "all"
    assert chat["sort"] == "likes" and chat["limit"] == "200"
    assert "inferenceProviderMapping" in chat.get_list("expand")
    # Media are listed only where the hf-inference route this adapter calls serves them.
    assert sent["text-to-image"].url.params["inference_provider"] == "hf-inference"
    assert sent["automatic-speech-recognition"].url.params["inference_provider"] == "hf-inference"
    assert all(request.headers["authorization"] == f"Bearer {CANARY}" for request in upstream.requests)


async def test_a_repo_the_hub_has_disabled_is_not_offered(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/models", hub_by_tag)
    models = {model.id for model in await adapter().list_models()}

    assert "takedown-org/Withdrawn-13B-Chat" not in models
    assert "meta-llama/Llama-3.1-8B-Instruct" in models
    assert all("disabled" in request.url.params.get_list("expand") for request in upstream.to("/api/models"))


async def test_list_models_maps_provider_tasks_and_pipeline_tags(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/models", hub_by_tag)
    models = {model.id: model for model in await adapter().list_models()}

    assert models["meta-llama/Llama-3.1-8B-Instruct"].capabilities == {"chat", "content"}
    assert models["google/gemma-3-27b-it"].capabilities == {"chat", "content"}
    assert models["black-forest-labs/FLUX.1-dev"].capabilities == {"image"}
    assert models["facebook/mms-tts-eng"].capabilities == {"audio"}
    assert models["openai/whisper-large-v3"].capabilities == {"audio"}
    # Served for raw text generation only, staging only, or excluded by the catalogue rules.
    assert "openai-community/gpt2" not in models
    assert "fresh-org/Brand-New-7B-Instruct" not in models
    assert "intfloat/e5-mistral-7b-embed" not in models

    llama = models["meta-llama/Llama-3.1-8B-Instruct"]
    assert llama.name == llama.id
    assert llama.is_free is False and llama.pricing_input is None and llama.context_window is None
    assert "novita" in llama.description and "nebius" not in llama.description  # staging is not live
    # Hub order (most liked first) is kept.
    assert list(models)[:2] == ["meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-120b"]


async def test_list_models_without_mappings_falls_back_to_pipeline_tags(upstream: Upstream) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        tag = request.url.params["pipeline_tag"]
        return httpx.Response(200, json=payloads.HUB_TEXT_GENERATION_NO_MAPPING if tag == "text-generation" else [])

    upstream.on("GET", f"{HUB}/api/models", handler)
    models = {model.id: model.capabilities for model in await adapter().list_models()}
    # No "conversational" tag: gpt2 is no chat model.
    assert models == {"meta-llama/Llama-3.1-8B-Instruct": {"chat", "content"}}


async def test_list_models_config_narrows_partners_sort_and_limit(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/models", httpx.Response(200, json=[]))
    await adapter(hub_inference_provider="groq,cerebras", hub_sort="downloads", hub_limit=50).list_models()
    chat = next(r for r in upstream.requests if r.url.params["pipeline_tag"] == "text-generation")
    assert chat.url.params["inference_provider"] == "groq,cerebras"
    assert chat.url.params["sort"] == "downloads" and chat.url.params["limit"] == "50"


async def test_a_rejected_token_is_an_authentication_error_without_the_token(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/models", httpx.Response(401, json=payloads.INVALID_TOKEN))
    with pytest.raises(AuthenticationError) as caught:
        await adapter().list_models()
    assert CANARY not in str(caught.value)


async def test_the_token_goes_to_no_other_hub(upstream: Upstream) -> None:
    mirror = "https://hf-mirror.example.com"
    upstream.on("GET", f"{mirror}/api/models", httpx.Response(200, json=[]))
    upstream.on("GET", f"{mirror}/api/whoami-v2", httpx.Response(200, json=payloads.WHOAMI))
    hf = adapter(hub_url=mirror)

    assert await hf.list_models() == []
    assert upstream.requests and all("authorization" not in r.headers for r in upstream.requests)
    result = await hf.validate_key()
    assert not result.ok and "hf-mirror.example.com" in result.message
    assert all(request.url.path != "/api/whoami-v2" for request in upstream.requests)


async def test_a_private_hub_address_needs_allow_private_network(upstream: Upstream) -> None:
    with pytest.raises(ConfigurationError):
        await adapter(hub_url="http://127.0.0.1:9/hf").list_models()
    assert upstream.requests == []


# --------------------------------------------------------------------------- chat (router)


async def test_chat_goes_to_the_router_in_openai_format(upstream: Upstream) -> None:
    upstream.on("POST", f"{ROUTER}/chat/completions", httpx.Response(200, json=payloads.ROUTER_CHAT_COMPLETION))
    result = await adapter().chat(chat_request(max_tokens=64))

    assert result.text == "Paris is the capital of France."
    assert result.usage == Usage(input_tokens=14, output_tokens=8)
    sent = upstream.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {CANARY}"
    body = json.loads(sent.content)
    assert body["model"] == "openai/gpt-oss-120b:groq"  # provider suffix passed through
    assert body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert body["stream"] is False and body["max_tokens"] == 64


async def test_stream_chat_yields_chunks_then_usage(upstream: Upstream) -> None:
    upstream.on(
        "POST",
        f"{ROUTER}/chat/completions",
        httpx.Response(200, content=payloads.ROUTER_CHAT_STREAM, headers={"content-type": "text/event-stream"}),
    )
    items = [item async for item in adapter().stream_chat(chat_request())]
    assert items == [ChatChunk("Paris is "), ChatChunk("the capital."), ChatFinish("stop"), Usage(input_tokens=14, output_tokens=5)]
    assert json.loads(upstream.requests[-1].content)["stream_options"] == {"include_usage": True}


async def test_stream_chat_asks_for_an_event_stream(upstream: Upstream) -> None:
    upstream.on(
        "POST",
        f"{ROUTER}/chat/completions",
        httpx.Response(200, content=payloads.ROUTER_CHAT_STREAM, headers={"content-type": "text/event-stream"}),
    )
    [item async for item in adapter().stream_chat(chat_request())]
    assert upstream.requests[-1].headers.get_list("accept") == ["text/event-stream"]


async def test_a_stream_without_done_is_a_failed_turn(upstream: Upstream) -> None:
    cut = payloads.ROUTER_CHAT_STREAM.split(b'data: {"id":"chatcmpl-6c0f","object":"chat.completion.chunk","created":1754400000,"model":"openai/gpt-oss-120b","choices":[{"index":0,"delta":{"content":"the')[0]
    upstream.on(
        "POST", f"{ROUTER}/chat/completions",
        httpx.Response(200, content=cut, headers={"content-type": "text/event-stream"}),
    )
    with pytest.raises(StreamEndedEarly):
        [item async for item in adapter().stream_chat(chat_request())]


# --------------------------------------------------------------------------- images


async def test_generate_image_posts_the_task_payload_to_hf_inference(upstream: Upstream) -> None:
    url = "https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-dev"
    upstream.on("POST", url, httpx.Response(200, content=payloads.PNG_BYTES, headers={"content-type": "image/png"}))
    images = await adapter().generate_image(
        ImageRequest(model="black-forest-labs/FLUX.1-dev", prompt="a lighthouse at dusk", size="768x512", n=2)
    )

    assert [(image.data, image.mime_type) for image in images] == [(payloads.PNG_BYTES, "image/png")] * 2
    assert len(upstream.requests) == 2  # one image per call
    sent = upstream.requests[0]
    assert json.loads(sent.content) == {
        "inputs": "a lighthouse at dusk",
        "parameters": {"width": 768, "height": 512},
    }
    assert sent.headers["accept"] == "image/png"
    assert sent.headers["authorization"] == f"Bearer {CANARY}"


async def test_image_bytes_without_a_content_type_are_sniffed(upstream: Upstream) -> None:
    url = "https://router.huggingface.co/hf-inference/models/stabilityai/stable-diffusion-xl-base-1.0"
    upstream.on("POST", url, httpx.Response(200, content=payloads.PNG_BYTES))
    (image,) = await adapter().generate_image(
        ImageRequest(model="stabilityai/stable-diffusion-xl-base-1.0", prompt="a cat")
    )
    assert image.mime_type == "image/png"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(402, json=payloads.NO_CREDITS), QuotaExceededError),
        (httpx.Response(401, json=payloads.INVALID_TOKEN), AuthenticationError),
        (httpx.Response(503, json=payloads.MODEL_LOADING), UpstreamError),
        (httpx.Response(200, json={"error": "Model too busy"}), UpstreamError),
        (httpx.Response(200, content=b"<html>gateway</html>", headers={"content-type": "text/html"}), MalformedResponseError),
    ],
)
async def test_image_errors_map_to_the_error_tree(upstream: Upstream, response: httpx.Response, error: type) -> None:
    url = "https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-dev"
    upstream.on("POST", url, response)
    with pytest.raises(error) as caught:
        await adapter().generate_image(ImageRequest(model="black-forest-labs/FLUX.1-dev", prompt="x"))
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize("model_id", ["../../v1/chat/completions", "org/name/extra", "", "https://evil.example/x"])
async def test_a_model_id_that_is_no_repo_id_is_refused_before_any_call(upstream: Upstream, model_id: str) -> None:
    with pytest.raises(BadRequestError):
        await adapter().generate_image(ImageRequest(model=model_id, prompt="x"))
    assert upstream.requests == []


# --------------------------------------------------------------------------- audio


async def test_text_to_speech_returns_the_audio_the_model_made(upstream: Upstream) -> None:
    url = "https://router.huggingface.co/hf-inference/models/facebook/mms-tts-eng"
    upstream.on("POST", url, httpx.Response(200, content=payloads.FLAC_BYTES, headers={"content-type": "audio/flac"}))
    audio = await adapter().text_to_speech(SpeechRequest(model="facebook/mms-tts-eng", text="Hello there"))
    assert (audio.data, audio.mime_type) == (payloads.FLAC_BYTES, "audio/flac")
    assert json.loads(upstream.requests[-1].content) == {"inputs": "Hello there"}


async def test_speech_to_text_posts_raw_audio_with_its_type(upstream: Upstream) -> None:
    url = "https://router.huggingface.co/hf-inference/models/openai/whisper-large-v3"
    upstream.on("POST", url, httpx.Response(200, json=payloads.ASR_RESULT))
    transcript = await adapter().speech_to_text(
        TranscriptionRequest(model="openai/whisper-large-v3", audio=payloads.WAV_BYTES, filename="clip.wav", language="en")
    )
    assert transcript.text == "The quick brown fox jumps over the lazy dog."
    assert transcript.language == "en"
    sent = upstream.requests[-1]
    assert sent.content == payloads.WAV_BYTES
    assert sent.headers["content-type"] == "audio/x-wav" or sent.headers["content-type"].startswith("audio/")


# --------------------------------------------------------------------------- key check


async def test_validate_key_names_the_account(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/whoami-v2", httpx.Response(200, json=payloads.WHOAMI))
    result = await adapter().validate_key()
    assert result.ok and "ada-lovelace" in result.message
    assert upstream.requests[-1].headers["authorization"] == f"Bearer {CANARY}"


async def test_validate_key_flags_a_token_without_the_inference_permission(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/whoami-v2", httpx.Response(200, json=payloads.WHOAMI_WITHOUT_INFERENCE))
    result = await adapter().validate_key()
    assert not result.ok and "Inference Providers" in result.message


async def test_validate_key_accepts_a_classic_token(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/whoami-v2", httpx.Response(200, json=payloads.WHOAMI_READ_TOKEN))
    assert (await adapter().validate_key()).ok


async def test_validate_key_reports_a_rejected_token(upstream: Upstream) -> None:
    upstream.on("GET", f"{HUB}/api/whoami-v2", httpx.Response(401, json=payloads.INVALID_TOKEN))
    result = await adapter().validate_key()
    assert not result.ok and CANARY not in result.message


# --------------------------------------------------------------------------- end to end


async def test_end_to_end_against_the_fake_provider(fake_provider) -> None:  # noqa: F811
    hf = HuggingFaceAdapter(
        base_url=fake_provider.hf_router_url,
        api_key=fake_provider.api_key,
        config={**catalogue_config(), "hub_url": fake_provider.hf_hub_url, "allow_private_network": True},
        provider_name="Hugging Face (fake)",
    )
    try:
        models = {model.id: model.capabilities for model in await hf.list_models()}
        assert models["meta-llama/Llama-3.1-8B-Instruct"] == {"chat", "content"}
        assert models["black-forest-labs/FLUX.1-schnell"] == {"image"}
        assert "Qwen/Qwen-Image" not in models  # not served by hf-inference
        assert "openai-community/gpt2" not in models

        items = [item async for item in hf.stream_chat(chat_request(model="meta-llama/Llama-3.1-8B-Instruct"))]
        assert "".join(item.text for item in items if isinstance(item, ChatChunk)).startswith("Hello from the fake")
        assert isinstance(items[-1], Usage) and items[-1].output_tokens

        (image,) = await hf.generate_image(ImageRequest(model="black-forest-labs/FLUX.1-schnell", prompt="a fox"))
        assert image.data.startswith(b"\x89PNG") and image.mime_type == "image/png"

        transcript = await hf.speech_to_text(
            TranscriptionRequest(model="openai/whisper-large-v3", audio=payloads.WAV_BYTES, filename="a.wav")
        )
        assert "byte audio upload" in transcript.text
        assert (await hf.validate_key()).ok
    finally:
        await shared_client.aclose_clients()
