"""The one service every playground and host application calls (SPEC section 6).

Each call picks the model, resolves the key, counts the monthly limit (one thread hop to the
database), calls the adapter, and records the ledger row (a second hop). Async methods are
the core; each has a sync twin for host code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from aiadmin.adapters.errors import AIAdminError, BadRequestError, NotFoundError, UnsupportedOperationError, redact
from aiadmin.adapters.registry import registry
from aiadmin.adapters.shared_client import aclose_clients
from aiadmin.adapters.types import (
    ChatChunk,
    ChatFinish,
    ChatMessage,
    ChatRequest,
    ImageRequest,
    KeyValidation,
    ModelInfo,
    SpeechRequest,
    TranscriptionRequest,
    Usage,
)
from aiadmin.adapters.urlguard import check_base_url
from aiadmin.providers.models import AIRequestLog
from aiadmin.providers.tokens import TokenGrant
from aiadmin.providers.usage import LedgerEntry, estimate_cost, usage_record

from . import selection
from .errors import ScopeError
from .content import article_parse, content_messages
from .ledger import ledger_add, ledger_flush
from .model_lists import cache_keys, entry_models, key_identity, model_list_get, provider_fingerprint
from .plan import CallPlan, PlanError, plan_consume_quota, plan_resolve, plan_routing_key, plan_under_limit
from .routing import routing_get, routing_put, routing_resolving, routing_ticket, routing_wait
from .stream_limits import stream_bounded, stream_limits_get
from .results import (
    AvailableModel,
    BrowsedModel,
    BrowseResult,
    CallInfo,
    ChatReply,
    ContentReply,
    ImageReply,
    SpeechReply,
    StreamSummary,
    TranscriptReply,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_IMAGES = 10
MAX_TTS_CHARS = 4096


def _ms(since: float) -> int:
    """Milliseconds since ``since``, rounded up: a call that took 0.3 ms (the offline sandbox)
    reads 1 ms, never a "0 ms" that looks like nothing was measured."""
    return max(1, math.ceil((time.perf_counter() - since) * 1000))


def chat_messages(
    message: str, conversation_history: Sequence[Mapping[str, str] | ChatMessage] | None, system_prompt: str | None
) -> tuple[ChatMessage, ...]:
    messages: list[ChatMessage] = []
    if system_prompt:
        messages.append(ChatMessage("system", system_prompt))
    for turn in conversation_history or ():
        if isinstance(turn, ChatMessage):
            messages.append(turn)
        else:
            role = turn.get("role")
            if role not in ("system", "user", "assistant"):
                raise BadRequestError(f"A conversation turn has the role {role!r}; use user, assistant or system.")
            messages.append(ChatMessage(role, str(turn.get("content", ""))))
    if not message or not message.strip():
        raise BadRequestError("The message is empty: type something to send.")
    messages.append(ChatMessage("user", message))
    return tuple(messages)


MAX_STOPS = 4
MAX_STOP_CHARS = 256


def chat_stops(stop: Sequence[str] | str | None) -> tuple[str, ...]:
    """Checked stop sequences: at most four non-empty strings, as OpenAI takes them."""
    if stop is None:
        return ()
    stops = (stop,) if isinstance(stop, str) else tuple(stop)
    if len(stops) > MAX_STOPS or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stops):
        raise BadRequestError(f"Give at most {MAX_STOPS} stop sequences, each 1 to {MAX_STOP_CHARS} characters.")
    return stops


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str = "ok"
    error: str = ""
    usage: Usage = Usage()
    time_to_first_token_ms: int | None = None


def _not_offered(models: Sequence[ModelInfo], capability: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Models the list names for ``capability`` that the adapter cannot call, by reason."""
    by_reason: dict[str, list[str]] = {}
    for model in models:
        for withheld, reason in model.not_callable:
            if withheld == capability:
                by_reason.setdefault(reason, []).append(model.id)
    return tuple((reason, tuple(sorted(ids))) for reason, ids in by_reason.items())


