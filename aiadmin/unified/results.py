"""What the unified service returns to playgrounds and host code."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from aiadmin.adapters.types import GeneratedImage, ModelInfo, Usage


@dataclass(frozen=True, slots=True)
class CallInfo:
    provider: str  # slug
    provider_name: str
    model: str
    key_source: str
    latency_ms: int
    cost: Decimal | None = None
    # Requests left this month for this admin and provider; None when unlimited.
    remaining_quota: int | None = None


@dataclass(frozen=True, slots=True)
class ChatReply:
    text: str
    usage: Usage
    info: CallInfo
    finish_reason: str | None = None

    @property
    def provider(self) -> str:
        return self.info.provider

    @property
    def model(self) -> str:
        return self.info.model


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """The last item of a streamed chat: usage and timings."""

    usage: Usage
    info: CallInfo
    time_to_first_token_ms: int | None
    # Why the answer ended, in the provider's words, when the adapter says ("stop", "length",
    # "end_turn", "MAX_TOKENS"...); None when it does not.
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    meta_description: str
    body: str
    keywords: tuple[str, ...]
    markdown: str


@dataclass(frozen=True, slots=True)
class ContentReply:
    article: Article
    usage: Usage
    info: CallInfo


@dataclass(frozen=True, slots=True)
class ImageReply:
    images: list[GeneratedImage]
    info: CallInfo


@dataclass(frozen=True, slots=True)
class SpeechReply:
    audio: bytes
    mime_type: str
    info: CallInfo


@dataclass(frozen=True, slots=True)
class TranscriptReply:
    text: str
    info: CallInfo
    language: str | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class BrowsedModel:
    id: str
    name: str
    capabilities: frozenset[str]
    description: str
    is_free: bool
    pricing_input: Decimal | None
    pricing_output: Decimal | None
    context_window: int | None
    is_selected: bool
    deprecation: str = ""
    not_callable: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_info(cls, info: ModelInfo, *, is_selected: bool) -> BrowsedModel:
        # Spelled out: called for every model of a list on every open, and reflecting over
        # the fields each time cost more than the rest of building the list.
        return cls(
            info.id, info.name, info.capabilities, info.description, info.is_free,
            info.pricing_input, info.pricing_output, info.context_window, is_selected,
            info.deprecation, info.not_callable,
        )

    def info(self) -> ModelInfo:
        return ModelInfo(**{f.name: getattr(self, f.name) for f in fields(ModelInfo)})


@dataclass(frozen=True, slots=True)
class BrowseResult:
    provider: str
    capability: str
    models: list[BrowsedModel]
    fetched_at: datetime | None
    # True when a refresh failed and this is the last good list; ``error`` says why.
    stale: bool = False
    error: str | None = None
    selected_model_id: str | None = None
    # The selected model is no longer in the provider's list.
    selected_missing: bool = False
    # Models the list names for this capability that the adapter cannot call: (reason, model ids).
    not_offered: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class AvailableModel:
    provider: str
    provider_name: str
    capability: str
    model_id: str
    display_name: str
    access_state: str
    key_source: str
    is_preference: bool = False
    extra: dict = field(default_factory=dict)
