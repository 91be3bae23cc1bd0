"""The Anthropic adapter: the Messages API and the Models API (no Django here).

Wire format as documented in Anthropic's API reference (Messages, Streaming Messages, Models
list, Errors) and as modelled by the official ``anthropic-sdk-python`` (``types/message.py``,
``types/usage.py``, ``types/message_delta_usage.py``, ``types/model_info.py``,
``types/model_list_params.py``, ``pagination.py``):

* Auth is the ``x-api-key`` header plus ``anthropic-version``; the base URL is the host
  (``https://api.anthropic.com``) and paths start with ``/v1``.
* ``GET /v1/models`` pages with ``limit`` (1..1000), ``after_id`` and the response's
  ``has_more`` / ``last_id``.
* ``POST /v1/messages`` takes the system prompt as a top-level ``system`` field (there is no
  ``system`` role) and requires ``max_tokens``.
* A streamed answer is event-typed SSE: ``message_start`` (input tokens), content blocks
  (``content_block_start`` / ``content_block_delta`` / ``content_block_stop``), one or more
  ``message_delta`` (cumulative usage, stop reason), ``message_stop``; ``ping`` keep-alives
  and ``error`` events (``overloaded_error`` is HTTP 529 in a non-streamed call) can appear
  anywhere.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from . import shared_client
from .auth import auth_headers_and_params
from .base import BaseAdapter
from .bodies import json_object
from .capabilities import apply_capability_rules
from .errors import AIAdminError, BadRequestError, MalformedResponseError
from .retries import send_with_retries
from .sse import StreamEndedEarly, aiter_sse, event_payload, event_stream_headers
from .types import (
    ChatChunk,
    ChatFinish,
    ChatMessage,
    ChatRequest,
    ChatResult,
    KeyValidation,
    ModelInfo,
    Usage,
)

DEFAULT_API_VERSION = "2023-06-01"
DEFAULT_AUTH: Mapping[str, str] = {"style": "header", "header": "x-api-key"}
DEFAULT_MODELS_PATH = "/v1/models"
MESSAGES_PATH = "/v1/messages"
# Anthropic requires max_tokens on every call; used when neither the request nor the
# provider's default_params set it.
DEFAULT_MAX_TOKENS = 1024
# The Models API allows 1..1000 per page.
MODELS_PAGE_LIMIT = 1000
# A guard against a server that keeps saying has_more: 20 x 1000 models is far beyond reality.
MAX_MODEL_PAGES = 20
# Anthropic's temperature range; other providers allow up to 2, and the playground may send it.
MAX_TEMPERATURE = 1.0

TEXT_CAPABILITIES = frozenset({"chat", "content"})


@dataclass(slots=True)
class _StreamState:
    """What a streamed answer has told us so far."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    finished: bool = False
    stop_reason: str | None = None

    def usage(self) -> Usage:
        return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)