class UnifiedAIService:
    # --- the call pipeline --------------------------------------------------------------

    async def _plan(
        self, *, admin, capability: str, provider_slug: str | None, model_id: str | None, via_token: TokenGrant | None = None
    ) -> CallPlan:
        scope = via_token.providers if via_token is not None else None
        token_id = via_token.token_id if via_token is not None else None
        if via_token is not None and not via_token.allows_capability(capability):
            error = ScopeError(f"This API token may not use {capability}.")
            await sync_to_async(self._record_refusal)(admin, capability, provider_slug, model_id, error, token_id)
            raise error
        key = plan_routing_key(admin=admin, capability=capability, provider_slug=provider_slug, model_id=model_id, providers=scope)
        cached = routing_get(key)
        if cached is None and await routing_wait(key):
            cached = routing_get(key)  # resolved meanwhile by another call on this loop
        if cached is not None and not plan_under_limit(cached):
            return dataclasses.replace(cached, admin=admin, api_token_id=token_id)  # no database work on the hot path
        async with routing_resolving(key):
            return await sync_to_async(self._plan_or_record)(admin, capability, provider_slug, model_id, scope, token_id)

    @staticmethod
    def _plan_or_record(admin, capability, provider_slug, model_id, scope=None, token_id=None) -> CallPlan:
        try:
            ticket = routing_ticket()  # before the rows are read: the entry ages from here
            plan = plan_resolve(
                admin=admin, capability=capability, provider_slug=provider_slug, model_id=model_id, providers=scope
            )
            key = plan_routing_key(
                admin=admin, capability=capability, provider_slug=provider_slug, model_id=model_id, providers=scope
            )
            routing_put(key, dataclasses.replace(plan), ticket=ticket)
            plan.api_token_id = token_id
            plan_consume_quota(plan)
            return plan
        except PlanError as refused:
            usage_record(
                admin=admin,
                provider=refused.provider,
                provider_slug=refused.provider_slug,
                model=None,
                model_name=refused.model_id,
                capability=capability,
                key_source=refused.key_source,
                status=refused.error.kind,
                error_message=str(refused.error),
                api_token_id=token_id,
            )
            raise refused.error from None

    @staticmethod
    def _record_refusal(admin, capability, provider_slug, model_id, error: AIAdminError, token_id) -> None:
        usage_record(
            admin=admin, provider=None, provider_slug=provider_slug or "", model=None, model_name=model_id or "",
            capability=capability, key_source="none", status=error.kind, error_message=str(error), api_token_id=token_id,
        )

    @staticmethod
    async def _check_url(provider) -> None:
        """The base URL policy, checked before anything is sent to the provider."""
        adapter_class = registry.require(provider.adapter, provider=str(provider))
        if adapter_class.requires_base_url:
            await check_base_url(
                provider.api_base_url,
                allow_private_network=bool((provider.config or {}).get("allow_private_network")),
                provider=str(provider),
            )

    def _record_later(self, plan: CallPlan, outcome: _Outcome, latency_ms: int) -> None:
        """Queue the ledger row; it is written after the answer is handed back, off the hot
        path (:mod:`aiadmin.unified.ledger`). :meth:`aflush` waits for it (the sync twins
        do so before returning)."""
        message = redact(outcome.error, *plan.secrets) if outcome.error else ""
        if outcome.status != "ok":
            logger.info(
                "AI call failed: provider=%s model=%s capability=%s status=%s: %s",
                plan.provider.slug, plan.model_id, plan.capability, outcome.status, message,
            )
        ledger_add(
            LedgerEntry(
                admin=plan.admin,
                provider=plan.provider,
                provider_slug=plan.provider.slug,
                model=plan.model,
                model_name=plan.model_id,
                capability=plan.capability,
                key_source=plan.decision.key_source,
                status=outcome.status,
                created_at=timezone.now(),
                error_message=message,
                latency_ms=latency_ms,
                time_to_first_token_ms=outcome.time_to_first_token_ms,
                usage=outcome.usage,
                settings_row=plan.settings_row,
                limit_row=plan.limit_row,
                counted_against_limit=plan.counted_against_limit,
                price=plan.price,
                api_token_id=plan.api_token_id,
            )
        )

    async def aflush(self) -> None:
        """Wait until every ledger row queued on this event loop is written."""
        await ledger_flush()

    @staticmethod
    def _info(plan: CallPlan, latency_ms: int, usage: Usage = Usage()) -> CallInfo:
        return CallInfo(
            provider=plan.provider.slug,
            provider_name=str(plan.provider),
            model=plan.model_id,
            key_source=plan.decision.key_source,
            latency_ms=latency_ms,
            cost=estimate_cost(usage=usage, model=plan.model, price=plan.price),
            remaining_quota=plan.remaining_quota,
        )

    async def _run(self, plan: CallPlan, operation) -> tuple[Any, int]:
        """Call the adapter once and record the outcome either way."""
        started = time.perf_counter()
        try:
            await self._check_url(plan.provider)
            result = await operation(plan.adapter())
        except AIAdminError as err:
            self._record_later(plan, _Outcome(status=err.kind, error=str(err)), _ms(started))
            raise
        except asyncio.CancelledError:
            self._record_later(plan, _Outcome(status=AIRequestLog.STATUS_CANCELLED), _ms(started))
            raise
        latency = _ms(started)
        usage = getattr(result, "usage", Usage())
        self._record_later(plan, _Outcome(usage=usage if isinstance(usage, Usage) else Usage()), latency)
        return result, latency

    # --- chat and content ---------------------------------------------------------------

    async def achat(
        self,
        message: str,
        admin,
        conversation_history=None,
        provider_slug: str | None = None,
        model_id: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        *,
        stop: Sequence[str] | None = None,
        via_token: TokenGrant | None = None,
    ) -> ChatReply:
        plan, request = await self._chat_plan(
            message, admin, conversation_history, provider_slug, model_id, system_prompt, temperature, max_tokens, via_token, stop
        )
        result, latency = await self._run(plan, lambda adapter: adapter.chat(request))
        return ChatReply(
            text=result.text, usage=result.usage, info=self._info(plan, latency, result.usage), finish_reason=result.finish_reason
        )

    async def astream_chat(
        self,
        message: str,
        admin,
        conversation_history=None,
        provider_slug: str | None = None,
        model_id: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        *,
        stop: Sequence[str] | None = None,
        via_token: TokenGrant | None = None,
    ) -> AsyncIterator[str | StreamSummary]:
        """Yield text chunks as they arrive, then one :class:`StreamSummary`."""
        plan, request = await self._chat_plan(
            message, admin, conversation_history, provider_slug, model_id, system_prompt, temperature, max_tokens, via_token, stop
        )
        async with contextlib.aclosing(self._stream(plan, request)) as stream:
            async for item in stream:
                yield item

    async def _stream(self, plan: CallPlan, request: ChatRequest) -> AsyncIterator[str | StreamSummary]:
        started = time.perf_counter()
        first_token_ms: int | None = None
        usage = Usage()
        finish_reason: str | None = None
        outcome: _Outcome | None = None
        try:
            await self._check_url(plan.provider)
            limits = stream_limits_get()
            async with (
                contextlib.aclosing(plan.adapter().stream_chat(request)) as upstream,
                contextlib.aclosing(stream_bounded(upstream, limits=limits, provider=str(plan.provider))) as stream,
            ):
                async for item in stream:
                    if isinstance(item, ChatChunk):
                        if first_token_ms is None:
                            first_token_ms = _ms(started)
                        yield item.text
                    elif isinstance(item, ChatFinish):
                        finish_reason = item.reason
                    else:
                        usage = item
            outcome = _Outcome(usage=usage, time_to_first_token_ms=first_token_ms)
        except AIAdminError as err:
            outcome = _Outcome(status=err.kind, error=str(err), usage=usage, time_to_first_token_ms=first_token_ms)
            raise
        finally:
            # No outcome means the consumer went away (stop button, disconnect): a cancelled turn.
            final = outcome or _Outcome(status=AIRequestLog.STATUS_CANCELLED, usage=usage, time_to_first_token_ms=first_token_ms)
            latency = _ms(started)
            self._record_later(plan, final, latency)
        yield StreamSummary(
            usage=usage, info=self._info(plan, latency, usage), time_to_first_token_ms=first_token_ms, finish_reason=finish_reason
        )

    async def _chat_plan(
        self, message, admin, conversation_history, provider_slug, model_id, system_prompt, temperature, max_tokens, via_token,
        stop=None,
    ) -> tuple[CallPlan, ChatRequest]:
        messages = chat_messages(message, conversation_history, system_prompt)
        plan = await self._plan(
            admin=admin, capability="chat", provider_slug=provider_slug, model_id=model_id, via_token=via_token
        )
        return plan, ChatRequest(
            model=plan.model_id, messages=messages, temperature=temperature, max_tokens=max_tokens, stop=chat_stops(stop)
        )

    async def agenerate_content(
        self,
        topic: str,
        admin,
        word_count: int = 600,
        tone: str = "informative",
        keywords: Sequence[str] = (),
        language: str = "en",
        provider_slug: str | None = None,
        model_id: str | None = None,
        *,
        via_token: TokenGrant | None = None,
    ) -> ContentReply:
        plan, request = await self._content_plan(topic, admin, word_count, tone, keywords, language, provider_slug, model_id, via_token)
        result, latency = await self._run(plan, lambda adapter: adapter.chat(request))
        return ContentReply(
            article=article_parse(result.text, keywords=keywords), usage=result.usage, info=self._info(plan, latency, result.usage)
        )

    async def astream_content(
        self,
        topic: str,
        admin,
        word_count: int = 600,
        tone: str = "informative",
        keywords: Sequence[str] = (),
        language: str = "en",
        provider_slug: str | None = None,
        model_id: str | None = None,
        *,
        via_token: TokenGrant | None = None,
    ) -> AsyncIterator[str | StreamSummary]:
        """The article streamed as Markdown; parse the joined text with ``article_parse``."""
        plan, request = await self._content_plan(topic, admin, word_count, tone, keywords, language, provider_slug, model_id, via_token)
        async with contextlib.aclosing(self._stream(plan, request)) as stream:
            async for item in stream:
                yield item

    async def _content_plan(self, topic, admin, word_count, tone, keywords, language, provider_slug, model_id, via_token):
        if not topic or not topic.strip():
            raise BadRequestError("The topic is empty: say what the article should be about.")
        if not 50 <= int(word_count) <= 5000:
            raise BadRequestError("The word count must be between 50 and 5000.")
        messages = content_messages(topic=topic, word_count=int(word_count), tone=tone, keywords=keywords, language=language)
        plan = await self._plan(
            admin=admin, capability="content", provider_slug=provider_slug, model_id=model_id, via_token=via_token
        )
        # Room for the article: about 1.5 tokens a word plus the title and meta description.
        request = ChatRequest(
            model=plan.model_id, messages=messages, max_tokens=int(word_count * 2) + 200, purpose="content"
        )
        return plan, request

    # --- images and audio ---------------------------------------------------------------

    async def agenerate_image(
        self,
        prompt: str,
        admin,
        size: str = "1024x1024",
        quality: str | None = None,
        n: int = 1,
        provider_slug: str | None = None,
        model_id: str | None = None,
        *,
        via_token: TokenGrant | None = None,
    ) -> ImageReply:
        if not prompt or not prompt.strip():
            raise BadRequestError("The prompt is empty: describe the image you want.")
        if not 1 <= int(n) <= MAX_IMAGES:
            raise BadRequestError(f"Ask for between 1 and {MAX_IMAGES} images.")
        plan = await self._plan(
            admin=admin, capability="image", provider_slug=provider_slug, model_id=model_id, via_token=via_token
        )
        request = ImageRequest(model=plan.model_id, prompt=prompt, size=size, quality=quality or None, n=int(n))
        images, latency = await self._run(plan, lambda adapter: adapter.generate_image(request))
        return ImageReply(images=list(images), info=self._info(plan, latency))

    async def atext_to_speech(
        self,
        text: str,
        admin,
        voice: str | None = None,
        speed: float | None = None,
        format: str = "mp3",
        provider_slug: str | None = None,
        model_id: str | None = None,
        *,
        via_token: TokenGrant | None = None,
    ) -> SpeechReply:
        if not text or not text.strip():
            raise BadRequestError("The text is empty: type what should be spoken.")
        if len(text) > MAX_TTS_CHARS:
            raise BadRequestError(f"The text is too long: at most {MAX_TTS_CHARS} characters per request.")
        if speed is not None and not 0.25 <= float(speed) <= 4.0:
            raise BadRequestError("The speed must be between 0.25 and 4.")
        plan = await self._plan(
            admin=admin, capability="audio", provider_slug=provider_slug, model_id=model_id, via_token=via_token
        )
        request = SpeechRequest(model=plan.model_id, text=text, voice=voice or None, speed=speed, format=format)
        audio, latency = await self._run(plan, lambda adapter: adapter.text_to_speech(request))
        return SpeechReply(audio=audio.data, mime_type=audio.mime_type, info=self._info(plan, latency))

    async def aspeech_to_text(
        self,
        audio: bytes,
        admin,
        filename: str = "audio.wav",
        mime_type: str | None = None,
        language: str | None = None,
        provider_slug: str | None = None,
        model_id: str | None = None,
        *,
        via_token: TokenGrant | None = None,
    ) -> TranscriptReply:
        if not audio:
            raise BadRequestError("The audio file is empty: upload a recording.")
        plan = await self._plan(
            admin=admin, capability="audio", provider_slug=provider_slug, model_id=model_id, via_token=via_token
        )
        request = TranscriptionRequest(
            model=plan.model_id, audio=audio, filename=filename, mime_type=mime_type, language=language or None
        )
        transcript, latency = await self._run(plan, lambda adapter: adapter.speech_to_text(request))
        return TranscriptReply(
            text=transcript.text,
            info=self._info(plan, latency),
            language=transcript.language,
            duration_seconds=transcript.duration_seconds,
        )

    # --- model lists and selection --------------------------------------------------------

    async def abrowse_models(self, provider_slug: str, capability: str, admin, refresh: bool = False) -> BrowseResult:
        # Paging and searching a list re-opens it many times: reuse the resolved provider and
        # key like a resolved call (dropped on any save).
        key = ("browse", getattr(admin, "pk", None), provider_slug, capability)
        context = routing_get(key)
        if context is None:
            ticket = routing_ticket()
            context = await sync_to_async(selection.browse_context)(
                provider_slug=provider_slug, capability=capability, admin=admin
            )
            routing_put(key, context, ticket=ticket)
        adapter = context.adapter()
        await self._check_url(context.provider)
        fresh_key, last_good_key = cache_keys(
            provider_id=context.provider.pk,
            fingerprint=provider_fingerprint(
                adapter=context.provider.adapter, base_url=context.provider.api_base_url, config=context.provider.config or {}
            ),
            identity=key_identity(context.api_key),
        )
        entry, stale, error = await model_list_get(
            fresh_key=fresh_key, last_good_key=last_good_key, fetch=adapter.list_models, refresh=refresh
        )
        listed = entry_models(fresh_key, entry)
        offered = [model for model in listed if capability in model.capabilities]
        selected = context.selected_model_id
        browsed = sorted(
            (BrowsedModel.from_info(model, is_selected=model.id == selected) for model in offered),
            key=lambda m: (not m.is_selected, bool(m.deprecation), not m.is_free, m.name.lower()),
        )
        return BrowseResult(
            provider=context.provider.slug,
            capability=capability,
            models=browsed,
            fetched_at=datetime.fromtimestamp(entry["fetched_at"], tz=UTC),
            stale=stale,
            error=redact(str(error), context.api_key) if error else None,
            selected_model_id=selected,
            selected_missing=bool(selected) and not any(m.is_selected for m in browsed),
            not_offered=_not_offered(listed, capability),
        )

    async def aselect_model(self, provider_slug: str, capability: str, model_id: str, admin) -> selection.Selection:
        try:
            listed = await self.abrowse_models(provider_slug, capability, admin)
            info = next((m for m in listed.models if m.id == model_id), None)
            if info is None:
                raise NotFoundError(
                    f"{model_id} is not in the provider's current {capability} list. Refresh the list and pick again.",
                    provider=provider_slug,
                )
        except UnsupportedOperationError:
            info = None  # the provider publishes no list: ids are entered by hand
        return await sync_to_async(selection.selection_save)(
            provider_slug=provider_slug, capability=capability, model_id=model_id, admin=admin, info=info
        )

    async def aget_available_models(self, capability: str, admin) -> list[AvailableModel]:
        # Playgrounds check every posted model against this list: reuse it like a resolved call.
        key = ("available-models", getattr(admin, "pk", None), getattr(admin, "is_superuser", False), capability)
        cached = routing_get(key)
        if cached is None and await routing_wait(key):
            cached = routing_get(key)  # read meanwhile by another request on this loop
        if cached is None:
            # A burst of turns after the entry expired reads the rows once, not once each.
            async with routing_resolving(key):
                ticket = routing_ticket()
                cached = await sync_to_async(selection.available_models)(capability=capability, admin=admin)
                routing_put(key, cached, ticket=ticket)
        return list(cached)

    async def avalidate_key(self, provider_slug: str, admin, key_source: str | None = None) -> KeyValidation:
        """Check a key through the adapter and store the result ("Test connection")."""
        target = await sync_to_async(selection.validation_target)(provider_slug=provider_slug, admin=admin, key_source=key_source)
        adapter = target.adapter()
        try:
            await self._check_url(target.provider)
            result = await adapter.validate_key()
        except AIAdminError as err:
            result = KeyValidation(ok=False, message=err.message)
        result = KeyValidation(ok=result.ok, message=redact(result.message, target.api_key))
        await sync_to_async(selection.validation_store)(target=target, result=result, admin=admin)
        return result

    # --- sync twins for host code -----------------------------------------------------------

    def _sync(self, awaitable_factory) -> Any:
        async def run() -> Any:
            try:
                return await awaitable_factory()
            finally:
                await self.aflush()
                await aclose_clients()  # this loop ends with the call

        return async_to_sync(run)()

    def chat(self, *args, **kwargs) -> ChatReply:
        return self._sync(lambda: self.achat(*args, **kwargs))

    def generate_content(self, *args, **kwargs) -> ContentReply:
        return self._sync(lambda: self.agenerate_content(*args, **kwargs))

    def generate_image(self, *args, **kwargs) -> ImageReply:
        return self._sync(lambda: self.agenerate_image(*args, **kwargs))

    def text_to_speech(self, *args, **kwargs) -> SpeechReply:
        return self._sync(lambda: self.atext_to_speech(*args, **kwargs))

    def speech_to_text(self, *args, **kwargs) -> TranscriptReply:
        return self._sync(lambda: self.aspeech_to_text(*args, **kwargs))

    def browse_models(self, *args, **kwargs) -> BrowseResult:
        return self._sync(lambda: self.abrowse_models(*args, **kwargs))

    def select_model(self, *args, **kwargs) -> selection.Selection:
        return self._sync(lambda: self.aselect_model(*args, **kwargs))

    def get_available_models(self, *args, **kwargs) -> list[AvailableModel]:
        return self._sync(lambda: self.aget_available_models(*args, **kwargs))

    def validate_key(self, *args, **kwargs) -> KeyValidation:
        return self._sync(lambda: self.avalidate_key(*args, **kwargs))

    def stream_chat(self, *args, **kwargs) -> Iterator[str | StreamSummary]:
        """Sync generator over :meth:`astream_chat`, driven on a private event loop."""
        return self._sync_stream(self.astream_chat(*args, **kwargs))

    def stream_content(self, *args, **kwargs) -> Iterator[str | StreamSummary]:
        return self._sync_stream(self.astream_content(*args, **kwargs))

    def _sync_stream(self, stream: AsyncIterator[T]) -> Iterator[T]:
        loop = asyncio.new_event_loop()
        try:
            while True:
                try:
                    item = loop.run_until_complete(stream.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            loop.run_until_complete(stream.aclose())
            loop.run_until_complete(self.aflush())
            loop.run_until_complete(aclose_clients())
            loop.close()

