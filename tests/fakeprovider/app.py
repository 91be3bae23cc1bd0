"""A fake AI provider for tests: one plain ASGI app (stdlib + json only, no framework) that
speaks the OpenAI, Anthropic, Gemini and Hugging Face wire formats on loopback.

Run it with :class:`tests.fakeprovider.server.FakeProviderServer` (uvicorn in a background
thread) or the ``fake_provider`` pytest fixture. URL prefixes (append to the server's base URL):

=====================  =======================================================================
``/openai/v1``         OpenAI-compatible (OpenRouter-like model list): ``GET /models``,
                       ``POST /chat/completions``, ``/images/generations`` (+ ``GET
                       /images/files/<name>`` for URL-mode images), ``/audio/speech``,
                       ``/audio/transcriptions`` (multipart). Auth: ``Authorization: Bearer``.
``/anthropic``         ``GET /v1/models`` (``limit``/``after_id``/``before_id``, ``has_more``),
                       ``POST /v1/messages`` (event-typed SSE with ``ping``). Auth: ``x-api-key``
                       plus a required ``anthropic-version`` header.
``/gemini/v1beta``     ``GET /models`` (``pageSize``/``pageToken``, ``nextPageToken``), ``GET
                       /models/{m}``, ``POST /models/{m}:generateContent``,
                       ``:streamGenerateContent?alt=sse`` (CRLF framed, cumulative
                       ``usageMetadata``, no ``[DONE]``), ``:predict`` (Imagen). Auth:
                       ``x-goog-api-key`` header only; a ``?key=`` query parameter is *not*
                       accepted (the real API accepts it, but a key in a URL reaches logs).
``/hf``                Hub: ``GET /api/models`` (``pipeline_tag``, ``inference_provider``,
                       ``sort``, ``limit``, ``search``, ``expand``), ``GET /api/whoami-v2``.
                       Router: ``POST /router/v1/chat/completions`` (OpenAI format), ``POST
                       /router/hf-inference/models/{id}`` (text-to-image -> PNG,
                       text-to-speech -> WAV, raw audio body -> ``{"text"}``).
=====================  =======================================================================

The accepted key is ``settings.api_key`` (default ``"test-key"``). A wrong key gets that
format's authentication error, whose message echoes the key that was sent ("Incorrect API key
provided: <key>") so leak tests can prove it is redacted downstream.

Failure modes are chosen by the **model name** of a chat / image / speech / transcription call
(a substring anywhere in the id; see :data:`FAILURE_MODES`):

``slow`` (wait ``settings.slow_ms`` first, or ``slow-<N>ms``), ``flaky`` (odd-numbered calls per
model answer 503), ``unauthorized`` (401), ``forbidden`` (403), ``notfound`` (404),
``badrequest`` (400), ``quota`` (out-of-credit error), ``ratelimited`` (429 with
``Retry-After: 1``), ``error500`` (500), ``midstream-error`` (a few chunks, then an error event
under HTTP 200; non-streamed calls get a 500), ``malformed`` (invalid JSON body / an invalid
JSON SSE data line), ``stall`` (a couple of chunks, then silence until the client disconnects
or ``settings.stall_max_seconds``), ``truncated`` (the stream ends without its terminal event;
non-streamed calls stop at the token limit), ``xss`` (answers, and model lists, carry
``<script>``/``onerror``/``javascript:`` payloads), ``echo`` (the answer repeats the last user
message), ``paced-<N>x<MS>`` (N chunks MS milliseconds apart, for benchmarks), ``endless``
(streams repeat their first chunk until the client leaves or ``settings.stall_max_seconds``;
non-streamed calls answer normally).
``settings.latency_ms`` delays every response. ``settings.list_failure`` applies one failure
mode to the model-list endpoints.

Per-request work is kept small (precomputed bytes, cached chunk frames) because the benchmark
runs over a thousand concurrent streams against it.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import math
import re
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

# =========================================================================================
# Model catalogue
# =========================================================================================
# Model lists the fake provider serves, shaped like the real APIs' list responses.
#
# Shapes follow, per format:
#
# * OpenAI-compatible ``GET /models``: OpenAI's ``{"object": "list", "data": [{"id", "object",
#   "created", "owned_by"}]}`` plus OpenRouter's extra fields (``name``, ``description``,
#   ``context_length``, ``pricing`` with per-token strings, ``architecture`` with
#   ``input_modalities``/``output_modalities``, ``top_provider``, ``supported_parameters``). Free
#   models appear both ways OpenRouter sends them: explicit ``"0"`` prices and (since 2026)
#   zero-priced keys omitted; ``"-1"`` is variable pricing.
# * Anthropic ``GET /v1/models``: ``{"data": [{"type": "model", "id", "display_name",
#   "created_at"}], "has_more", "first_id", "last_id"}``, newest first.
# * Gemini ``GET /v1beta/models``: ``{"models": [{"name": "models/...", "version",
#   "displayName", "description", "inputTokenLimit", "outputTokenLimit",
#   "supportedGenerationMethods", ...}], "nextPageToken"}``.
# * Hugging Face Hub ``GET /api/models``: a JSON array of ``{"_id", "id", "likes",
#   "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name",
#   "createdAt", "modelId"}`` and, when ``expand=inferenceProviderMapping`` is asked for, the
#   list form of ``inferenceProviderMapping`` (``provider``, ``providerId``, ``status``,
#   ``task``).
#
# Models whose id names a failure mode (``fake-slow``, ``claude-fake-flaky`` ...) are listed too,
# so browser tests can pick them in the model browser.
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_LINK = "[link](javascript:alert(1))"
XSS_PAYLOADS = (XSS_SCRIPT, XSS_IMG, XSS_LINK)
XSS_TEXT = f"Hostile text: {XSS_SCRIPT} {XSS_IMG} {XSS_LINK}"

# Failure modes that get a listed model of their own in each format.
LISTED_FAILURE_MODES = (
    "slow",
    "flaky",
    "unauthorized",
    "ratelimited",
    "error500",
    "midstream-error",
    "malformed",
    "stall",
    "truncated",
    "paced-64x20",
    "echo",
)

_CREATED = 1_721_172_741


# --------------------------------------------------------------------------- OpenAI / OpenRouter


def _openrouter_model(
    model_id: str,
    name: str,
    *,
    context: int | None,
    pricing: dict[str, str] | None,
    inputs: tuple[str, ...] = ("text",),
    outputs: tuple[str, ...] = ("text",),
    description: str = "",
    owned_by: str = "system",
    created: int = _CREATED,
    expiration_date: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": owned_by,
        "canonical_slug": model_id.split(":")[0],
        "name": name,
        "description": description or f"{name} served by the fake provider.",
        "context_length": context,
        "architecture": {
            "modality": "+".join(inputs) + "->" + "+".join(outputs),
            "input_modalities": list(inputs),
            "output_modalities": list(outputs),
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "top_provider": {
            "context_length": context,
            "max_completion_tokens": 16384 if context else None,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "stream", "stream_options"],
        "expiration_date": expiration_date,
    }
    if pricing is not None:
        entry["pricing"] = pricing
    return entry


def openai_models(*, include_xss: bool) -> list[dict[str, Any]]:
    models = [
        _openrouter_model(
            "gpt-4o-mini",
            "OpenAI: GPT-4o-mini",
            context=128_000,
            pricing={"prompt": "0.00000015", "completion": "0.0000006", "image": "0.000217"},
            inputs=("text", "image", "file"),
        ),
        _openrouter_model(
            "gpt-4.1",
            "OpenAI: GPT-4.1",
            context=1_047_576,
            pricing={"prompt": "0.000002", "completion": "0.000008"},
            inputs=("text", "image", "file"),
        ),
        _openrouter_model(
            "meta-llama/llama-3.3-70b-instruct:free",
            "Meta: Llama 3.3 70B Instruct (free)",
            context=131_072,
            pricing={"prompt": "0", "completion": "0", "request": "0", "image": "0"},
            owned_by="meta-llama",
        ),
        # OpenRouter since 2026: zero prices are omitted, so an empty pricing object is free.
        _openrouter_model(
            "deepseek/deepseek-chat-v3.1",
            "DeepSeek: DeepSeek V3.1 (free tier)",
            context=163_840,
            pricing={},
            owned_by="deepseek",
        ),
        _openrouter_model(
            "openrouter/auto",
            "Auto Router",
            context=2_000_000,
            pricing={"prompt": "-1", "completion": "-1"},
            owned_by="openrouter",
        ),
        _openrouter_model(
            "google/gemini-2.5-flash-image",
            "Google: Gemini 2.5 Flash Image",
            context=32_768,
            pricing={"prompt": "0.0000003", "completion": "0.0000025", "image": "0.001238"},
            inputs=("image", "text"),
            outputs=("image", "text"),
            owned_by="google",
        ),
        _openrouter_model(
            "gpt-image-1",
            "OpenAI: GPT Image 1",
            context=None,
            pricing={"prompt": "0.000005", "completion": "0.00004"},
            inputs=("text", "image"),
            outputs=("image",),
        ),
        _openrouter_model(
            "dall-e-3", "OpenAI: DALL-E 3", context=None, pricing=None, outputs=("image",)
        ),
        # OpenRouter's audio taxonomy (Models API, "audio vs speech vs transcription"): speech
        # models run on /audio/speech, transcription models on /audio/transcriptions, and
        # "audio" models are chat models that answer in audio inside chat completions.
        _openrouter_model("tts-1", "OpenAI: TTS 1", context=None, pricing=None, outputs=("speech",)),
        _openrouter_model(
            "gpt-4o-mini-tts", "OpenAI: GPT-4o mini TTS", context=None, pricing=None, outputs=("speech",)
        ),
        _openrouter_model(
            "whisper-1", "OpenAI: Whisper", context=None, pricing=None, inputs=("audio",), outputs=("transcription",)
        ),
        _openrouter_model(
            "gpt-4o-mini-transcribe",
            "OpenAI: GPT-4o mini Transcribe",
            context=None,
            pricing=None,
            inputs=("audio",),
            outputs=("transcription",),
        ),
        _openrouter_model(
            "gpt-4o-audio-preview",
            "OpenAI: GPT-4o Audio",
            context=128_000,
            pricing={"prompt": "0.0000025", "completion": "0.00001", "audio": "0.00004"},
            inputs=("audio", "text"),
            outputs=("text", "audio"),
        ),
        # OpenRouter's expiration_date: "the date after which the model may be removed".
        _openrouter_model(
            "fake-retiring",
            "Fake retiring model",
            context=32_768,
            pricing={"prompt": "0.000001", "completion": "0.000002"},
            expiration_date="2999-12-31",
        ),
        _openrouter_model(
            "fake-retired",
            "Fake retired model",
            context=32_768,
            pricing={"prompt": "0.000001", "completion": "0.000002"},
            expiration_date="2001-01-01",
        ),
        _openrouter_model(
            "text-embedding-3-small",
            "OpenAI: Text Embedding 3 Small",
            context=8192,
            pricing={"prompt": "0.00000002", "completion": "0"},
            outputs=("embeddings",),
        ),
        _openrouter_model(
            "omni-moderation-latest", "OpenAI: Omni Moderation", context=None, pricing=None
        ),
    ]
    for mode in LISTED_FAILURE_MODES:
        models.append(
            _openrouter_model(
                f"fake-{mode}",
                f"Fake {mode}",
                context=32_768,
                pricing={"prompt": "0.000001", "completion": "0.000002"},
                owned_by="fake",
            )
        )
    if include_xss:
        models.append(
            _openrouter_model(
                "fake-xss",
                f"{XSS_SCRIPT} Fake XSS",
                context=4096,
                pricing={"prompt": "0.000001", "completion": "0.000001"},
                description=XSS_TEXT,
                owned_by=XSS_IMG,
            )
        )
        models.append(
            _openrouter_model(
                f"xss-{XSS_IMG}",
                f"{XSS_IMG} {XSS_LINK}",
                context=4096,
                pricing={"prompt": "0", "completion": "0"},
                description=XSS_TEXT,
            )
        )
    return models


# --------------------------------------------------------------------------- Anthropic

_ANTHROPIC_REAL = (
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
    ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
    ("claude-3-haiku-20240307", "Claude Haiku 3", "2024-03-07T00:00:00Z"),
)


def anthropic_models(*, include_xss: bool) -> list[dict[str, Any]]:
    models = [
        {"type": "model", "id": model_id, "display_name": name, "created_at": created}
        for model_id, name, created in _ANTHROPIC_REAL
    ]
    for index, mode in enumerate(LISTED_FAILURE_MODES):
        models.append(
            {
                "type": "model",
                "id": f"claude-fake-{mode}",
                "display_name": f"Claude Fake {mode}",
                "created_at": f"2024-01-{index + 1:02d}T00:00:00Z",
            }
        )
    if include_xss:
        models.append(
            {
                "type": "model",
                "id": "claude-fake-xss",
                "display_name": f"{XSS_SCRIPT} {XSS_IMG}",
                "created_at": "2023-12-31T00:00:00Z",
            }
        )
    # The real API lists the newest first.
    return sorted(models, key=lambda model: model["created_at"], reverse=True)


# --------------------------------------------------------------------------- Gemini

_TEXT_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]


def _gemini_model(
    model_id: str,
    display: str,
    methods: list[str],
    *,
    input_limit: int = 1_048_576,
    output_limit: int = 65_536,
    description: str = "",
    thinking: bool | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"models/{model_id}",
        "version": "001",
        "displayName": display,
        "description": description or f"{display} served by the fake provider.",
        "inputTokenLimit": input_limit,
        "outputTokenLimit": output_limit,
        "supportedGenerationMethods": methods,
    }
    if "generateContent" in methods:
        entry.update({"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2})
    if thinking is not None:
        entry["thinking"] = thinking
    return entry


def gemini_models(*, include_xss: bool) -> list[dict[str, Any]]:
    models = [
        _gemini_model("gemini-2.5-flash", "Gemini 2.5 Flash", _TEXT_METHODS, thinking=True),
        _gemini_model("gemini-2.5-pro", "Gemini 2.5 Pro", _TEXT_METHODS, thinking=True),
        _gemini_model("gemini-2.0-flash", "Gemini 2.0 Flash", _TEXT_METHODS, output_limit=8192),
        _gemini_model(
            "gemini-2.5-flash-image",
            "Nano Banana",
            ["generateContent", "countTokens", "batchGenerateContent"],
            input_limit=32_768,
            output_limit=32_768,
        ),
        _gemini_model(
            "gemini-2.5-flash-preview-tts",
            "Gemini 2.5 Flash Preview TTS",
            ["countTokens", "generateContent"],
            input_limit=8192,
            output_limit=16_384,
        ),
        _gemini_model(
            "imagen-4.0-generate-001", "Imagen 4", ["predict"], input_limit=480, output_limit=8192
        ),
        _gemini_model(
            "gemini-embedding-001",
            "Gemini Embedding 001",
            ["embedContent", "countTextTokens", "countTokens"],
            input_limit=2048,
            output_limit=1,
        ),
        _gemini_model("aqa", "Model that performs Attributed Question Answering.", ["generateAnswer"]),
        _gemini_model("veo-3.0-generate-001", "Veo 3", ["predictLongRunning"]),
    ]
    for mode in LISTED_FAILURE_MODES:
        models.append(_gemini_model(f"gemini-fake-{mode}", f"Gemini Fake {mode}", _TEXT_METHODS))
    if include_xss:
        models.append(
            _gemini_model(
                "gemini-fake-xss", f"{XSS_SCRIPT} Gemini XSS", _TEXT_METHODS, description=XSS_TEXT
            )
        )
    return models


# --------------------------------------------------------------------------- Hugging Face Hub

_LLAMA_TAGS = [
    "transformers", "safetensors", "llama", "text-generation", "facebook", "meta", "pytorch",
    "llama-3", "conversational", "en", "de", "fr", "arxiv:2204.05149",
    "base_model:meta-llama/Llama-3.1-8B", "base_model:finetune:meta-llama/Llama-3.1-8B",
    "license:llama3.1", "autotrain_compatible", "text-generation-inference",
    "endpoints_compatible", "region:us",
]


def _hub_model(
    model_id: str,
    pipeline_tag: str,
    *,
    likes: int,
    downloads: int,
    library: str,
    tags: list[str],
    providers: list[tuple[str, str, str]],
    created: str = "2024-07-18T08:56:00.000Z",
    index: int = 0,
) -> dict[str, Any]:
    return {
        "_id": f"66{index:022x}",
        "id": model_id,
        "likes": likes,
        "trendingScore": likes // 100,
        "private": False,
        "downloads": downloads,
        "tags": tags,
        "pipeline_tag": pipeline_tag,
        "library_name": library,
        "createdAt": created,
        "modelId": model_id,
        # Only returned with expand=inferenceProviderMapping (list form on list endpoints).
        "inferenceProviderMapping": [
            {"provider": provider, "providerId": provider_id, "status": status, "task": task}
            for provider, task, status, provider_id in (
                (p[0], p[1], p[2], model_id.lower() if p[0] != "hf-inference" else model_id)
                for p in providers
            )
        ],
    }


def hub_models(*, include_xss: bool) -> list[dict[str, Any]]:
    live = "live"
    rows: list[dict[str, Any]] = []
    spec: list[tuple[str, str, int, int, str, list[str], list[tuple[str, str, str]]]] = [
        ("meta-llama/Llama-3.1-8B-Instruct", "text-generation", 4800, 5_600_000, "transformers",
         _LLAMA_TAGS, [("novita", "conversational", live), ("cerebras", "conversational", live),
                       ("hf-inference", "conversational", live)]),
        ("openai/gpt-oss-120b", "text-generation", 4100, 3_900_000, "transformers",
         ["transformers", "safetensors", "gpt_oss", "text-generation", "vllm", "conversational",
          "arxiv:2508.10925", "license:apache-2.0", "endpoints_compatible", "region:us"],
         [("groq", "conversational", live), ("together", "conversational", live)]),
        ("deepseek-ai/DeepSeek-R1", "text-generation", 12800, 400_000, "transformers",
         ["transformers", "safetensors", "deepseek_v3", "text-generation", "conversational",
          "custom_code", "arxiv:2501.12948", "license:mit", "fp8", "region:us"],
         [("together", "conversational", live), ("novita", "conversational", live)]),
        ("Qwen/Qwen2.5-72B-Instruct", "text-generation", 880, 250_000, "transformers",
         ["transformers", "safetensors", "qwen2", "text-generation", "chat", "conversational",
          "en", "license:other", "region:us"],
         [("nebius", "conversational", "staging"), ("hf-inference", "conversational", live)]),
        ("google/gemma-3-27b-it", "image-text-to-text", 1600, 900_000, "transformers",
         ["transformers", "safetensors", "gemma3", "image-text-to-text", "conversational",
          "license:gemma", "region:us"],
         [("featherless-ai", "conversational", live), ("scaleway", "conversational", live)]),
        # Served only for raw text-generation, not chat completions: not a chat model.
        ("openai-community/gpt2", "text-generation", 2900, 11_000_000, "transformers",
         ["transformers", "pytorch", "tf", "jax", "safetensors", "gpt2", "text-generation",
          "exbert", "en", "license:mit", "autotrain_compatible", "region:us"],
         [("hf-inference", "text-generation", live)]),
        ("black-forest-labs/FLUX.1-dev", "text-to-image", 11500, 1_900_000, "diffusers",
         ["diffusers", "safetensors", "text-to-image", "image-generation", "flux", "en",
          "license:other", "endpoints_compatible", "diffusers:FluxPipeline", "region:us"],
         [("fal-ai", "text-to-image", live), ("together", "text-to-image", live),
          ("hf-inference", "text-to-image", live)]),
        ("black-forest-labs/FLUX.1-schnell", "text-to-image", 4300, 700_000, "diffusers",
         ["diffusers", "safetensors", "text-to-image", "flux", "en", "license:apache-2.0",
          "diffusers:FluxPipeline", "region:us"],
         [("hf-inference", "text-to-image", live), ("together", "text-to-image", live)]),
        ("stabilityai/stable-diffusion-xl-base-1.0", "text-to-image", 6900, 2_100_000, "diffusers",
         ["diffusers", "onnx", "safetensors", "text-to-image", "stable-diffusion", "arxiv:2307.01952",
          "license:openrail++", "diffusers:StableDiffusionXLPipeline", "region:us"],
         [("hf-inference", "text-to-image", live), ("nscale", "text-to-image", live)]),
        ("Qwen/Qwen-Image", "text-to-image", 2000, 150_000, "diffusers",
         ["diffusers", "safetensors", "text-to-image", "en", "zh", "license:apache-2.0",
          "diffusers:QwenImagePipeline", "region:us"],
         [("fal-ai", "text-to-image", live), ("replicate", "text-to-image", live)]),
        ("hexgrad/Kokoro-82M", "text-to-speech", 5000, 1_800_000, "kokoro",
         ["kokoro", "text-to-speech", "en", "arxiv:2306.07691", "base_model:yl4579/StyleTTS2-LJSpeech",
          "license:apache-2.0", "region:us"],
         [("fal-ai", "text-to-speech", live), ("replicate", "text-to-speech", live)]),
        ("facebook/mms-tts-eng", "text-to-speech", 230, 90_000, "transformers",
         ["transformers", "pytorch", "safetensors", "vits", "text-to-audio", "mms",
          "text-to-speech", "arxiv:2305.13516", "license:cc-by-nc-4.0", "region:us"],
         [("hf-inference", "text-to-speech", live)]),
        ("openai/whisper-large-v3", "automatic-speech-recognition", 4900, 4_500_000, "transformers",
         ["transformers", "pytorch", "jax", "safetensors", "whisper", "automatic-speech-recognition",
          "audio", "hf-asr-leaderboard", "en", "arxiv:2212.04356", "license:apache-2.0", "region:us"],
         [("hf-inference", "automatic-speech-recognition", live),
          ("fal-ai", "automatic-speech-recognition", live)]),
        ("openai/whisper-large-v3-turbo", "automatic-speech-recognition", 2600, 3_800_000,
         "transformers",
         ["transformers", "safetensors", "whisper", "automatic-speech-recognition", "audio",
          "en", "license:mit", "region:us"],
         [("hf-inference", "automatic-speech-recognition", live)]),
        # On the Hub but served by no provider: never listed with inference_provider=all.
        ("some-org/unserved-chat-model", "text-generation", 3, 10, "transformers",
         ["transformers", "text-generation", "conversational", "region:us"], []),
    ]
    for mode in LISTED_FAILURE_MODES:
        spec.append(
            (f"fake-org/Fake-Chat-{mode}", "text-generation", 10, 100, "transformers",
             ["transformers", "text-generation", "conversational", "region:us"],
             [("hf-inference", "conversational", live)])
        )
    spec.append(
        ("fake-org/FLUX-fake-error500", "text-to-image", 5, 50, "diffusers",
         ["diffusers", "text-to-image", "region:us"], [("hf-inference", "text-to-image", live)])
    )
    if include_xss:
        spec.append(
            ("fake-org/xss-chat", "text-generation", 1, 1, "transformers",
             ["transformers", "text-generation", "conversational", XSS_SCRIPT, XSS_IMG],
             [("hf-inference", "conversational", live)])
        )
    for index, (model_id, tag, likes, downloads, library, tags, providers) in enumerate(spec):
        rows.append(
            _hub_model(
                model_id, tag, likes=likes, downloads=downloads, library=library, tags=tags,
                providers=providers, index=index + 1,
            )
        )
    return rows


HUB_DEFAULT_FIELDS = (
    "_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
    "library_name", "createdAt", "modelId",
)

WHOAMI = {
    "type": "user",
    "id": "6600000000000000000000aa",
    "name": "fake-user",
    "fullname": "Fake User",
    "email": "fake-user@example.com",
    "emailVerified": True,
    "canPay": False,
    "periodEnd": None,
    "isPro": False,
    "avatarUrl": "/avatars/fake.svg",
    "orgs": [],
    "auth": {
        "type": "access_token",
        "accessToken": {
            "displayName": "aiadmin-test",
            "role": "fineGrained",
            "createdAt": "2025-01-01T00:00:00.000Z",
            "fineGrained": {
                "canReadGatedRepos": True,
                "global": ["inference.serverless.write"],
                "scoped": [],
            },
        },
    },
}


# =========================================================================================
# Settings, request log, behaviour by model name
# =========================================================================================

DEFAULT_API_KEY = "test-key"

# Substrings of a model id that make a call fail, in the order they are looked for.
FAILURE_MODES = (
    "unauthorized",
    "forbidden",
    "notfound",
    "badrequest",
    "quota",
    "ratelimited",
    "error500",
    "flaky",
    "midstream-error",
    "malformed",
    "stall",
    "truncated",
    "endless",
)
# Modes whose error response replaces the whole answer.
_REPLACING_MODES = frozenset(
    {"unauthorized", "forbidden", "notfound", "badrequest", "quota", "ratelimited", "error500"}
)


@dataclass
class FakeSettings:
    """Knobs of the fake provider; change them between tests (``reset()`` restores them)."""

    api_key: str = DEFAULT_API_KEY
    # How long a "slow" model waits before answering.
    slow_ms: int = 2000
    # Added before every response, for the benchmark.
    latency_ms: int = 0
    # The longest a "stall" model keeps a connection open without sending anything.
    stall_max_seconds: float = 60.0
    retry_after: str = "1"
    # Anthropic and Gemini list pages are capped at this size (the real APIs allow 1000) so
    # pagination is exercised with a short list.
    max_page_size: int = 10
    include_xss_models: bool = True
    # A failure mode name ("error500", "unauthorized", "slow", ...) applied to model lists.
    list_failure: str | None = None
    require_anthropic_version: bool = True
    record_requests: bool = True
    log_limit: int = 10_000


@dataclass
class RecordedRequest:
    """One request as the fake provider saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    format: str = ""
    model: str | None = None
    status: int | None = None
    client_disconnected: bool = False
    started_at: float = 0.0
    finished_at: float | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)