class AnthropicAdapter(BaseAdapter):
    """Claude models through Anthropic's Messages API."""

    key: ClassVar[str] = "anthropic"
    label: ClassVar[str] = "Anthropic"
    description: ClassVar[str] = (
        "Anthropic's Messages API (Claude): streamed chat with event-typed SSE, model list "
        "from the Models API. Authenticates with the x-api-key header."
    )
    capabilities: ClassVar[frozenset[str]] = TEXT_CAPABILITIES

    # ------------------------------------------------------------------ operations

    async def list_models(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        after_id: str | None = None
        for _ in range(MAX_MODEL_PAGES):
            params: dict[str, str | int] = {"limit": MODELS_PAGE_LIMIT}
            if after_id:
                params["after_id"] = after_id
            page = await self._get_json(self._models_url(), params=params)
            models.extend(self._model_infos(page.get("data")))
            after_id = page.get("last_id")
            if not page.get("has_more") or not after_id:
                break
        return models

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        body = self._messages_body(request, stream=True)
        client = shared_client.get_client()
        http_request = client.build_request(
            "POST", self._url(MESSAGES_PATH), content=_encode(body), headers=event_stream_headers(self._headers()),
            timeout=shared_client.STREAM_TIMEOUT, extensions=self.network_policy,
        )
        response = await send_with_retries(
            lambda: client.send(http_request, stream=True),
            provider=self.provider_name,
            secrets=(self.api_key,),
        )
        state = _StreamState()
        try:
            async with aiter_sse(
                response,
                idle_timeout=shared_client.STREAM_IDLE_TIMEOUT,
                provider=self.provider_name,
                secrets=(self.api_key,),
            ) as events:
                async for event in events:
                    payload = event_payload(event, provider=self.provider_name, secrets=(self.api_key,))
                    text = self._apply_event(payload, state)
                    if text:
                        yield ChatChunk(text=text)
                    if state.finished:
                        await events.drain()
                        break
            if not state.finished:
                # No message_stop: the answer is cut off, which is a failed turn.
                raise StreamEndedEarly(provider=self.provider_name)
        finally:
            await response.aclose()
        if state.stop_reason:
            yield ChatFinish(state.stop_reason)
        yield state.usage()

    async def chat(self, request: ChatRequest) -> ChatResult:
        payload = await self._post_json(MESSAGES_PATH, self._messages_body(request, stream=False))
        blocks = payload.get("content")
        if not isinstance(blocks, list):
            raise self._malformed("The provider's answer has no content blocks.")
        text = "".join(
            block.get("text", "")
            for block in blocks
            if isinstance(block, Mapping) and block.get("type") == "text"
        )
        return ChatResult(
            text=text,
            model=request.model,
            usage=_usage_from(payload.get("usage")),
            finish_reason=payload.get("stop_reason"),
        )

    async def validate_key(self) -> KeyValidation:
        try:
            await self._get_json(self._models_url(), params={"limit": 1})
        except AIAdminError as err:
            return KeyValidation(ok=False, message=err.message)
        return KeyValidation(ok=True, message="Anthropic accepted the key.")

    # ------------------------------------------------------------------ request building

    def _api_root(self) -> str:
        # The catalogue stores the host; admins often paste ".../v1" from the docs instead.
        root = self.base_url
        return root[: -len("/v1")] if root.endswith("/v1") else root

    def _url(self, path: str) -> str:
        return f"{self._api_root()}/{path.lstrip('/')}"

    def _models_url(self) -> str:
        return self._url(str(self.config.get("models_path") or DEFAULT_MODELS_PATH))

    def _headers(self) -> dict[str, str]:
        auth_headers, _params = auth_headers_and_params(self._auth_config(), self.api_key)
        extra = {str(k): str(v) for k, v in (self.config.get("extra_headers") or {}).items()}
        headers = {"anthropic-version": DEFAULT_API_VERSION, **extra}
        headers["content-type"] = "application/json"
        # Auth last, so no extra header can replace it.
        headers.update(auth_headers)
        return headers

    def _auth_config(self) -> Mapping[str, Any]:
        auth = self.config.get("auth") or DEFAULT_AUTH
        # A key in a query string ends up in access logs; Anthropic never needs it there.
        return DEFAULT_AUTH if auth.get("style") == "query" else auth

    def _messages_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        system, messages = _split_system(request.messages)
        if not messages:
            raise BadRequestError(
                "Anthropic needs at least one user message; only a system prompt was given.",
                provider=self.provider_name,
            )
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": self._max_tokens(request),
            "messages": messages,
        }
        if system:
            body["system"] = system
        if request.temperature is not None:
            body["temperature"] = min(max(float(request.temperature), 0.0), MAX_TEMPERATURE)
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if stream:
            body["stream"] = True
        return body

    def _max_tokens(self, request: ChatRequest) -> int:
        if request.max_tokens:
            return int(request.max_tokens)
        defaults = self.config.get("default_params") or {}
        return int(defaults.get("max_tokens") or DEFAULT_MAX_TOKENS)

    # ------------------------------------------------------------------ responses

    def _apply_event(self, payload: Any, state: _StreamState) -> str | None:
        """Update ``state`` from one stream event; return the text it adds, if any."""
        if not isinstance(payload, Mapping):
            raise self._malformed("The provider sent a stream event that is not an object.")
        kind = payload.get("type")
        if kind == "message_start":
            usage = _usage_from((payload.get("message") or {}).get("usage"))
            state.input_tokens, state.output_tokens = usage.input_tokens, usage.output_tokens
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "text":
                return block.get("text") or None
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            # thinking_delta, signature_delta and input_json_delta are not answer text.
            if delta.get("type") == "text_delta":
                return delta.get("text") or None
        elif kind == "message_delta":
            self._apply_message_delta(payload, state)
        elif kind == "message_stop":
            state.finished = True
        # ping, content_block_stop and event types added later carry nothing we show.
        return None

    @staticmethod
    def _apply_message_delta(payload: Mapping[str, Any], state: _StreamState) -> None:
        stop_reason = (payload.get("delta") or {}).get("stop_reason")
        if isinstance(stop_reason, str) and stop_reason:
            state.stop_reason = stop_reason[:64]
        usage = payload.get("usage") or {}
        # message_delta counts are cumulative: they replace, never add to, earlier values.
        if isinstance(usage.get("output_tokens"), int):
            state.output_tokens = usage["output_tokens"]
        if isinstance(usage.get("input_tokens"), int):
            state.input_tokens = _total_input_tokens(usage)

    def _model_infos(self, data: Any) -> list[ModelInfo]:
        if not isinstance(data, list):
            raise self._malformed("The model list has no data array.")
        rules = self.config.get("capability_rules")
        infos: list[ModelInfo] = []
        for entry in data:
            if not isinstance(entry, Mapping) or not entry.get("id"):
                continue
            model_id = str(entry["id"])
            capabilities = apply_capability_rules(model_id, detected=TEXT_CAPABILITIES, rules=rules)
            if not capabilities:
                continue  # excluded by the provider's rules: not offered anywhere
            infos.append(
                ModelInfo(
                    id=model_id,
                    name=str(entry.get("display_name") or model_id),
                    capabilities=capabilities,
                    description=_model_description(entry),
                    context_window=_int_or_none(entry.get("max_input_tokens")),
                )
            )
        return infos

    # ------------------------------------------------------------------ HTTP

    async def _get_json(self, url: str, *, params: Mapping[str, str | int]) -> dict[str, Any]:
        client = shared_client.get_client()
        headers = self._headers()
        response = await send_with_retries(
            lambda: client.send(
                client.build_request("GET", url, params=params, headers=headers, timeout=shared_client.DEFAULT_TIMEOUT, extensions=self.network_policy),
                stream=True
            ),
            provider=self.provider_name,
            secrets=(self.api_key,),
            read_body=True,
        )
        return self._json_object(response)

    async def _post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        client = shared_client.get_client()
        url, headers, content = self._url(path), self._headers(), _encode(body)
        response = await send_with_retries(
            lambda: client.send(
                client.build_request("POST", url, content=content, headers=headers, timeout=shared_client.DEFAULT_TIMEOUT, extensions=self.network_policy),
                stream=True
            ),
            provider=self.provider_name,
            secrets=(self.api_key,),
            read_body=True,
        )
        return self._json_object(response)

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, provider=self.provider_name)

    def _malformed(self, message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=self.provider_name)


