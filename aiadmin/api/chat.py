"""OpenAI's chat completion request, read into the unified service's terms, and its answers
(the completion object and the stream's chunks) built from the service's."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiadmin.adapters.types import ChatMessage, Usage

from .body import bool_field, int_field, number_field
from .errors import bad_request

MAX_MESSAGES = 2000
MAX_STOPS = 4
MAX_STOP_CHARS = 256
MAX_OUTPUT_TOKENS = 1_000_000
# Roles aiadmin passes on; "developer" is what OpenAI's newer models call the system role.
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# Fields that change what a request means and that aiadmin cannot honour: refused, not ignored.
UNSUPPORTED = {
    "tools": "Tool calling is not supported by aiadmin's API.",
    "functions": "Function calling is not supported by aiadmin's API.",
    "audio": "Audio output is not supported here: use POST /v1/audio/speech.",
}
# OpenAI's finish reasons, from what the adapters pass through (OpenAI's own, Anthropic's
# stop reasons, Gemini's finish reasons).
FINISH_REASONS = {
    "stop": "stop", "length": "length", "content_filter": "content_filter",
    "end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
    "STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter",
}


@dataclass(frozen=True, slots=True)
class ChatParams:
    message: str
    history: tuple[ChatMessage, ...]
    temperature: float | None
    max_tokens: int | None
    stream: bool
    include_usage: bool
    stop: tuple[str, ...] = ()


def _text_of(content: Any, index: int) -> str:
    param = f"messages[{index}].content"
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise bad_request(
                    f"Only text content parts are supported (messages[{index}] has a “{kind}” part).", param=param
                )
            texts.append(part["text"])
        return "\n".join(texts)
    raise bad_request("A message's content must be a string or a list of text parts.", param=param)


def chat_params_read(data: dict[str, Any]) -> ChatParams:
    for name, why in UNSUPPORTED.items():
        if data.get(name):
            raise bad_request(why, param=name, code="unsupported_parameter")
    if data.get("logprobs") or data.get("top_logprobs"):
        raise bad_request("Log probabilities are not supported by aiadmin's API.", param="logprobs", code="unsupported_parameter")
    if int_field(data, "n", minimum=1, maximum=1, default=1) != 1:
        raise bad_request("Only n=1 is supported.", param="n")
    response_format = data.get("response_format")
    if response_format is not None and (not isinstance(response_format, dict) or response_format.get("type") != "text"):
        raise bad_request("Only the text response format is supported.", param="response_format", code="unsupported_parameter")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("“messages” must be a non-empty list of messages.", param="messages", code="missing_required_parameter")
    if len(messages) > MAX_MESSAGES:
        raise bad_request(f"Send at most {MAX_MESSAGES:,} messages.", param="messages")
    turns: list[ChatMessage] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_request("Each message must be an object with “role” and “content”.", param=f"messages[{index}]")
        role = ROLES.get(message.get("role"))
        if role is None:
            raise bad_request(
                f"messages[{index}] has the role {message.get('role')!r}; use system, developer, user or assistant "
                "(tool messages are not supported).",
                param=f"messages[{index}].role",
            )
        if message.get("tool_calls") or message.get("function_call"):
            raise bad_request("Tool calls are not supported.", param=f"messages[{index}].tool_calls", code="unsupported_parameter")
        turns.append(ChatMessage(role, _text_of(message.get("content"), index)))
    if turns[-1].role != "user":
        raise bad_request("The last message must be the user's.", param=f"messages[{len(turns) - 1}].role")
    max_completion = int_field(data, "max_completion_tokens", minimum=1, maximum=MAX_OUTPUT_TOKENS)
    max_tokens = max_completion if max_completion is not None else int_field(data, "max_tokens", minimum=1, maximum=MAX_OUTPUT_TOKENS)
    options = data.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("“stream_options” must be an object.", param="stream_options")
    stream = bool_field(data, "stream")
    return ChatParams(
        message=turns[-1].content,
        history=tuple(turns[:-1]),
        temperature=number_field(data, "temperature", minimum=0, maximum=2),
        max_tokens=max_tokens,
        stream=stream,
        include_usage=bool(options and bool_field(options, "include_usage")),
        stop=_stops(data.get("stop")),
    )


def _stops(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOPS
        or not all(isinstance(stop, str) and 0 < len(stop) <= MAX_STOP_CHARS for stop in stops)
    ):
        raise bad_request(
            f"“stop” must be a string or a list of at most {MAX_STOPS} strings of 1 to {MAX_STOP_CHARS} characters.",
            param="stop",
        )
    return tuple(stops)


def completion_id() -> str:
    return f"chatcmpl-{secrets.token_hex(12)}"


def usage_body(usage: Usage) -> dict[str, int]:
    # 0 where the provider reported no count: clients add these up and expect numbers.
    prompt, completion = usage.input_tokens or 0, usage.output_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def finish_reason(raw: str | None) -> str:
    return FINISH_REASONS.get(raw or "stop", "stop")


def completion_body(*, id: str, model: str, text: str, usage: Usage, reason: str | None) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason(reason),
            }
        ],
        "usage": usage_body(usage),
        "system_fingerprint": None,
    }


class ChunkMaker:
    """The stream's chunks: all share the id, ``created`` and model."""

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self.base = {"id": completion_id(), "object": "chat.completion.chunk", "created": int(time.time()), "model": model, "system_fingerprint": None}
        self.include_usage = include_usage

    def delta(self, delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        chunk = {**self.base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]}
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def usage(self, usage: Usage) -> dict[str, Any]:
        return {**self.base, "choices": [], "usage": usage_body(usage)}