@dataclass(frozen=True, slots=True)
class Behaviour:
    failure: str | None = None
    slow: bool = False
    slow_ms: int | None = None
    paced: tuple[int, float] | None = None
    xss: bool = False
    echo: bool = False


_PACED = re.compile(r"paced-(\d{1,5})x(\d{1,6})")
_SLOW_MS = re.compile(r"slow-(\d{1,7})ms")


@functools.lru_cache(maxsize=4096)
def behaviour_for(model: str) -> Behaviour:
    """What a model id asks the fake provider to do."""
    name = model.lower()
    failure = next((mode for mode in FAILURE_MODES if mode in name), None)
    slow_match = _SLOW_MS.search(name)
    paced_match = _PACED.search(name)
    return Behaviour(
        failure=failure,
        slow="slow" in name,
        slow_ms=int(slow_match.group(1)) if slow_match else None,
        paced=(int(paced_match.group(1)), int(paced_match.group(2)) / 1000) if paced_match else None,
        xss="xss" in name,
        echo="echo" in name,
    )


# =========================================================================================
# Precomputed media and text
# =========================================================================================


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes(value for x in range(width) for value in ((x * 4) & 255, (y * 4) & 255, 160))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _pcm(rate: int, seconds: float, frequency: float = 440.0) -> bytes:
    count = int(rate * seconds)
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(count))
    )