# ---------------------------------------------------------------------- helpers


def _encode(body: Mapping[str, Any]) -> bytes:
    # Encoded once, so a retry resends the same bytes without re-serialising.
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _split_system(messages: tuple[ChatMessage, ...]) -> tuple[str, list[dict[str, str]]]:
    """System messages become the top-level ``system`` text (the API has no system role)."""
    system_parts: list[str] = []
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system":
            if message.content.strip():
                system_parts.append(message.content)
        elif message.content.strip():
            # The API rejects empty text blocks, so an empty turn is left out.
            turns.append({"role": message.role, "content": message.content})
    return "\n\n".join(system_parts), turns


def _total_input_tokens(usage: Mapping[str, Any]) -> int | None:
    """Total input = input_tokens + cache creation + cache read (per the API's Usage docs)."""
    if not isinstance(usage.get("input_tokens"), int):
        return None
    total = 0
    for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        value = usage.get(name)
        if isinstance(value, int):
            total += value
    return total


def _usage_from(usage: Any) -> Usage:
    if not isinstance(usage, Mapping):
        return Usage()
    output = usage.get("output_tokens")
    return Usage(
        input_tokens=_total_input_tokens(usage),
        output_tokens=output if isinstance(output, int) else None,
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _model_description(entry: Mapping[str, Any]) -> str:
    parts: list[str] = []
    created = entry.get("created_at")
    # The API sets an epoch date when the release date is unknown.
    if isinstance(created, str) and len(created) >= 10 and not created.startswith("1970"):
        parts.append(f"Released {created[:10]}.")
    if entry.get("lifecycle") == "deprecated":
        parts.append("Deprecated: scheduled for retirement.")
    return " ".join(parts)
