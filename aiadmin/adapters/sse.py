"""The one Server-Sent Events reader every streaming adapter uses (no Django here).

Parsing follows the WHATWG EventSource rules: LF, CRLF and CR line endings (a CR and LF split
across two chunks are one line ending), one leading BOM ignored, ``:`` comment lines ignored
(``: OPENROUTER PROCESSING``), multi-line ``data`` joined with ``\\n``, one space after the
colon stripped, an event dispatched on a blank line and only if it had data, and an unfinished
event at the end of the stream discarded.

How an adapter reads a stream (the request's headers go through :func:`event_stream_headers`,
so every streamed request says it reads ``text/event-stream``)::

    request = client.build_request(..., headers=event_stream_headers(headers))
    response = await send_with_retries(lambda: client.send(request, stream=True), ...)
    try:
        async with aiter_sse(response, idle_timeout=shared_client.STREAM_IDLE_TIMEOUT,
                             provider=name, secrets=(key,)) as events:
            async for event in events:
                if is_done(event):          # OpenAI-style terminator
                    break
                # The event's JSON, parsed once; raises the error the event carries.
                payload = event_payload(event, provider=name, secrets=(key,))
                ...                          # Anthropic: stop at event.event == "message_stop"
            else:
                # The loop ran out without the terminal event: a failed turn, not an answer.
                raise StreamEndedEarly(provider=name)
    finally:
        await response.aclose()

``events.ended_cleanly`` tells, once the stream is exhausted, whether it ended on an event
boundary (``False`` when bytes of an unfinished event were discarded).
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from .bodies import read_body_capped
from .content_coding import aiter_body
from .error_mapping import error_from_response, exception_from_transport_error
from .errors import AIAdminError, MalformedResponseError, ProviderTimeoutError
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads
from .waits import WaitBound

# One event bigger than this is treated as a broken stream rather than buffered forever.
# Generous because Gemini can inline base64 images in a streamed chunk.
MAX_EVENT_CHARS = 64 * 1024 * 1024

DONE_SENTINEL = "[DONE]"

EVENT_STREAM = "text/event-stream"


def event_stream_headers(headers: Any) -> httpx.Headers:
    """``headers`` for a streamed request, with ``Accept: text/event-stream``.

    The streamed answer's media type (OpenAI's OpenAPI spec, ``api_reference/openapi.transformed.yml``
    in openai-python: createChatCompletion answers ``text/event-stream`` when ``stream`` is true;
    google-genai's streamed calls send ``accept_header_value="text/event-stream"``): servers and
    proxies that negotiate on Accept then stream instead of buffering. It replaces any Accept a
    provider's ``extra_headers`` carry, whatever its spelling.
    """
    merged = httpx.Headers(headers)
    merged["accept"] = EVENT_STREAM
    return merged

_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class SSEEvent:
    event: str = "message"
    data: str
    # The last event id seen on the stream so far (ids persist across events, per the spec).
    id: str | None = None
    # The reconnection time sent in this event's block, if any.
    retry: int | None = None


class StreamEndedEarly(MalformedResponseError):
    """The stream closed before its terminal event: report the turn as failed."""

    default_message = "The provider closed the stream before the answer finished."


class SSEDecoder:
    """Incremental SSE parser: ``feed(bytes)`` returns the events completed by that chunk."""

    def __init__(self, *, max_event_chars: int = MAX_EVENT_CHARS) -> None:
        # utf-8-sig drops one leading BOM even when its bytes are split across chunks, and
        # the incremental decoder keeps a multi-byte character split across chunks whole.
        self._text_decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._max_event_chars = max_event_chars
        # The unfinished last line, kept as pieces: joining on every chunk would copy a long
        # line again for each chunk (quadratic: 36 s of CPU for one 16 MB line in 4 KB chunks).
        self._partial_parts: list[str] = []
        self._partial_chars = 0
        # The previous chunk ended in CR: an LF at the start of the next is part of that ending.
        self._skip_leading_lf = False
        self._data_lines: list[str] = []
        self._data_chars = 0
        self._event_type = ""
        self._event_retry: int | None = None
        self._last_event_id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._feed_text(self._text_decoder.decode(chunk))

    def flush(self) -> list[SSEEvent]:
        """End of stream: decode leftover bytes; an unfinished event is discarded, so this
        returns no event unless leftover bytes complete a line ending (they cannot)."""
        return self._feed_text(self._text_decoder.decode(b"", final=True))

    @property
    def ended_cleanly(self) -> bool:
        """True when nothing was left over: no partial line and no undispatched event."""
        pending = self._partial_parts or self._data_lines or self._event_type
        return not pending and self._event_retry is None

    def _feed_text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if self._skip_leading_lf:
            self._skip_leading_lf = False
            if text.startswith("\n"):
                text = text[1:]
        events: list[SSEEvent] = []
        line_start = 0
        # Only the new text is searched: the pending pieces hold no line end.
        for match in _LINE_END.finditer(text):
            if match.group() == "\r" and match.end() == len(text):
                self._skip_leading_lf = True
            line = text[line_start : match.start()]
            if self._partial_parts:
                line = "".join(self._partial_parts) + line
                self._partial_parts, self._partial_chars = [], 0
            event = self._process_line(line)
            if event is not None:
                events.append(event)
            line_start = match.end()
        if line_start < len(text):
            self._partial_parts.append(text[line_start:])
            self._partial_chars += len(text) - line_start
        if self._partial_chars + self._data_chars > self._max_event_chars:
            raise MalformedResponseError("The provider sent a stream event that is too large.")
        return events

    def _process_line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment / keep-alive
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data_lines.append(value)
            self._data_chars += len(value) + 1
        elif field == "event":
            self._event_type = value
        elif field == "id":
            if "\0" not in value:
                self._last_event_id = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self._event_retry = self.retry = int(value)
        # Any other field name is ignored, as the spec says.
        return None

    def _dispatch(self) -> SSEEvent | None:
        data_lines, event_type, retry = self._data_lines, self._event_type, self._event_retry
        self._data_lines, self._data_chars, self._event_type, self._event_retry = [], 0, "", None
        if not data_lines:
            return None
        return SSEEvent(
            event=event_type or "message",
            data="\n".join(data_lines),
            id=self._last_event_id,
            retry=retry,
        )


# How long to wait for the tail of a stream after its end-of-answer event.
DRAIN_TIMEOUT = 0.5


class SSEStream:
    """Async iterator of :class:`SSEEvent` over an open ``httpx.Response``.

    Raises :class:`ProviderTimeoutError` when no byte arrives for ``idle_timeout`` seconds,
    maps httpx read errors to the error tree, and sets :attr:`ended_cleanly` when the body is
    exhausted. Use as ``async with`` (or call :meth:`aclose`) to release the byte iterator
    deterministically when stopping early; the response itself stays the caller's to close.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        idle_timeout: float,
        provider: str | None = None,
        secrets: Iterable[str | None] = (),
        decoder: SSEDecoder | None = None,
    ) -> None:
        self._response = response
        self._idle_timeout = idle_timeout
        self._provider = provider
        self._secrets = tuple(secrets)
        self._decoder = decoder or SSEDecoder()
        # None until the body is exhausted, then whether it ended on an event boundary.
        self.ended_cleanly: bool | None = None
        self._events = self._generate()

    def __aiter__(self) -> AsyncIterator[SSEEvent]:
        # The generator itself: ``async for`` then skips :meth:`__anext__`'s extra step per event.
        return self._events

    async def __anext__(self) -> SSEEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()

    async def drain(self) -> None:
        """Read what is left after the provider's end-of-answer event (usually just the end of
        the chunked body), so the connection goes back to the pool instead of being dropped:
        reconnecting costs a millisecond or more on every streamed turn."""
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                async for _ in self._events:
                    pass
        except (TimeoutError, AIAdminError, httpx.HTTPError):
            pass  # the answer is complete; a connection we cannot reuse is simply closed

    async def __aenter__(self) -> SSEStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _generate(self) -> AsyncIterator[SSEEvent]:
        await self._reject_json_body()
        # Decoded in bounded pieces: a compressed stream cannot inflate past the caps in one step.
        byte_iterator = aiter_body(self._response, provider=self._provider)
        idle = WaitBound(self._idle_timeout, idle=True)
        try:
            while True:
                chunk = await self._next_chunk(byte_iterator, idle)
                if chunk is None:
                    break
                for event in self._decode(chunk):
                    yield event
        finally:
            idle.close()
            await byte_iterator.aclose()  # type: ignore[attr-defined]
        for event in self._decoder.flush():
            yield event
        self.ended_cleanly = self._decoder.ended_cleanly

    async def _next_chunk(self, byte_iterator: AsyncIterator[bytes], idle: WaitBound) -> bytes | None:
        try:
            with idle:
                return await anext(byte_iterator)
        except StopAsyncIteration:
            return None
        except TimeoutError as err:
            raise ProviderTimeoutError(
                f"The stream stalled: no data arrived for {self._idle_timeout:g} seconds.",
                provider=self._provider,
            ) from err
        except httpx.RemoteProtocolError as err:
            # The server dropped the connection mid-body (e.g. an incomplete chunked message).
            raise StreamEndedEarly(provider=self._provider) from err
        except httpx.HTTPError as err:
            raise exception_from_transport_error(
                err, provider=self._provider, secrets=self._secrets
            ) from err

    def _decode(self, chunk: bytes) -> list[SSEEvent]:
        try:
            return self._decoder.feed(chunk)
        except AIAdminError as err:
            err.provider = err.provider or self._provider
            raise

    async def _reject_json_body(self) -> None:
        # A provider that does not stream (or fails) may answer a stream request with plain
        # JSON under HTTP 200; read as SSE that would look like an empty stream.
        content_type = self._response.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            return
        body = await read_body_capped(self._response)
        error = error_from_body(body, provider=self._provider, secrets=self._secrets)
        if error is not None:
            raise error
        raise MalformedResponseError(
            "The provider answered with JSON instead of an event stream; it may not support "
            "streaming for this model.",
            provider=self._provider,
        )


