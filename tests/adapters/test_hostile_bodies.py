"""Hostile upstream bodies: every adapter path (call, stream, model list, error body) turns a
malformed body into MalformedResponseError (or the status's error) with a clear message,
never a RecursionError, a UnicodeEncodeError later on, or a NaN in a result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiadmin.adapters.anthropic import AnthropicAdapter
from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.errors import BadRequestError, MalformedResponseError
from aiadmin.adapters.gemini import GeminiAdapter
from aiadmin.adapters.huggingface import HuggingFaceAdapter
from aiadmin.adapters.openai import OpenAIAdapter
from aiadmin.adapters.types import ChatMessage, ChatRequest

CATALOGUE = Path(__file__).resolve().parents[2] / "aiadmin/providers/catalogue/providers.json"

# Each a body an upstream could send where a JSON object is expected. (Invalid UTF-8 and
# integers past Python's 4300 digits were refused before; tests/adapters/test_safejson.py.)
SPELLINGS: dict[str, bytes] = {
    "deep_array": b"[" * 100_000,
    "deep_object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "lone_surrogate": b'{"id": "x", "choices": [{"delta": {"content": "\\ud800"}}], "data": [{"id": "\\ud800"}]}',
    "null_character": b'{"id": "a\\u0000b", "data": [{"id": "a\\u0000b"}]}',
    "nan": b'{"id": "x", "data": [], "usage": {"prompt_tokens": NaN}}',
    "infinity": b'{"id": "x", "data": [], "usage": {"prompt_tokens": Infinity}}',
    "float_overflow": b'{"id": "x", "data": [], "usage": {"prompt_tokens": 1e999}}',
    "long_integer": b'{"id": "x", "data": [], "usage": {"prompt_tokens": ' + b"9" * 200 + b"}}",
}


def _catalogue_config(slug: str) -> dict[str, Any]:
    providers = json.loads(CATALOGUE.read_text())["providers"]
    return next(p for p in providers if p["slug"] == slug)["config"]


def _adapter(kind: str) -> BaseAdapter:
    if kind == "openai":
        return OpenAIAdapter(base_url="https://api.openai.com/v1", api_key="sk-test-0123456789", config={}, provider_name="OpenAI")
    if kind == "anthropic":
        return AnthropicAdapter(
            base_url="https://api.anthropic.com", api_key="sk-ant-test", config=_catalogue_config("anthropic"), provider_name="Anthropic"
        )
    if kind == "gemini":
        return GeminiAdapter(
            base_url="https://generativelanguage.googleapis.com/v1beta",
            api_key="AIza-test",
            config=_catalogue_config("gemini"),
            provider_name="Gemini",
        )
    return HuggingFaceAdapter(
        base_url="https://router.huggingface.co/v1", api_key="hf_test0123456789", config=_catalogue_config("huggingface"),
        provider_name="Hugging Face",
    )


ADAPTERS = ("openai", "anthropic", "gemini", "huggingface")


@pytest.fixture
def upstream(mock_upstream) -> dict[str, Any]:
    """Answers every request with ``state["status"]`` and ``state["body"]`` (SSE-framed for a
    stream request when ``state["sse"]``)."""
    state: dict[str, Any] = {"status": 200, "body": b"", "sse": False}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["sse"]:
            return httpx.Response(200, content=b"data: " + state["body"] + b"\n\n", headers={"content-type": "text/event-stream"})
        return httpx.Response(state["status"], content=state["body"], headers={"content-type": "application/json"})

    mock_upstream(handler)
    return state


def _request() -> ChatRequest:
    return ChatRequest(model="some-model", messages=(ChatMessage("user", "Hi"),))


async def _drain(adapter: BaseAdapter) -> None:
    async for _ in adapter.stream_chat(_request()):
        pass


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_hostile_answer_to_a_call_is_a_malformed_response(upstream, kind, spelling):
    upstream["body"] = SPELLINGS[spelling]
    with pytest.raises(MalformedResponseError) as caught:
        await _adapter(kind).chat(_request())
    assert "JSON" in str(caught.value)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_hostile_model_list_is_a_malformed_response(upstream, kind, spelling):
    upstream["body"] = SPELLINGS[spelling]
    with pytest.raises(MalformedResponseError) as caught:
        await _adapter(kind).list_models()
    assert "JSON" in str(caught.value)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_hostile_stream_event_is_a_malformed_response(upstream, kind, spelling):
    upstream["body"], upstream["sse"] = SPELLINGS[spelling], True
    with pytest.raises(MalformedResponseError) as caught:
        await _drain(_adapter(kind))
    assert "JSON" in str(caught.value)


@pytest.mark.parametrize("spelling", ["deep_array", "deep_object"])
@pytest.mark.parametrize("kind", ADAPTERS)
async def test_a_deeply_nested_error_body_keeps_the_status_error(upstream, kind, spelling):
    upstream["status"], upstream["body"] = 400, SPELLINGS[spelling]
    with pytest.raises(BadRequestError) as caught:
        await _adapter(kind).chat(_request())
    assert len(str(caught.value)) < 500  # the body's text is cut, not echoed whole


async def test_token_counts_past_what_the_ledger_holds_are_unknown_not_stored(upstream):
    upstream["body"] = json.dumps(
        {
            "id": "x",
            "model": "some-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10**15, "completion_tokens": 1e300},
        }
    ).encode()
    result = await _adapter("openai").chat(_request())
    assert result.text == "Hi"
    # Neither fits the ledger's integer columns: stored they would fail the row's INSERT.
    assert result.usage.input_tokens is None and result.usage.output_tokens is None


@pytest.mark.parametrize("kind", ADAPTERS)
async def test_control_characters_in_an_error_body_never_reach_the_message(upstream, kind):
    upstream["status"], upstream["body"] = 400, b"bad\x00 input\x07 here"  # a plain-text error page
    with pytest.raises(BadRequestError) as caught:
        await _adapter(kind).chat(_request())
    assert "\x00" not in str(caught.value) and "\x07" not in str(caught.value)
    assert "bad input here" in str(caught.value)


async def test_hostile_prices_in_a_model_list_are_unknown_not_a_crash(upstream):
    upstream["body"] = json.dumps(
        {
            "data": [
                {"id": "nan-model", "name": "NaN", "pricing": {"prompt": "NaN", "completion": "sNaN"}},
                {"id": "huge-model", "name": "Huge", "pricing": {"prompt": "1e999999", "completion": "Infinity"}},
            ]
        }
    ).encode()
    models = {model.id: model for model in await _adapter("openai").list_models()}
    assert set(models) == {"nan-model", "huge-model"}
    assert all(model.pricing_input is None and model.pricing_output is None for model in models.values())


async def test_a_context_window_past_what_the_column_holds_is_unknown(upstream):
    upstream["body"] = json.dumps({"data": [{"id": "big", "context_length": 10**20}, {"id": "float", "context_length": 1e300}]}).encode()
    models = await _adapter("openai").list_models()
    assert [model.context_window for model in models] == [None, None]
