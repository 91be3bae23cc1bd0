from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aiadmin.adapters import errors
from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import ChatChunk, ChatRequest, ModelInfo, Usage
from aiadmin.providers.models import AIModel


class ScriptedAdapter(BaseAdapter):
    """A test adapter driven by its provider config: ``{"script": {...}}``.

    It behaves like a real one (key required, base URL checked) without any HTTP, so service
    tests can drive every path; the fake HTTP provider covers the wire formats.
    """

    key = "scripted"
    label = "Scripted (tests)"
    capabilities = frozenset({"chat", "content", "image", "audio"})
    calls: list[str] = []
    lists_fail = False  # flips an already cached provider into failing, config unchanged

    def _script(self) -> dict:
        return self.config.get("script", {})

    async def list_models(self) -> list[ModelInfo]:
        ScriptedAdapter.calls.append("list_models")
        await asyncio.sleep(self._script().get("list_delay", 0))
        if self._script().get("list_fails") or ScriptedAdapter.lists_fail:
            raise errors.ProviderConnectionError(provider=self.provider_name)
        return [
            ModelInfo(id=model_id, name=model_id.title(), capabilities=frozenset({"chat", "content"}), is_free=model_id.endswith(":free"))
            for model_id in self._script().get("models", ["alpha", "beta", "gamma:free"])
        ]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        ScriptedAdapter.calls.append(f"chat:{request.model}:{self.api_key}")
        script = self._script()
        if script.get("raise"):
            kind = getattr(errors, script["raise"])
            # Like a careless provider, echo the key back in the error text.
            raise kind(errors.redact(f"upstream said: bad key {self.api_key}", self.api_key), provider=self.provider_name)
        for word in script.get("words", ["Hello", " world"]):
            await asyncio.sleep(script.get("delay", 0))
            yield ChatChunk(word)
        yield Usage(input_tokens=10, output_tokens=20)


@pytest.fixture
def scripted_adapter():
    registry.register(ScriptedAdapter, replace=True)
    ScriptedAdapter.calls = []
    ScriptedAdapter.lists_fail = False
    yield ScriptedAdapter
    registry.unregister("scripted")


@pytest.fixture
def scripted_provider(make_provider, scripted_adapter):
    def make(*, model: str | None = "alpha", script: dict | None = None, **overrides):
        overrides.setdefault("api_base_url", "https://api.scripted.example/v1")
        provider = make_provider(
            adapter="scripted",
            capabilities={c: {"supported": True, "dynamic_models": True} for c in ("chat", "content", "image", "audio")},
            config={"script": script or {}},
            **overrides,
        )
        if model:
            AIModel.objects.create(
                provider=provider, capability="chat", model_id=model, is_active=True, pricing_input=2, pricing_output=8
            )
        return provider

    return make