def aiter_sse(
    response: httpx.Response,
    *,
    idle_timeout: float,
    provider: str | None = None,
    secrets: Iterable[str | None] = (),
) -> SSEStream:
    """Iterate the SSE events of an open streamed response (see :class:`SSEStream`)."""
    return SSEStream(response, idle_timeout=idle_timeout, provider=provider, secrets=secrets)


def is_done(event: SSEEvent) -> bool:
    """OpenAI-style end of stream: ``data: [DONE]``."""
    return event.data.strip() == DONE_SENTINEL


def error_from_body(
    body: bytes | str | Any, *, provider: str | None, secrets: Iterable[str | None] = ()
) -> AIAdminError | None:
    """The error in a 200 body or event data, or ``None`` when it is not an error object."""
    payload = body
    if isinstance(body, (bytes, str)):
        try:
            payload = json_loads(body)
        except UnsafeJSONError:
            return None
    if isinstance(payload, list):  # Gemini wraps stream errors in a list
        payload = next((item for item in payload if isinstance(item, dict)), None)
    if not isinstance(payload, dict):
        return None
    if not (payload.get("error") or payload.get("type") == "error"):
        return None
    return error_from_response(200, payload, None, provider=provider, secrets=secrets)


def event_payload(event: SSEEvent, *, provider: str | None, secrets: Iterable[str | None] = ()) -> Any:
    """The event's data as JSON, parsed once, or the error it carries raised: an
    ``{"error": {...}}`` object under HTTP 200 (OpenAI, OpenRouter, Gemini, HF) or Anthropic's
    ``event: error`` (whose data counts as an error even when it is not JSON). Data that is not
    JSON otherwise raises :class:`MalformedResponseError`."""
    try:
        payload = json_loads(event.data)
    except UnsafeJSONError as err:
        if event.event == "error":
            raise error_from_response(200, event.data, None, provider=provider, secrets=secrets) from None
        raise MalformedResponseError(
            f"The provider sent a stream event that is unusable JSON: {err}.", provider=provider
        ) from err
    error = error_from_body(payload, provider=provider, secrets=secrets)
    if error is None and event.event == "error":
        error = error_from_response(200, event.data, None, provider=provider, secrets=secrets)
    if error is not None:
        raise error
    return payload