def _wav(pcm: bytes, rate: int) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm


PNG_BYTES = _png(64, 64)
PNG_B64 = base64.b64encode(PNG_BYTES).decode("ascii")
_PCM16K = _pcm(16_000, 0.25)
WAV_BYTES = _wav(_PCM16K, 16_000)
PCM24K_B64 = base64.b64encode(_pcm(24_000, 0.25)).decode("ascii")

DEFAULT_ANSWER = (
    "Hello from the fake provider. This answer arrives in small chunks, and the usage comes last."
)
XSS_ANSWER = f"Here is hostile markup: {XSS_SCRIPT} then {XSS_IMG} and {XSS_LINK} done."
# A body that claims to be JSON and is not.
MALFORMED_BODY = b'{"id": "fake-malformed", "choices": [{"message": {"content": "this JSON is cut'


def _split(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\S+\s*", text)) or ("",)


DEFAULT_PIECES = _split(DEFAULT_ANSWER)
XSS_PIECES = _split(XSS_ANSWER)


@functools.lru_cache(maxsize=256)
def _paced_pieces(count: int) -> tuple[str, ...]:
    return tuple(DEFAULT_PIECES[index % len(DEFAULT_PIECES)] for index in range(max(count, 1)))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _text_of(content: Any) -> str:
    """Text of an OpenAI/Anthropic message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _count_words(text: str) -> int:
    return len(text.split())


def _last_user_text(messages: list[Any], *, role_key: str = "role", user: str = "user") -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get(role_key) == user:
            if "parts" in message:  # Gemini
                return _text_of(message.get("parts"))
            return _text_of(message.get("content"))
    return ""


def _answer(behaviour: Behaviour, last_user: str) -> tuple[str, ...]:
    if behaviour.paced:
        return _paced_pieces(behaviour.paced[0])
    if behaviour.xss:
        return XSS_PIECES
    if behaviour.echo:
        return _split(f"You said: {last_user}")
    return DEFAULT_PIECES


# =========================================================================================
# Error bodies per wire format
# =========================================================================================

_OPENAI_ERRORS: dict[str, tuple[int, str, str, str | None, str | None]] = {
    # kind: (status, message, type, param, code)
    "missing-key": (
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API "
        "key from https://platform.openai.com/account/api-keys.",
        "invalid_request_error", None, None,
    ),
    "bad-key": (
        401,
        "Incorrect API key provided: {key}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error", None, "invalid_api_key",
    ),
    "forbidden": (
        403, "Project `proj_fake` does not have access to model `{model}`.",
        "invalid_request_error", None, "model_not_found",
    ),
    "notfound": (
        404, "The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error", None, "model_not_found",
    ),
    "badrequest": (
        400, "Invalid value for 'temperature': the fake provider refuses model `{model}`.",
        "invalid_request_error", "temperature", "invalid_value",
    ),
    "quota": (
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota", None, "insufficient_quota",
    ),
    "ratelimited": (
        429,
        "Rate limit reached for {model} in organization org-fake on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 1s.",
        "requests", "requests", "rate_limit_exceeded",
    ),
    "error500": (
        500, "The server had an error while processing your request. Sorry about that!",
        "server_error", None, None,
    ),
    "flaky": (
        503, "The engine is currently overloaded, please try again later.", "server_error", None, None,
    ),
    "timeout": (504, "The fake provider stalled and gave up.", "server_error", None, "timeout"),
    "invalid-json": (
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly.)",
        "invalid_request_error", None, None,
    ),
    "invalid": (400, "{detail}", "invalid_request_error", None, None),
    "not-route": (404, "Invalid URL ({detail})", "invalid_request_error", None, None),
}

_ANTHROPIC_ERRORS: dict[str, tuple[int, str, str]] = {
    "missing-key": (401, "authentication_error", "x-api-key header is required"),
    "bad-key": (401, "authentication_error", "invalid x-api-key (Incorrect API key provided: {key})"),
    "missing-version": (400, "invalid_request_error", "anthropic-version: header is required"),
    "forbidden": (
        403, "permission_error", "Your API key does not have permission to use the specified resource.",
    ),
    "notfound": (404, "not_found_error", "model: {model}"),
    "badrequest": (400, "invalid_request_error", "temperature: Input should be less than or equal to 1"),
    "quota": (
        400, "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
        "Billing to upgrade or purchase credits.",
    ),
    "ratelimited": (
        429, "rate_limit_error",
        "This request would exceed the rate limit for your organization of 5 requests per "
        "minute. Please reduce the prompt length or the maximum tokens requested, or try again later.",
    ),
    "error500": (500, "api_error", "Internal server error"),
    "flaky": (503, "overloaded_error", "Overloaded"),
    "timeout": (504, "timeout_error", "Request timed out"),
    "invalid-json": (400, "invalid_request_error", "There was an error parsing the body of your request."),
    "invalid": (400, "invalid_request_error", "{detail}"),
    "not-route": (404, "not_found_error", "Not found: {detail}"),
}

_GEMINI_ERRORS: dict[str, tuple[int, str, str]] = {
    "missing-key": (
        403, "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    ),
    "bad-key": (
        400, "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key. (Incorrect API key provided: {key})",
    ),
    "unauthorized": (
        401, "UNAUTHENTICATED",
        "Request had invalid authentication credentials. (Incorrect API key provided: {key})",
    ),
    "forbidden": (403, "PERMISSION_DENIED", "You do not have permission to access the model {model}."),
    "notfound": (
        404, "NOT_FOUND",
        "models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    ),
    "badrequest": (
        400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.',
    ),
    "quota": (
        429, "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    ),
    "ratelimited": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "error500": (
        500, "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    "flaky": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "timeout": (504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
    "invalid-json": (400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token."),
    "invalid": (400, "INVALID_ARGUMENT", "{detail}"),
    "not-route": (404, "NOT_FOUND", "Not found: {detail}"),
}

_HF_ERRORS: dict[str, tuple[int, str]] = {
    "missing-key": (401, "Invalid username or password."),
    "bad-key": (401, "Invalid credentials in Authorization header (Incorrect API key provided: {key})"),
    "forbidden": (
        403,
        "This authentication method does not have sufficient permissions to call Inference "
        "Providers on behalf of user fake-user",
    ),
    "notfound": (404, "Model {model} does not exist"),
    "badrequest": (400, "Input validation error: the fake provider refuses model {model}"),
    "quota": (
        402,
        "You have exceeded your monthly included credits for Inference Providers. Subscribe to "
        "PRO to get 20x more monthly included credits.",
    ),
    "ratelimited": (
        429,
        "Rate limit reached. You reached free usage limit (reset hourly). Please subscribe to a "
        "plan at https://huggingface.co/pricing to use the API at this rate",
    ),
    "error500": (500, "Internal Server Error"),
    "flaky": (503, "Model {model} is currently loading"),
    "timeout": (504, "Gateway Timeout"),
    "invalid-json": (400, "Input validation error: the body is not valid JSON"),
    "invalid": (400, "{detail}"),
    "not-route": (404, "Not Found: {detail}"),
}

# Error events sent inside a 200 stream.
_OPENAI_STREAM_ERROR = (
    b'data: {"error":{"message":"The server had an error while processing your request. Sorry '
    b'about that!","type":"server_error","param":null,"code":"server_error"}}\n\n'
)
_ANTHROPIC_STREAM_ERROR = (
    b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
)
_GEMINI_STREAM_ERROR = (
    b'data: {"error":{"code":500,"message":"An internal error has occurred. Please retry or '
    b'report in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}\r\n\r\n'
)


def error_payload(
    fmt: str, kind: str, *, key: str = "", model: str = "", detail: str = ""
) -> tuple[int, dict[str, Any]]:
    """Status and body of an error of ``kind`` in wire format ``fmt``."""
    values = {"key": key, "model": model, "detail": detail}
    if fmt == "anthropic":
        kind = "bad-key" if kind == "unauthorized" else kind
        status, error_type, message = _ANTHROPIC_ERRORS[kind]
        return status, {
            "type": "error",
            "error": {"type": error_type, "message": message.format(**values)},
            "request_id": "req_fake000000000000000000",
        }
    if fmt == "gemini":
        status, code_name, message = _GEMINI_ERRORS[kind]
        error: dict[str, Any] = {"code": status, "message": message.format(**values), "status": code_name}
        if kind == "bad-key":
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key.",
                },
            ]
        elif kind == "ratelimited":
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
            ]
        elif kind == "quota":
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                        }
                    ],
                }
            ]
        return status, {"error": error}
    if fmt == "hf":
        kind = "bad-key" if kind == "unauthorized" else kind
        status, message = _HF_ERRORS[kind]
        body: dict[str, Any] = {"error": message.format(**values)}
        if kind == "flaky":
            body["estimated_time"] = 20.0
        return status, body
    kind = "bad-key" if kind == "unauthorized" else kind
    status, message, error_type, param, code = _OPENAI_ERRORS[kind]
    return status, {
        "error": {"message": message.format(**values), "type": error_type, "param": param, "code": code}
    }


# =========================================================================================
# The ASGI plumbing
# =========================================================================================


class _ClientGone(Exception):
    pass


async def _read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


async def _wait_for_disconnect(receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


_SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]


class _Request:
    __slots__ = ("scope", "receive", "send", "body", "headers", "query", "record", "_watch")

    def __init__(self, scope, receive, send, body, headers, query, record) -> None:  # noqa: ANN001
        self.scope = scope
        self.receive = receive
        self.send = send
        self.body: bytes = body
        self.headers: dict[str, str] = headers
        self.query: str = query
        self.record: RecordedRequest = record
        self._watch: asyncio.Task[None] | None = None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        return parse_qs(self.query, keep_blank_values=True).get(name, [])

    async def respond(
        self,
        status: int,
        body: bytes,
        content_type: bytes = b"application/json",
        headers: list[tuple[bytes, bytes]] | tuple[()] = (),
    ) -> None:
        self.record.status = status
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), *headers],
            }
        )
        await self.send({"type": "http.response.body", "body": body})

    async def start_stream(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.record.status = 200
        await self.send({"type": "http.response.start", "status": 200, "headers": headers or _SSE_HEADERS})

    async def write(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    def watch(self) -> asyncio.Task[None]:
        """A task that finishes when the client disconnects (started on first use)."""
        if self._watch is None:
            self._watch = asyncio.ensure_future(_wait_for_disconnect(self.receive))
        return self._watch

    @property
    def gone(self) -> bool:
        if self._watch is not None and self._watch.done():
            self.record.client_disconnected = True
            return True
        return False

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds``, waking early when the client disconnects; False (and recorded)
        when it did."""
        done, _ = await asyncio.wait((self.watch(),), timeout=seconds)
        if done:
            self.record.client_disconnected = True
            return False
        return True

    def close(self) -> None:
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()


Handler = Callable[..., Awaitable[None]]


class FakeProviderApp:
    """The ASGI application. ``settings`` may be changed at any time (from any thread)."""

    def __init__(self, settings: FakeSettings | None = None) -> None:
        self.settings = settings or FakeSettings()
        self._log: deque[RecordedRequest] = deque(maxlen=self.settings.log_limit)
        self._log_lock = threading.Lock()
        self._flaky: dict[tuple[str, str, str], int] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._exact: dict[tuple[str, str], Handler] = {
            ("GET", "/openai/v1/models"): self.openai_models,
            ("POST", "/openai/v1/chat/completions"): self.openai_chat,
            ("POST", "/openai/v1/images/generations"): self.openai_images,
            ("POST", "/openai/v1/audio/speech"): self.openai_speech,
            ("POST", "/openai/v1/audio/transcriptions"): self.openai_transcriptions,
            ("GET", "/anthropic/v1/models"): self.anthropic_models,
            ("POST", "/anthropic/v1/messages"): self.anthropic_messages,
            ("GET", "/gemini/v1beta/models"): self.gemini_models,
            ("GET", "/hf/api/models"): self.hub_models,
            ("GET", "/hf/api/whoami-v2"): self.hub_whoami,
            ("POST", "/hf/router/v1/chat/completions"): self.hf_router_chat,
            ("GET", "/health"): self.health,
        }
        self._patterns: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"^/openai/v1/images/files/(?P<name>[\w.-]+)$"), self.openai_image_file),
            (
                "POST",
                re.compile(r"^/gemini/v1beta/models/(?P<model>[^:]+):(?P<method>generateContent|streamGenerateContent|predict)$"),
                self.gemini_call,
            ),
            ("GET", re.compile(r"^/gemini/v1beta/models/(?P<model>[^:]+)$"), self.gemini_model),
            ("POST", re.compile(r"^/hf/router/hf-inference/models/(?P<model>.+)$"), self.hf_inference),
        ]
        self._cache: dict[tuple[str, bool], Any] = {}

    # ------------------------------------------------------------------ log and state

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def reset_state(self) -> None:
        with self._log_lock:
            self._log = deque(maxlen=self.settings.log_limit)
        self._flaky.clear()

    def begin_shutdown(self) -> None:
        """Release stalled responses so the server can stop quickly."""
        self._closing = True

    def _models(self, fmt: str) -> Any:
        key = (fmt, self.settings.include_xss_models)
        cached = self._cache.get(key)
        if cached is None:
            include = self.settings.include_xss_models
            if fmt == "openai":
                cached = _dumps({"object": "list", "data": openai_models(include_xss=include)})
            elif fmt == "anthropic":
                cached = anthropic_models(include_xss=include)
            elif fmt == "gemini":
                cached = gemini_models(include_xss=include)
            else:
                cached = hub_models(include_xss=include)
            self._cache[key] = cached
        return cached

    # ------------------------------------------------------------------ ASGI entry point

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers={name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]},
            body=b"",
            started_at=time.monotonic(),
        )
        if self.settings.record_requests:
            with self._log_lock:
                self._log.append(record)
        request = _Request(scope, receive, send, b"", record.headers, record.query, record)
        try:
            request.body = record.body = await _read_body(receive)
            if self.settings.latency_ms > 0:
                await asyncio.sleep(self.settings.latency_ms / 1000)
            await self._dispatch(request)
        except _ClientGone:
            record.client_disconnected = True
        finally:
            request.close()
            record.finished_at = time.monotonic()

    async def _dispatch(self, request: _Request) -> None:
        method, path = request.record.method, request.record.path
        handler = self._exact.get((method, path))
        if handler is not None:
            await handler(request)
            return
        for pattern_method, pattern, pattern_handler in self._patterns:
            match = pattern.match(path)
            if match and pattern_method == method:
                await pattern_handler(request, **match.groupdict())
                return
        fmt = (
            "anthropic" if path.startswith("/anthropic")
            else "gemini" if path.startswith("/gemini")
            else "hf" if path.startswith("/hf/api") or path.startswith("/hf/router/hf-inference")
            else "openai"
        )
        await self._error(request, fmt, "not-route", detail=f"{method} {path}")

    # ------------------------------------------------------------------ shared steps

    async def _error(
        self, request: _Request, fmt: str, kind: str, *, key: str = "", model: str = "", detail: str = ""
    ) -> None:
        status, body = error_payload(fmt, kind, key=key, model=model, detail=detail)
        headers: list[tuple[bytes, bytes]] = []
        if kind == "ratelimited":
            headers.append((b"retry-after", self.settings.retry_after.encode("ascii")))
        await request.respond(status, _dumps(body), headers=headers)

    @staticmethod
    def _presented_key(fmt: str, headers: dict[str, str]) -> str | None:
        if fmt == "anthropic":
            return headers.get("x-api-key")
        if fmt == "gemini":
            return headers.get("x-goog-api-key")
        value = headers.get("authorization")
        if value is None:
            return None
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else value

    async def _authorize(self, request: _Request, fmt: str, *, optional: bool = False) -> bool:
        request.record.format = request.record.format or fmt
        key = self._presented_key(fmt, request.headers)
        if key is None:
            if optional:
                return True
            await self._error(request, fmt, "missing-key")
            return False
        if key != self.settings.api_key:
            await self._error(request, fmt, "bad-key", key=key)
            return False
        if fmt == "anthropic" and self.settings.require_anthropic_version and "anthropic-version" not in request.headers:
            await self._error(request, fmt, "missing-version")
            return False
        return True

    async def _json_body(self, request: _Request, fmt: str) -> dict[str, Any] | None:
        try:
            payload = json.loads(request.body)
        except ValueError:
            await self._error(request, fmt, "invalid-json")
            return None
        if not isinstance(payload, dict):
            await self._error(request, fmt, "invalid", detail="The request body must be a JSON object.")
            return None
        return payload

    async def _stall(self, request: _Request) -> bool:
        """Send nothing until the client leaves or the stall limit passes; True if it is still there."""
        deadline = time.monotonic() + self.settings.stall_max_seconds
        while not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if not await request.pause(min(0.25, remaining)):
                return False
        return False

    async def _endless(self, request: _Request, frame: bytes) -> None:
        """Repeat ``frame`` until the client leaves or the stall limit passes (then end the
        body without a terminal event)."""
        request.watch()
        deadline = time.monotonic() + self.settings.stall_max_seconds
        while not self._closing and not request.gone and time.monotonic() < deadline:
            await request.write(frame)
            await asyncio.sleep(0.001)
        if not request.gone:
            await request.end()

    async def _before_answer(
        self, request: _Request, fmt: str, behaviour: Behaviour, model: str, kind: str
    ) -> bool:
        """The slow wait and the failures that replace the answer; True when already answered."""
        if behaviour.slow:
            delay = behaviour.slow_ms if behaviour.slow_ms is not None else self.settings.slow_ms
            if delay > 0 and not await request.pause(delay / 1000):
                return True
        mode = behaviour.failure
        if mode is None:
            return False
        if mode == "flaky":
            counter = (fmt, kind, model)
            count = self._flaky[counter] = self._flaky.get(counter, 0) + 1
            if count % 2 == 0:
                return False
            await self._error(request, fmt, "flaky", model=model)
            return True
        if mode in _REPLACING_MODES:
            key = self._presented_key(fmt, request.headers) or ""
            await self._error(request, fmt, mode, model=model, key=key)
            return True
        return False

    async def _whole_body_failure(self, request: _Request, fmt: str, mode: str | None, model: str) -> bool:
        """Failure modes of a non-streamed answer; True when already answered."""
        if mode == "malformed":
            await request.respond(200, MALFORMED_BODY)
            return True
        if mode == "midstream-error":
            await self._error(request, fmt, "error500", model=model)
            return True
        if mode == "stall":
            if await self._stall(request):
                await self._error(request, fmt, "timeout", model=model)
            return True
        return False

    async def _list_failure(self, request: _Request, fmt: str) -> bool:
        mode = self.settings.list_failure
        if not mode:
            return False
        behaviour = behaviour_for(mode)
        if await self._before_answer(request, fmt, behaviour, "models", "list"):
            return True
        return await self._whole_body_failure(request, fmt, behaviour.failure, "models")

    async def _stream_frames(
        self,
        request: _Request,
        behaviour: Behaviour,
        frames: tuple[bytes, ...],
        *,
        error_frame: bytes,
        malformed_frame: bytes,
    ) -> bool:
        """Write the content frames with the stream failure modes applied; True when the
        caller should finish the stream normally."""
        mode = behaviour.failure
        interval = behaviour.paced[1] if behaviour.paced else 0.0
        count = len(frames)
        if interval:
            # Paced chunks go out on a fixed schedule (no drift from per-chunk work), and a
            # plain sleep is far cheaper than waiting on the disconnect watch every time.
            request.watch()
            loop = asyncio.get_running_loop()
            started = loop.time()
        if mode == "endless":
            await self._endless(request, frames[0])
            return False
        for index, frame in enumerate(frames):
            if mode == "midstream-error" and index == min(3, count - 1):
                await request.write(error_frame)
                await request.end()
                return False
            if mode == "stall" and index == min(2, count - 1):
                await self._stall(request)
                await request.end()
                return False
            if mode == "truncated" and index == max(count // 2, 1):
                await request.end()
                return False
            if mode == "malformed" and index == 1:
                await request.write(malformed_frame)
            if interval and index:
                delay = started + index * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if request.gone:
                    return False
            await request.write(frame)
        return True

    # ------------------------------------------------------------------ misc

    async def health(self, request: _Request) -> None:
        await request.respond(200, b'{"status":"ok"}')

    # ------------------------------------------------------------------ OpenAI-compatible

    async def openai_models(self, request: _Request) -> None:
        if not await self._authorize(request, "openai"):
            return
        if await self._list_failure(request, "openai"):
            return
        await request.respond(200, self._models("openai"))

    async def hf_router_chat(self, request: _Request) -> None:
        await self.openai_chat(request, fmt="hf-router")

    async def openai_chat(self, request: _Request, fmt: str = "openai") -> None:
        request.record.format = fmt
        if not await self._authorize(request, "openai"):
            return
        payload = await self._json_body(request, "openai")
        if payload is None:
            return
        model, messages = payload.get("model"), payload.get("messages")
        if not isinstance(model, str) or not model:
            await self._error(request, "openai", "invalid", detail="you must provide a model parameter")
            return
        request.record.model = model
        if not isinstance(messages, list) or not messages:
            await self._error(
                request, "openai", "invalid",
                detail="Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
            )
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "openai", behaviour, model, "chat"):
            return
        pieces = _answer(behaviour, _last_user_text(messages))
        finish = "stop"
        limit = payload.get("max_completion_tokens") or payload.get("max_tokens")
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        prompt_tokens = sum(
            _count_words(_text_of(message.get("content"))) for message in messages if isinstance(message, dict)
        ) or 1
        if not payload.get("stream"):
            if await self._whole_body_failure(request, "openai", behaviour.failure, model):
                return
            if behaviour.failure == "truncated":
                pieces, finish = pieces[: max(len(pieces) // 2, 1)], "length"
            await request.respond(200, _openai_completion(model, pieces, finish, prompt_tokens, next(self._ids)))
            return
        include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
        role_frame, frames, model_json = _openai_frames(model, pieces, include_usage)
        await request.start_stream()
        if fmt == "openai":
            await request.write(b": OPENROUTER PROCESSING\n\n")
        await request.write(role_frame)
        finished = await self._stream_frames(
            request, behaviour, frames,
            error_frame=_OPENAI_STREAM_ERROR,
            malformed_frame=b'data: {"id":"chatcmpl-fake","choices":[{"delta":{"content":"cut\n\n',
        )
        if not finished:
            return
        usage_null = b',"usage":null' if include_usage else b""
        await request.write(
            _OPENAI_FRAME_HEAD + model_json + _OPENAI_FRAME_MID + b"{}"
            + b',"logprobs":null,"finish_reason":"' + finish.encode() + b'"}]' + usage_null + b"}\n\n"
        )
        if include_usage:
            usage = _dumps(_openai_usage(prompt_tokens, len(pieces)))
            await request.write(
                _OPENAI_FRAME_HEAD + model_json + b',"system_fingerprint":"fp_fake","choices":[],"usage":'
                + usage + b"}\n\n"
            )
        await request.write(b"data: [DONE]\n\n")
        await request.end()

    async def openai_images(self, request: _Request) -> None:
        request.record.format = "openai"
        if not await self._authorize(request, "openai"):
            return
        payload = await self._json_body(request, "openai")
        if payload is None:
            return
        model = payload.get("model") or "dall-e-2"
        request.record.model = model
        prompt = payload.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            await self._error(
                request, "openai", "invalid",
                detail="Invalid 'prompt': empty string. Expected a string with minimum length 1, "
                "but got an empty string instead.",
            )
            return
        count = payload.get("n", 1)
        if not isinstance(count, int) or not 1 <= count <= 10:
            await self._error(request, "openai", "invalid", detail=f"Invalid 'n': {count!r}. Expected 1 to 10.")
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "openai", behaviour, model, "image"):
            return
        if await self._whole_body_failure(request, "openai", behaviour.failure, model):
            return
        gpt_image = "gpt-image" in model
        response_format = payload.get("response_format")
        url_mode = not gpt_image and (response_format == "url" or response_format is None)
        revised = XSS_TEXT if behaviour.xss else f"A detailed rendering of: {prompt}"
        items: list[dict[str, Any]] = []
        for _ in range(count):
            if url_mode:
                host = request.headers.get("host", "127.0.0.1")
                item: dict[str, Any] = {
                    "url": f"http://{host}/openai/v1/images/files/img-{next(self._ids)}.png?st=fake&sig=fake"
                }
            else:
                item = {"b64_json": PNG_B64}
            if model.startswith("dall-e-3") or behaviour.xss:
                item["revised_prompt"] = revised
            items.append(item)
        body: dict[str, Any] = {"created": int(time.time()), "data": items}
        if gpt_image:
            body.update(
                {
                    "background": "opaque",
                    "output_format": "png",
                    "quality": payload.get("quality") or "medium",
                    "size": payload.get("size") or "1024x1024",
                    "usage": {
                        "input_tokens": _count_words(prompt),
                        "input_tokens_details": {"image_tokens": 0, "text_tokens": _count_words(prompt)},
                        "output_tokens": 272 * count,
                        "total_tokens": _count_words(prompt) + 272 * count,
                    },
                }
            )
        encoded = _dumps(body)
        if behaviour.failure == "truncated":
            encoded = encoded[: len(encoded) // 2]
        await request.respond(200, encoded)

    async def openai_image_file(self, request: _Request, name: str) -> None:
        request.record.format = "openai"
        await request.respond(200, PNG_BYTES, content_type=b"image/png")

    _SPEECH_TYPES = {
        "mp3": b"audio/mpeg",
        "opus": b"audio/opus",
        "aac": b"audio/aac",
        "flac": b"audio/flac",
        "wav": b"audio/wav",
        "pcm": b"audio/pcm",
    }

    async def openai_speech(self, request: _Request) -> None:
        request.record.format = "openai"
        if not await self._authorize(request, "openai"):
            return
        payload = await self._json_body(request, "openai")
        if payload is None:
            return
        model, text, voice = payload.get("model"), payload.get("input"), payload.get("voice")
        if not isinstance(model, str) or not model:
            await self._error(request, "openai", "invalid", detail="Missing required parameter: 'model'.")
            return
        request.record.model = model
        if not isinstance(text, str) or not text:
            await self._error(request, "openai", "invalid", detail="Missing required parameter: 'input'.")
            return
        if len(text) > 4096:
            await self._error(
                request, "openai", "invalid",
                detail="Invalid 'input': string too long. Expected a string with maximum length 4096.",
            )
            return
        if not voice:
            await self._error(request, "openai", "invalid", detail="Missing required parameter: 'voice'.")
            return
        audio_format = payload.get("response_format") or "mp3"
        content_type = self._SPEECH_TYPES.get(audio_format)
        if content_type is None:
            await self._error(
                request, "openai", "invalid",
                detail=f"Invalid value: '{audio_format}'. Supported values are: 'mp3', 'opus', "
                "'aac', 'flac', 'wav', and 'pcm'.",
            )
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "openai", behaviour, model, "speech"):
            return
        if await self._whole_body_failure(request, "openai", behaviour.failure, model):
            return
        # The bytes are always a WAV stand-in (raw PCM for "pcm"); the content type is the real one.
        data = _PCM16K if audio_format == "pcm" else WAV_BYTES
        if behaviour.failure == "truncated":
            data = data[: len(data) // 2]
        await request.respond(200, data, content_type=content_type)

    async def openai_transcriptions(self, request: _Request) -> None:
        request.record.format = "openai"
        if not await self._authorize(request, "openai"):
            return
        form = _parse_multipart(request.body, request.headers.get("content-type", ""))
        if form is None:
            await self._error(
                request, "openai", "invalid",
                detail="Invalid Content-Type header (expected multipart/form-data).",
            )
            return
        model = form.get("model", (None, None, b""))[2].decode("utf-8", "replace")
        if not model:
            await self._error(request, "openai", "invalid", detail="Missing required parameter: 'model'.")
            return
        request.record.model = model
        upload = form.get("file")
        if upload is None or upload[0] is None:
            await self._error(request, "openai", "invalid", detail="Missing required parameter: 'file'.")
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "openai", behaviour, model, "transcription"):
            return
        if await self._whole_body_failure(request, "openai", behaviour.failure, model):
            return
        filename, _, data = upload
        text = f"Fake transcript of a {len(data)}-byte upload named {filename}."
        if behaviour.xss:
            text = f"{text} {XSS_TEXT}"
        response_format = form.get("response_format", (None, None, b"json"))[2].decode() or "json"
        if response_format in ("text", "srt", "vtt"):
            await request.respond(200, text.encode(), content_type=b"text/plain; charset=utf-8")
            return
        body: dict[str, Any] = {"text": text}
        if response_format == "verbose_json":
            body = {"task": "transcribe", "language": "english", "duration": 0.25, "text": text, "segments": []}
        else:
            body["usage"] = {"type": "duration", "seconds": 1}
        await request.respond(200, _dumps(body))

    # ------------------------------------------------------------------ Anthropic

    async def anthropic_models(self, request: _Request) -> None:
        if not await self._authorize(request, "anthropic"):
            return
        if await self._list_failure(request, "anthropic"):
            return
        models = self._models("anthropic")
        try:
            limit = int(request.param("limit", "20") or "20")
        except ValueError:
            limit = -1
        if not 1 <= limit <= 1000:
            await self._error(request, "anthropic", "invalid", detail="limit: Input should be between 1 and 1000")
            return
        size = min(limit, self.settings.max_page_size)
        ids = [model["id"] for model in models]
        after_id, before_id = request.param("after_id"), request.param("before_id")
        if after_id is not None:
            if after_id not in ids:
                await self._error(request, "anthropic", "invalid", detail=f"after_id: unknown id {after_id}")
                return
            start = ids.index(after_id) + 1
            page = models[start : start + size]
            has_more = start + size < len(models)
        elif before_id is not None:
            if before_id not in ids:
                await self._error(request, "anthropic", "invalid", detail=f"before_id: unknown id {before_id}")
                return
            end = ids.index(before_id)
            page = models[max(0, end - size) : end]
            has_more = end - size > 0
        else:
            page = models[:size]
            has_more = size < len(models)
        body = {
            "data": page,
            "has_more": has_more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }
        await request.respond(200, _dumps(body))

    async def anthropic_messages(self, request: _Request) -> None:
        request.record.format = "anthropic"
        if not await self._authorize(request, "anthropic"):
            return
        payload = await self._json_body(request, "anthropic")
        if payload is None:
            return
        model, messages, max_tokens = payload.get("model"), payload.get("messages"), payload.get("max_tokens")
        if not isinstance(model, str) or not model:
            await self._error(request, "anthropic", "invalid", detail="model: Field required")
            return
        request.record.model = model
        if not isinstance(max_tokens, int) or max_tokens < 1:
            await self._error(request, "anthropic", "invalid", detail="max_tokens: Field required")
            return
        if not isinstance(messages, list) or not messages:
            await self._error(request, "anthropic", "invalid", detail="messages: Field required")
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "anthropic", behaviour, model, "chat"):
            return
        pieces = _answer(behaviour, _last_user_text(messages))
        stop_reason = "end_turn"
        if max_tokens < len(pieces):
            pieces, stop_reason = pieces[:max_tokens], "max_tokens"
        system = payload.get("system")
        input_tokens = (
            sum(_count_words(_text_of(m.get("content"))) for m in messages if isinstance(m, dict))
            + _count_words(_text_of(system))
        ) or 1
        message_id = f"msg_fake{next(self._ids):016d}"
        if not payload.get("stream"):
            if await self._whole_body_failure(request, "anthropic", behaviour.failure, model):
                return
            if behaviour.failure == "truncated":
                pieces, stop_reason = pieces[: max(len(pieces) // 2, 1)], "max_tokens"
            body = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "".join(pieces)}],
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": len(pieces),
                    "service_tier": "standard",
                },
            }
            await request.respond(200, _dumps(body))
            return
        start = {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 1,
                    "service_tier": "standard",
                },
            },
        }
        await request.start_stream()
        await request.write(b"event: message_start\ndata: " + _dumps(start) + b"\n\n")
        await request.write(
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            b'"content_block":{"type":"text","text":""}}\n\n'
        )
        await request.write(b'event: ping\ndata: {"type": "ping"}\n\n')
        finished = await self._stream_frames(
            request, behaviour, _anthropic_frames(pieces),
            error_frame=_ANTHROPIC_STREAM_ERROR,
            malformed_frame=(
                b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
                b'"delta":{"type":"text_delta","text":"cut\n\n'
            ),
        )
        if not finished:
            return
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": len(pieces)},
        }
        await request.write(b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n')
        await request.write(b"event: message_delta\ndata: " + _dumps(delta) + b"\n\n")
        await request.write(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        await request.end()

    # ------------------------------------------------------------------ Gemini

    async def gemini_models(self, request: _Request) -> None:
        if not await self._authorize(request, "gemini"):
            return
        if await self._list_failure(request, "gemini"):
            return
        models = self._models("gemini")
        try:
            size = int(request.param("pageSize", "50") or "50")
        except ValueError:
            size = 50
        size = max(1, min(size, self.settings.max_page_size))
        token = request.param("pageToken")
        offset = 0
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
            except (ValueError, UnicodeDecodeError):
                await self._error(request, "gemini", "invalid", detail="Invalid page token.")
                return
        page = models[offset : offset + size]
        body: dict[str, Any] = {"models": page}
        if offset + size < len(models):
            body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{offset + size}".encode()).decode()
        await request.respond(200, _dumps(body))

    async def gemini_model(self, request: _Request, model: str) -> None:
        if not await self._authorize(request, "gemini"):
            return
        for entry in self._models("gemini"):
            if entry["name"] == f"models/{model}":
                await request.respond(200, _dumps(entry))
                return
        await self._error(request, "gemini", "notfound", model=model)

    async def gemini_call(self, request: _Request, model: str, method: str) -> None:
        request.record.format = "gemini"
        request.record.model = model
        if not await self._authorize(request, "gemini"):
            return
        payload = await self._json_body(request, "gemini")
        if payload is None:
            return
        if method == "predict":
            await self._gemini_predict(request, model, payload)
            return
        contents = payload.get("contents")
        if not isinstance(contents, list) or not contents:
            await self._error(
                request, "gemini", "invalid", detail="* GenerateContentRequest.contents: contents is not specified\n"
            )
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "gemini", behaviour, model, "chat"):
            return
        prompt_tokens = (
            sum(_count_words(_text_of(c.get("parts"))) for c in contents if isinstance(c, dict))
            + _count_words(_text_of((payload.get("systemInstruction") or {}).get("parts")))
        ) or 1
        config = payload.get("generationConfig") or {}
        pieces = _answer(behaviour, _last_user_text(contents))
        finish = "STOP"
        limit = config.get("maxOutputTokens")
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, finish = pieces[:limit], "MAX_TOKENS"
        stream = method == "streamGenerateContent"
        if not stream and await self._whole_body_failure(request, "gemini", behaviour.failure, model):
            return
        if not stream and behaviour.failure == "truncated":
            pieces, finish = pieces[: max(len(pieces) // 2, 1)], "MAX_TOKENS"
        media_parts = _gemini_media_parts(model, config)
        if media_parts is not None:
            # TTS and image-output models answer in one piece, streamed or not.
            body = _gemini_response(model, media_parts, "STOP", prompt_tokens, len(media_parts) * 258)
            if stream and request.param("alt") == "sse":
                await request.start_stream()
                await request.write(b"data: " + _dumps(body) + b"\r\n\r\n")
                await request.end()
            else:
                await request.respond(200, _dumps([body] if stream else body))
            return
        if not stream:
            body = _gemini_response(model, [{"text": "".join(pieces)}], finish, prompt_tokens, len(pieces))
            await request.respond(200, _dumps(body))
            return
        frames = _gemini_frames(model, pieces, finish, prompt_tokens)
        if request.param("alt") != "sse":
            # Without alt=sse the API streams one JSON array.
            await request.start_stream([(b"content-type", b"application/json; charset=UTF-8")])
            await request.write(b"[" + b",\r\n".join(frame[6:-4] for frame in frames) + b"]")
            await request.end()
            return
        await request.start_stream()
        finished = await self._stream_frames(
            request, behaviour, frames,
            error_frame=_GEMINI_STREAM_ERROR,
            malformed_frame=b'data: {"candidates":[{"content":{"parts":[{"text":"cut\r\n\r\n',
        )
        if finished:
            await request.end()

    async def _gemini_predict(self, request: _Request, model: str, payload: dict[str, Any]) -> None:
        instances = payload.get("instances")
        if (
            not isinstance(instances, list)
            or not instances
            or not isinstance(instances[0], dict)
            or not str(instances[0].get("prompt") or "").strip()
        ):
            await self._error(request, "gemini", "invalid", detail="instances[0].prompt is required.")
            return
        behaviour = behaviour_for(model)
        if await self._before_answer(request, "gemini", behaviour, model, "image"):
            return
        if await self._whole_body_failure(request, "gemini", behaviour.failure, model):
            return
        parameters = payload.get("parameters") or {}
        count = parameters.get("sampleCount", 1)
        count = count if isinstance(count, int) and 1 <= count <= 4 else 1
        body = _dumps({"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": PNG_B64}] * count})
        if behaviour.failure == "truncated":
            body = body[: len(body) // 2]
        await request.respond(200, body)

    # ------------------------------------------------------------------ Hugging Face

    async def hub_models(self, request: _Request) -> None:
        request.record.format = "hf"
        if not await self._authorize(request, "hf", optional=True):
            return
        if await self._list_failure(request, "hf"):
            return
        rows: list[dict[str, Any]] = self._models("hf")
        pipeline_tag = request.param("pipeline_tag")
        if pipeline_tag:
            rows = [row for row in rows if row["pipeline_tag"] == pipeline_tag]
        for tag in request.params("filter"):
            rows = [row for row in rows if tag in row["tags"] or row["pipeline_tag"] == tag]
        provider = request.param("inference_provider")
        if provider:
            wanted = None if provider == "all" else set(provider.split(","))
            rows = [
                row for row in rows
                if any(
                    mapping["status"] == "live" and (wanted is None or mapping["provider"] in wanted)
                    for mapping in row["inferenceProviderMapping"]
                )
            ]
        search = (request.param("search") or "").lower()
        if search:
            rows = [row for row in rows if search in row["id"].lower()]
        sort = request.param("sort")
        sort_key = {"lastModified": "createdAt", "trending_score": "trendingScore"}.get(sort or "", sort)
        if sort_key in ("likes", "downloads", "trendingScore", "createdAt"):
            rows = sorted(rows, key=lambda row: row[sort_key], reverse=True)
        try:
            limit = int(request.param("limit") or 1000)
        except ValueError:
            limit = 1000
        rows = rows[: max(0, min(limit, 1000))]
        expand = request.params("expand") + request.params("expand[]")
        keys = ("_id", "id", *expand) if expand else HUB_DEFAULT_FIELDS
        body = _dumps([{key: row[key] for key in keys if key in row} for row in rows])
        await request.respond(200, body)

    async def hub_whoami(self, request: _Request) -> None:
        request.record.format = "hf"
        if not await self._authorize(request, "hf"):
            return
        await request.respond(200, _dumps(WHOAMI))

    def _hub_task(self, model: str) -> str:
        for row in self._models("hf"):
            if row["id"] == model:
                return row["pipeline_tag"]
        name = model.lower()
        if any(word in name for word in ("tts", "speech", "kokoro", "bark")):
            return "text-to-speech"
        if any(word in name for word in ("whisper", "asr", "wav2vec")):
            return "automatic-speech-recognition"
        return "text-to-image"

    async def hf_inference(self, request: _Request, model: str) -> None:
        request.record.format = "hf"
        request.record.model = model
        if not await self._authorize(request, "hf"):
            return
        content_type = request.headers.get("content-type", "")
        task = self._hub_task(model)
        behaviour = behaviour_for(model)
        if content_type.startswith("audio/") or content_type.startswith("application/octet-stream"):
            audio: bytes | None = request.body
            task = "automatic-speech-recognition"
        else:
            payload = await self._json_body(request, "hf")
            if payload is None:
                return
            inputs = payload.get("inputs")
            if not isinstance(inputs, str) or not inputs.strip():
                await self._error(request, "hf", "invalid", detail="Input validation error: `inputs` must be a non-empty string")
                return
            audio = base64.b64decode(inputs, validate=False) if task == "automatic-speech-recognition" else None
        if await self._before_answer(request, "hf", behaviour, model, task):
            return
        if await self._whole_body_failure(request, "hf", behaviour.failure, model):
            return
        if task == "automatic-speech-recognition":
            if not audio:
                await self._error(request, "hf", "invalid", detail="Input validation error: the audio body is empty")
                return
            text = f"Fake transcript of a {len(audio)}-byte audio upload."
            if behaviour.xss:
                text = f"{text} {XSS_TEXT}"
            await request.respond(200, _dumps({"text": text}))
            return
        if task == "text-to-speech":
            data, kind = WAV_BYTES, b"audio/wav"
        else:
            data, kind = PNG_BYTES, b"image/png"
        if behaviour.failure == "truncated":
            data = data[: len(data) // 2]
        await request.respond(200, data, content_type=kind)


# =========================================================================================
# Frame builders (cached: the same model and answer give the same bytes)
# =========================================================================================

_OPENAI_FRAME_HEAD = b'data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":'
_OPENAI_FRAME_MID = b',"system_fingerprint":"fp_fake","choices":[{"index":0,"delta":'


def _openai_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@functools.lru_cache(maxsize=2048)
def _openai_frames(model: str, pieces: tuple[str, ...], include_usage: bool) -> tuple[bytes, tuple[bytes, ...], bytes]:
    model_json = _dumps(model)
    head = _OPENAI_FRAME_HEAD + model_json + _OPENAI_FRAME_MID
    tail = b',"logprobs":null,"finish_reason":null}]' + (b',"usage":null' if include_usage else b"") + b"}\n\n"
    role = head + b'{"role":"assistant","content":"","refusal":null}' + tail
    frames = tuple(head + b'{"content":' + _dumps(piece) + b"}" + tail for piece in pieces)
    return role, frames, model_json


def _openai_completion(model: str, pieces: tuple[str, ...], finish: str, prompt_tokens: int, number: int) -> bytes:
    return _dumps(
        {
            "id": f"chatcmpl-fake{number:012d}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "".join(pieces),
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": _openai_usage(prompt_tokens, len(pieces)),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }
    )


@functools.lru_cache(maxsize=2048)
def _anthropic_frames(pieces: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":' + _dumps(piece) + b"}}\n\n"
        for piece in pieces
    )


@functools.lru_cache(maxsize=2048)
def _gemini_piece_frames(model: str, pieces: tuple[str, ...], finish: str) -> tuple[tuple[bytes, bytes], ...]:
    """(before usage, after usage) halves of each frame; the usage numbers go in between."""
    model_json = _dumps(model)
    after = b',"modelVersion":' + model_json + b',"responseId":"fake-response"}\r\n\r\n'
    halves = []
    for index, piece in enumerate(pieces):
        finish_part = b',"finishReason":"' + finish.encode() + b'"' if index == len(pieces) - 1 else b""
        before = (
            b'data: {"candidates":[{"content":{"parts":[{"text":' + _dumps(piece)
            + b'}],"role":"model"}' + finish_part + b',"index":0}],"usageMetadata":'
        )
        halves.append((before, after))
    return tuple(halves)


def _gemini_frames(model: str, pieces: tuple[str, ...], finish: str, prompt_tokens: int) -> tuple[bytes, ...]:
    # usageMetadata is cumulative: every frame reports the tokens so far.
    return tuple(
        before
        + b'{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d,'
        b'"promptTokensDetails":[{"modality":"TEXT","tokenCount":%d}]}'
        % (prompt_tokens, index + 1, prompt_tokens + index + 1, prompt_tokens)
        + after
        for index, (before, after) in enumerate(_gemini_piece_frames(model, pieces, finish))
    )


def _gemini_response(
    model: str, parts: list[dict[str, Any]], finish: str, prompt_tokens: int, output_tokens: int
) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        },
        "modelVersion": model,
        "responseId": "fake-response",
    }


