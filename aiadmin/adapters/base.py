"""The adapter interface. Adapters know HTTP, not Django: they get a base URL, a key and the
provider's config, and never import the ORM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from .errors import AIAdminError, AuthenticationError, UnsupportedOperationError
from .types import (
    ChatChunk,
    ChatFinish,
    ChatRequest,
    ChatResult,
    GeneratedAudio,
    GeneratedImage,
    ImageRequest,
    KeyValidation,
    ModelInfo,
    SpeechRequest,
    Transcript,
    TranscriptionRequest,
    Usage,
)
from .urlguard import request_policy


class BaseAdapter:
    """One API family. Subclasses declare what they can do and implement one method per
    operation; anything not overridden raises :class:`UnsupportedOperationError`."""

    key: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    # The most an adapter family can do; a provider row narrows it with its capabilities.
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # False when the adapter needs no key (the sandbox).
    requires_key: ClassVar[bool] = True
    # False when the adapter calls no server at all (the sandbox).
    requires_base_url: ClassVar[bool] = True
    # Config keys this adapter reads beyond the shared ones of aiadmin.providers.schema (e.g. an
    # adapter from another package); the admin refuses any other unknown key as a likely typo.
    extra_config_keys: ClassVar[frozenset[str]] = frozenset()
    # The speech formats text_to_speech really returns. None: the format asked for (the
    # provider encodes it); a tuple: only these, whatever is asked (the playground offers
    # only these for the adapter's models).
    speech_formats: ClassVar[tuple[str, ...] | None] = None

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        config: Mapping[str, Any] | None = None,
        provider_name: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.config: Mapping[str, Any] = config or {}
        self.provider_name = provider_name or self.label

    @property
    def network_policy(self) -> dict[str, Any]:
        """Request extensions for every request this adapter sends: whether the provider's
        config allows private-network addresses (the shared transport enforces it)."""
        return request_policy(allow_private_network=self.config.get("allow_private_network") is True)

    def __repr__(self) -> str:  # never show the key
        return f"<{type(self).__name__} {self.base_url!r}>"

    def _unsupported(self, operation: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(
            f"{self.label} adapters do not support {operation}.", provider=self.provider_name
        )

    async def list_models(self) -> list[ModelInfo]:
        raise self._unsupported("listing models")

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        """Yield text chunks, then exactly one :class:`Usage` as the last item."""
        raise self._unsupported("chat")

    async def chat(self, request: ChatRequest) -> ChatResult:
        parts: list[str] = []
        usage = Usage()
        finish_reason: str | None = None
        async for item in self.stream_chat(request):
            if isinstance(item, ChatChunk):
                parts.append(item.text)
            elif isinstance(item, ChatFinish):
                finish_reason = item.reason
            else:
                usage = item
        return ChatResult(text="".join(parts), model=request.model, usage=usage, finish_reason=finish_reason)

    async def generate_image(self, request: ImageRequest) -> list[GeneratedImage]:
        raise self._unsupported("image generation")

    async def text_to_speech(self, request: SpeechRequest) -> GeneratedAudio:
        raise self._unsupported("text to speech")

    async def speech_to_text(self, request: TranscriptionRequest) -> Transcript:
        raise self._unsupported("speech to text")

    async def validate_key(self) -> KeyValidation:
        """Default check: a key that can list models is a working key."""
        try:
            models = await self.list_models()
        except AuthenticationError as err:
            return KeyValidation(ok=False, message=err.message)
        except AIAdminError as err:
            return KeyValidation(ok=False, message=err.message)
        return KeyValidation(ok=True, message=f"Key works: {len(models)} models visible.")
