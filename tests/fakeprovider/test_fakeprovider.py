"""The fake provider itself: it starts, each wire format answers, failure modes by model name."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from tests.fakeprovider.app import PNG_BYTES, XSS_IMG, XSS_SCRIPT
from tests.fakeprovider.server import FakeProviderServer

KEY = "test-key"
BEARER = {"Authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": KEY}


def chat(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hello"}], **extra}


def sse_events(raw: bytes) -> list[tuple[str, str]]:
    """(event type, data) pairs; comments dropped; CRLF or LF framing."""
    text = raw.decode().replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        kind, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((kind, "\n".join(data)))
    return events


@pytest.fixture
def client(fake_provider: FakeProviderServer) -> httpx.Client:  # noqa: F811
    with httpx.Client(base_url=fake_provider.base_url, timeout=10) as http:
        yield http


# --------------------------------------------------------------------------- lifecycle


def test_it_starts_on_loopback_and_records_requests(fake_provider: FakeProviderServer, client: httpx.Client) -> None:  # noqa: F811
    assert fake_provider.base_url.startswith("http://127.0.0.1:")
    assert client.get("/health").json() == {"status": "ok"}
    assert fake_provider.last_request.path == "/health"
    fake_provider.reset()
    assert fake_provider.requests == []


def test_a_second_server_gets_its_own_port() -> None:
    with FakeProviderServer(api_key="other-key") as server:
        response = httpx.get(f"{server.openai_base_url}/models", headers={"Authorization": "Bearer other-key"})
        assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/health", timeout=2)


# --------------------------------------------------------------------------- OpenAI-compatible


def test_openai_model_list_has_openrouter_fields(client: httpx.Client) -> None:
    data = client.get("/openai/v1/models", headers=BEARER).json()["data"]
    by_id = {entry["id"]: entry for entry in data}
    assert by_id["gpt-4o-mini"]["pricing"]["prompt"] == "0.00000015"
    assert by_id["gpt-image-1"]["architecture"]["output_modalities"] == ["image"]
    assert by_id["meta-llama/llama-3.3-70b-instruct:free"]["context_length"] == 131072
    assert "fake-flaky" in by_id and "fake-paced-64x20" in by_id


def test_openai_chat_streams_with_comment_usage_and_done(client: httpx.Client) -> None:
    response = client.post(
        "/openai/v1/chat/completions",
        headers=BEARER,
        json=chat("gpt-4o-mini", stream=True, stream_options={"include_usage": True}),
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith(": OPENROUTER PROCESSING\n\n")
    events = [data for _, data in sse_events(response.content)]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(data) for data in events[:-1]]
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks if chunk["choices"])
    assert text.startswith("Hello from the fake provider.")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_openai_chat_without_stream(client: httpx.Client) -> None:
    body = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-echo")).json()
    assert body["choices"][0]["message"]["content"] == "You said: Say hello"
    assert body["usage"]["prompt_tokens"] == 2


def test_a_wrong_key_gets_the_formats_401_echoing_the_key(client: httpx.Client) -> None:
    response = client.post(
        "/openai/v1/chat/completions", headers={"Authorization": "Bearer sk-leaky-123"}, json=chat("gpt-4o-mini")
    )
    assert response.status_code == 401
    assert "Incorrect API key provided: sk-leaky-123" in response.json()["error"]["message"]
    assert client.get("/openai/v1/models").status_code == 401


def test_openai_images_in_b64_and_url_modes(client: httpx.Client) -> None:
    b64 = client.post(
        "/openai/v1/images/generations", headers=BEARER, json={"model": "gpt-image-1", "prompt": "a fox", "n": 2}
    ).json()
    assert len(b64["data"]) == 2 and "b64_json" in b64["data"][0] and b64["usage"]["output_tokens"]
    url_mode = client.post(
        "/openai/v1/images/generations",
        headers=BEARER,
        json={"model": "dall-e-3", "prompt": "a fox", "response_format": "url"},
    ).json()
    image = httpx.get(url_mode["data"][0]["url"])
    assert image.content == PNG_BYTES and image.headers["content-type"] == "image/png"
    assert url_mode["data"][0]["revised_prompt"]


def test_openai_speech_and_transcription(client: httpx.Client) -> None:
    speech = client.post(
        "/openai/v1/audio/speech",
        headers=BEARER,
        json={"model": "tts-1", "input": "Hello", "voice": "alloy", "response_format": "wav"},
    )
    assert speech.headers["content-type"] == "audio/wav" and speech.content[:4] == b"RIFF"
    transcript = client.post(
        "/openai/v1/audio/transcriptions",
        headers=BEARER,
        data={"model": "whisper-1"},
        files={"file": ("clip.wav", speech.content, "audio/wav")},
    )
    assert transcript.json()["text"] == f"Fake transcript of a {len(speech.content)}-byte upload named clip.wav."


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_models_paginate_with_after_id(client: httpx.Client) -> None:
    pages = [client.get("/anthropic/v1/models", headers=ANTHROPIC, params={"limit": 1000}).json()]
    assert pages[0]["has_more"] is True and len(pages[0]["data"]) == 10
    while pages[-1]["has_more"]:
        params = {"limit": 1000, "after_id": pages[-1]["last_id"]}
        pages.append(client.get("/anthropic/v1/models", headers=ANTHROPIC, params=params).json())
    ids = [model["id"] for page in pages for model in page["data"]]
    assert len(ids) == len(set(ids)) and "claude-sonnet-4-5-20250929" in ids
    assert pages[0]["data"][0]["type"] == "model"


def test_anthropic_messages_stream_event_types(client: httpx.Client) -> None:
    response = client.post(
        "/anthropic/v1/messages",
        headers=ANTHROPIC,
        json=chat("claude-sonnet-4-5-20250929", max_tokens=256, stream=True),
    )
    kinds = [kind for kind, _ in sse_events(response.content)]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    events = sse_events(response.content)
    assert json.loads(events[-2][1])["usage"]["output_tokens"] == kinds.count("content_block_delta")


def test_anthropic_needs_version_and_max_tokens(client: httpx.Client) -> None:
    no_version = client.post("/anthropic/v1/messages", headers={"x-api-key": KEY}, json=chat("claude-x", max_tokens=5))
    assert no_version.status_code == 400 and "anthropic-version" in no_version.text
    no_max = client.post("/anthropic/v1/messages", headers=ANTHROPIC, json=chat("claude-x"))
    assert no_max.json()["error"]["message"] == "max_tokens: Field required"
    body = client.post("/anthropic/v1/messages", headers=ANTHROPIC, json=chat("claude-x", max_tokens=3)).json()
    assert body["stop_reason"] == "max_tokens" and body["usage"]["output_tokens"] == 3


# --------------------------------------------------------------------------- Gemini


def test_gemini_models_paginate_with_next_page_token(client: httpx.Client) -> None:
    pages = [client.get("/gemini/v1beta/models", headers=GEMINI, params={"pageSize": 1000}).json()]
    assert "nextPageToken" in pages[0]
    while "nextPageToken" in pages[-1]:
        params = {"pageSize": 1000, "pageToken": pages[-1]["nextPageToken"]}
        pages.append(client.get("/gemini/v1beta/models", headers=GEMINI, params=params).json())
    names = [m["name"] for page in pages for m in page["models"]]
    assert "models/imagen-4.0-generate-001" in names and len(names) == len(set(names))


def test_gemini_stream_is_crlf_framed_cumulative_and_has_no_done(client: httpx.Client) -> None:
    response = client.post(
        "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        params={"alt": "sse"},
        headers=GEMINI,
        json={"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]},
    )
    assert b"\r\n\r\n" in response.content and b"[DONE]" not in response.content
    chunks = [json.loads(data) for _, data in sse_events(response.content)]
    counts = [chunk["usageMetadata"]["candidatesTokenCount"] for chunk in chunks]
    assert counts == list(range(1, len(chunks) + 1))
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_generate_predict_and_key_rules(client: httpx.Client) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    answer = client.post("/gemini/v1beta/models/gemini-2.5-flash:generateContent", headers=GEMINI, json=body).json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"].startswith("Hello")
    imagen = client.post(
        "/gemini/v1beta/models/imagen-4.0-generate-001:predict",
        headers=GEMINI,
        json={"instances": [{"prompt": "a fox"}], "parameters": {"sampleCount": 2}},
    ).json()
    assert len(imagen["predictions"]) == 2 and imagen["predictions"][0]["mimeType"] == "image/png"
    wrong = client.post(
        "/gemini/v1beta/models/gemini-2.5-flash:generateContent", headers={"x-goog-api-key": "AIza-wrong"}, json=body
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    in_url = client.post(
        "/gemini/v1beta/models/gemini-2.5-flash:generateContent", params={"key": KEY}, json=body
    )
    assert in_url.status_code == 403  # a key in the URL is not accepted


# --------------------------------------------------------------------------- Hugging Face


def test_hub_list_filters_by_pipeline_tag_and_provider(client: httpx.Client) -> None:
    rows = client.get(
        "/hf/api/models",
        params={"pipeline_tag": "text-to-image", "inference_provider": "hf-inference", "sort": "likes",
                "expand": ["pipeline_tag", "likes", "inferenceProviderMapping"]},
    ).json()
    assert [row["id"] for row in rows][:2] == ["black-forest-labs/FLUX.1-dev", "stabilityai/stable-diffusion-xl-base-1.0"]
    assert "Qwen/Qwen-Image" not in {row["id"] for row in rows}
    assert set(rows[0]) == {"_id", "id", "pipeline_tag", "likes", "inferenceProviderMapping"}
    plain = client.get("/hf/api/models", params={"pipeline_tag": "text-generation", "inference_provider": "all"}).json()
    assert "inferenceProviderMapping" not in plain[0] and "some-org/unserved-chat-model" not in {r["id"] for r in plain}


def test_hf_whoami_router_chat_and_text_to_image(client: httpx.Client) -> None:
    assert client.get("/hf/api/whoami-v2", headers=BEARER).json()["name"] == "fake-user"
    assert client.get("/hf/api/whoami-v2").status_code == 401
    answer = client.post("/hf/router/v1/chat/completions", headers=BEARER, json=chat("meta-llama/Llama-3.1-8B-Instruct"))
    assert answer.json()["object"] == "chat.completion"
    image = client.post(
        "/hf/router/hf-inference/models/black-forest-labs/FLUX.1-dev", headers=BEARER, json={"inputs": "a fox"}
    )
    assert image.headers["content-type"] == "image/png" and image.content == PNG_BYTES


# --------------------------------------------------------------------------- failure modes


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"),
    [
        ("/openai/v1/chat/completions", BEARER, chat("fake-unauthorized"), 401),
        ("/openai/v1/chat/completions", BEARER, chat("fake-error500"), 500),
        ("/openai/v1/images/generations", BEARER, {"model": "gpt-image-1-quota", "prompt": "x"}, 429),
        ("/anthropic/v1/messages", ANTHROPIC, chat("claude-fake-error500", max_tokens=9), 500),
        ("/gemini/v1beta/models/gemini-fake-unauthorized:generateContent", GEMINI,
         {"contents": [{"parts": [{"text": "x"}]}]}, 401),
        ("/hf/router/hf-inference/models/fake-org/FLUX-fake-error500", BEARER, {"inputs": "x"}, 500),
    ],
)
def test_error_modes_by_model_name(client: httpx.Client, path: str, headers: dict, body: dict, status: int) -> None:
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == status
    if status == 401:
        assert f"Incorrect API key provided: {KEY}" in response.text


def test_ratelimited_sends_retry_after(client: httpx.Client) -> None:
    response = client.post("/anthropic/v1/messages", headers=ANTHROPIC, json=chat("claude-fake-ratelimited", max_tokens=9))
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_flaky_fails_every_other_call(client: httpx.Client) -> None:
    statuses = [
        client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-flaky")).status_code
        for _ in range(4)
    ]
    assert statuses == [503, 200, 503, 200]


def test_slow_waits_and_latency_applies_everywhere(fake_provider: FakeProviderServer, client: httpx.Client) -> None:  # noqa: F811
    fake_provider.configure(slow_ms=300)
    started = time.monotonic()
    assert client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-slow")).status_code == 200
    assert time.monotonic() - started >= 0.3
    fake_provider.configure(latency_ms=150)
    started = time.monotonic()
    client.get("/health")
    assert time.monotonic() - started >= 0.15


def test_malformed_bodies_and_stream_lines(client: httpx.Client) -> None:
    response = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-malformed"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    stream = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-malformed", stream=True))
    bad = [data for _, data in sse_events(stream.content) if data != "[DONE]" and not _is_json(data)]
    assert bad


def _is_json(data: str) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def test_midstream_error_and_truncated_streams(client: httpx.Client) -> None:
    openai = sse_events(
        client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-midstream-error", stream=True)).content
    )
    assert "error" in json.loads(openai[-1][1]) and openai[-1][1] != "[DONE]"
    anthropic = sse_events(
        client.post(
            "/anthropic/v1/messages", headers=ANTHROPIC, json=chat("claude-fake-midstream-error", max_tokens=99, stream=True)
        ).content
    )
    assert anthropic[-1][0] == "error"
    truncated = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-truncated", stream=True))
    assert truncated.status_code == 200 and b"[DONE]" not in truncated.content
    cut = client.post("/anthropic/v1/messages", headers=ANTHROPIC, json=chat("claude-fake-truncated", max_tokens=99, stream=True))
    assert b"message_stop" not in cut.content


def test_stall_goes_silent_until_the_client_leaves(fake_provider: FakeProviderServer) -> None:  # noqa: F811
    with httpx.Client(base_url=fake_provider.base_url, timeout=httpx.Timeout(5, read=0.5)) as client:
        with client.stream(
            "POST", "/openai/v1/chat/completions", headers=BEARER, json=chat("fake-stall", stream=True)
        ) as response:
            received = b""
            with pytest.raises(httpx.ReadTimeout):
                for piece in response.iter_bytes():
                    received += piece
    assert b"Hello" in received
    assert fake_provider.wait_for(lambda request: request.client_disconnected).model == "fake-stall"


def test_paced_streams_send_n_chunks_apart(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-paced-6x30", stream=True))
    elapsed = time.monotonic() - started
    contents = [
        json.loads(data)["choices"][0]["delta"].get("content")
        for _, data in sse_events(response.content)
        if data != "[DONE]"
    ]
    assert len([c for c in contents if c]) == 6
    assert elapsed >= 0.15


def test_xss_payloads_in_lists_and_answers(fake_provider: FakeProviderServer, client: httpx.Client) -> None:  # noqa: F811
    listing = client.get("/openai/v1/models", headers=BEARER).text
    assert XSS_SCRIPT in json.loads(listing)["data"][-2]["name"]
    answer = client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("fake-xss")).json()
    assert XSS_IMG in answer["choices"][0]["message"]["content"]
    fake_provider.configure(include_xss_models=False)
    assert XSS_SCRIPT not in client.get("/openai/v1/models", headers=BEARER).text


def test_list_failure_applies_to_model_lists(fake_provider: FakeProviderServer, client: httpx.Client) -> None:  # noqa: F811
    fake_provider.set_list_failure("error500")
    assert client.get("/gemini/v1beta/models", headers=GEMINI).status_code == 500
    assert client.post("/openai/v1/chat/completions", headers=BEARER, json=chat("gpt-4o-mini")).status_code == 200
    fake_provider.reset()
    assert client.get("/gemini/v1beta/models", headers=GEMINI).status_code == 200


async def test_many_concurrent_streams(fake_provider: FakeProviderServer) -> None:  # noqa: F811
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=fake_provider.base_url, limits=limits, timeout=30) as client:

        async def one(index: int) -> bool:
            body = chat("fake-paced-10x10", stream=True, stream_options={"include_usage": True})
            response = await client.post("/openai/v1/chat/completions", headers=BEARER, json=body)
            return response.content.endswith(b"data: [DONE]\n\n")

        started = time.monotonic()
        results = await asyncio.gather(*(one(index) for index in range(100)))
    assert all(results)
    assert time.monotonic() - started < 10


def test_endless_streams_repeat_their_first_chunk_until_the_client_leaves(client: httpx.Client) -> None:
    with client.stream("POST", "/openai/v1/chat/completions", headers=BEARER, json=chat("fake-endless", stream=True)) as response:
        received = b""
        for piece in response.iter_bytes():
            received += piece
            if len(received) > 200_000:
                break
    frames = [data for _, data in sse_events(received.rsplit(b"\n\n", 1)[0] + b"\n\n")]
    assert len(frames) > 100 and "[DONE]" not in frames
    assert json.loads(frames[-1])["choices"][0]["delta"]["content"]