def _gemini_media_parts(model: str, config: dict[str, Any]) -> list[dict[str, Any]] | None:
    name = model.lower()
    modalities = [str(m).upper() for m in config.get("responseModalities") or ()]
    if "tts" in name or modalities == ["AUDIO"]:
        return [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": PCM24K_B64}}]
    if ("image" in name and not name.startswith("imagen")) or "IMAGE" in modalities:
        return [
            {"text": "Here is the image you asked for."},
            {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
        ]
    return None


# =========================================================================================
# Multipart (transcription uploads)
# =========================================================================================

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, str | None, bytes]] | None:
    """``{field: (filename, content type, data)}`` of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    match = _BOUNDARY.search(content_type)
    if not match:
        return None
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields_: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        head, separator, data = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = part_type = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            header, _, value = line.partition(":")
            if header.strip().lower() == "content-disposition":
                params = dict(_DISPOSITION_PARAM.findall(value))
                name, filename = params.get("name"), params.get("filename")
            elif header.strip().lower() == "content-type":
                part_type = value.strip()
        if name is not None:
            fields_[name] = (filename, part_type, data)
    return fields_


__all__ = [
    "DEFAULT_API_KEY",
    "FAILURE_MODES",
    "LISTED_FAILURE_MODES",
    "PNG_BYTES",
    "WAV_BYTES",
    "XSS_PAYLOADS",
    "Behaviour",
    "FakeProviderApp",
    "FakeSettings",
    "RecordedRequest",
    "behaviour_for",
    "error_payload",
]
