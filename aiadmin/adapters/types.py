"""Plain data passed between the service layer and adapters (no Django here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Capability = Literal["chat", "content", "image", "audio"]
CAPABILITIES: tuple[Capability, ...] = ("chat", "content", "image", "audio")

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    # What the call is for ("chat" or "content"); real providers ignore it, the sandbox
    # uses it to answer a content request with an article instead of a chat reply.
    purpose: Literal["chat", "content"] = "chat"
    extra: dict[str, Any] = field(default_factory=dict)
    # Stop sequences: the answer ends before the first of them (at most four, as OpenAI).
    stop: tuple[str, ...] = ()


# The most a token-count column holds (a 32-bit PositiveIntegerField); a count above it,
# below 0 or not a whole number is not a real count: kept as unknown rather than stored.
MAX_TOKEN_COUNT = 2_147_483_647


def _counts_in_range(instance: Any, *names: str) -> None:
    for name in names:
        value = getattr(instance, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKEN_COUNT):
            object.__setattr__(instance, name, None)


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None

    def __post_init__(self) -> None:
        _counts_in_range(self, "input_tokens", "output_tokens")

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One streamed piece of assistant text."""

    text: str


@dataclass(frozen=True, slots=True)
class ChatFinish:
    """Why a streamed answer ended, in the provider's words ("stop", "length", "end_turn",
    "max_tokens", "MAX_TOKENS"...). Optional: an adapter that knows it yields one, after the
    last text and before the usage."""

    reason: str


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    model: str
    usage: Usage = Usage()
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ImageRequest:
    model: str
    prompt: str
    size: str = "1024x1024"
    quality: str | None = None
    n: int = 1


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes
    mime_type: str
    revised_prompt: str | None = None


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    model: str
    text: str
    voice: str | None = None
    speed: float | None = None
    format: str = "mp3"


@dataclass(frozen=True, slots=True)
class GeneratedAudio:
    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class TranscriptionRequest:
    model: str
    audio: bytes
    filename: str
    mime_type: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of a provider's live model list."""

    id: str
    name: str
    capabilities: frozenset[str]
    description: str = ""
    is_free: bool = False
    # Price per million tokens, None when the provider does not say.
    pricing_input: Decimal | None = None
    pricing_output: Decimal | None = None
    context_window: int | None = None
    # Set when the provider's list marks the model deprecated (what goes when); "" otherwise.
    # A model the list marks retired is not offered at all.
    deprecation: str = ""
    # Capabilities the list's metadata names but this adapter cannot call, each with the reason
    # the browser shows (e.g. OpenRouter chat models that answer in audio).
    not_callable: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _counts_in_range(self, "context_window")


@dataclass(frozen=True, slots=True)
class KeyValidation:
    ok: bool
    message: str
