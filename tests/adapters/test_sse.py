"""The shared SSE reader: WHATWG parsing, stalls, errors under HTTP 200, early ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from aiadmin.adapters.errors import (
    MalformedResponseError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    UpstreamError,
)
from aiadmin.adapters.sse import (
    SSEDecoder,
    SSEEvent,
    StreamEndedEarly,
    aiter_sse,
    event_payload,
    is_done,
)

CANARY = "sk-canary-0123456789abcdef"


def decode_all(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def sse_response(*chunks: bytes, content_type: str = "text/event-stream") -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return httpx.Response(200, headers={"content-type": content_type}, content=body())


async def collect(response: httpx.Response, **kwargs) -> tuple[list[SSEEvent], bool | None]:
    stream = aiter_sse(response, idle_timeout=kwargs.pop("idle_timeout", 5.0), **kwargs)
    events = [event async for event in stream]
    return events, stream.ended_cleanly


# --- Parsing -------------------------------------------------------------------------------


def test_simple_data_event_is_dispatched_on_blank_line():
    assert decode_all(b"data: hello\n\n") == [SSEEvent(data="hello")]


def test_comment_lines_are_ignored():
    events = decode_all(b": OPENROUTER PROCESSING\n\n: another\ndata: x\n\n")
    assert events == [SSEEvent(data="x")]


def test_multi_line_data_is_joined_with_newlines():
    assert decode_all(b"data: one\ndata: two\ndata:\ndata: three\n\n") == [
        SSEEvent(data="one\ntwo\n\nthree")
    ]


def test_only_one_leading_space_after_the_colon_is_stripped():
    assert decode_all(b"data:  two spaces\ndata:none\n\n") == [SSEEvent(data=" two spaces\nnone")]


def test_event_type_id_and_retry_fields_are_read():
    events = decode_all(b"event: message_start\nid: 7\nretry: 1500\ndata: {}\n\ndata: next\n\n")
    assert events == [
        SSEEvent(event="message_start", data="{}", id="7", retry=1500),
        SSEEvent(data="next", id="7"),  # the last event id persists; the type resets
    ]


def test_non_numeric_retry_and_unknown_fields_are_ignored():
    assert decode_all(b"retry: soon\nfoo: bar\ndata: x\n\n") == [SSEEvent(data="x")]


def test_field_without_colon_counts_as_empty_value():
    assert decode_all(b"data\n\n") == [SSEEvent(data="")]


def test_events_without_data_lines_are_not_dispatched():
    assert decode_all(b"event: ping\n\nid: 3\n\ndata: real\n\n") == [SSEEvent(data="real", id="3")]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_style_is_accepted(ending):
    stream = b"data: a" + ending + b"data: b" + ending + ending + b"data: c" + ending + ending
    assert decode_all(stream) == [SSEEvent(data="a\nb"), SSEEvent(data="c")]


def test_cr_and_lf_split_across_chunks_are_one_line_ending():
    # If the LF were a second line ending, the blank line would dispatch "a" early.
    events = decode_all(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n")
    assert events == [SSEEvent(data="a\nb")]


def test_cr_at_chunk_end_followed_by_empty_chunk_then_lf():
    assert decode_all(b"data: a\r", b"", b"\n\r\n") == [SSEEvent(data="a")]


def test_leading_bom_is_ignored_even_when_split():
    assert decode_all(b"\xef\xbb", b"\xbfdata: x\n\n") == [SSEEvent(data="x")]


def test_only_the_first_bom_is_stripped():
    assert decode_all("\ufeffdata: \ufeffx\n\n".encode()) == [SSEEvent(data="\ufeffx")]


SAMPLE_STREAM = (
    ": OPENROUTER PROCESSING\r\n\r\n"
    'data: {"text": "héllo 👋"}\r\n\r\n'
    "event: delta\ndata: ünïcödé\ndata: 日本語 🎉\n\n"
    "data: crlf and cr\r\r"
    "data: [DONE]\n\n"
).encode()


def test_every_chunk_boundary_gives_identical_events():
    expected = decode_all(SAMPLE_STREAM)
    assert expected == [
        SSEEvent(data='{"text": "héllo 👋"}'),
        SSEEvent(event="delta", data="ünïcödé\n日本語 🎉"),
        SSEEvent(data="crlf and cr"),
        SSEEvent(data="[DONE]"),
    ]
    for cut in range(len(SAMPLE_STREAM) + 1):
        assert decode_all(SAMPLE_STREAM[:cut], SAMPLE_STREAM[cut:]) == expected, cut


def test_byte_by_byte_feeding_gives_identical_events():
    chunks = [SAMPLE_STREAM[i : i + 1] for i in range(len(SAMPLE_STREAM))]
    assert decode_all(*chunks) == decode_all(SAMPLE_STREAM)


def test_unterminated_final_event_is_not_dispatched_and_stream_is_not_clean():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: half") == [SSEEvent(data="one")]
    assert decoder.flush() == []
    assert decoder.ended_cleanly is False


def test_final_event_without_blank_line_is_not_dispatched():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n") == []
    assert decoder.flush() == []
    assert decoder.ended_cleanly is False


def test_stream_ending_on_event_boundary_is_clean():
    decoder = SSEDecoder()
    decoder.feed(b"data: one\r\n\r")
    decoder.flush()
    assert decoder.ended_cleanly is True


def test_oversized_event_is_reported_as_malformed():
    decoder = SSEDecoder(max_event_chars=100)
    with pytest.raises(MalformedResponseError):
        decoder.feed(b"data: " + b"x" * 200)


# --- Helpers ---------------------------------------------------------------------------------


def test_is_done_recognises_openai_terminator():
    assert is_done(SSEEvent(data="[DONE]"))
    assert not is_done(SSEEvent(data='{"choices": []}'))


def error_from_event(event: SSEEvent, *, provider: str, secrets: tuple[str, ...] = ()):
    """What event_payload raises for ``event``, or None when it returns the payload."""
    try:
        event_payload(event, provider=provider, secrets=secrets)
    except Exception as err:  # noqa: BLE001 - the test inspects it
        return err
    return None


def test_event_payload_parses_once_and_raises_malformed_on_bad_json():
    assert event_payload(SSEEvent(data='{"a": 1}'), provider="P") == {"a": 1}
    with pytest.raises(MalformedResponseError):
        event_payload(SSEEvent(data="{nope"), provider="P")


def test_normal_chunks_are_not_errors():
    assert error_from_event(SSEEvent(data='{"choices": [{"delta": {"content": "hi"}}]}'), provider="P") is None
    assert error_from_event(SSEEvent(data='{"error": null, "choices": []}'), provider="P") is None


def test_openai_style_error_object_under_200_becomes_mapped_error():
    event = SSEEvent(data='{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}')
    error = error_from_event(event, provider="OpenAI")
    assert isinstance(error, RateLimitedError)
    assert "Rate limit reached" in error.message
    assert error.provider == "OpenAI"


def test_openrouter_numeric_code_error_under_200_becomes_upstream_error():
    event = SSEEvent(data='{"id": "gen-1", "error": {"code": 502, "message": "Provider returned error"}, "choices": []}')
    assert isinstance(error_from_event(event, provider="OpenRouter"), UpstreamError)


def test_openai_insufficient_quota_under_200_is_quota_error():
    event = SSEEvent(data='{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}')
    assert isinstance(error_from_event(event, provider="OpenAI"), QuotaExceededError)


def test_anthropic_error_event_becomes_mapped_error():
    event = SSEEvent(
        event="error",
        data='{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
    )
    error = error_from_event(event, provider="Anthropic")
    assert isinstance(error, UpstreamError)
    assert "Overloaded" in error.message


def test_error_event_with_non_json_data_is_still_an_error():
    error = error_from_event(SSEEvent(event="error", data="boom"), provider="P")
    assert isinstance(error, UpstreamError)
    assert "boom" in error.message


def test_error_event_never_echoes_the_key():
    event = SSEEvent(data='{"error": {"message": "bad key ' + CANARY + '", "type": "invalid_request_error", "code": "invalid_api_key"}}')
    error = error_from_event(event, provider="P", secrets=(CANARY,))
    assert error is not None
    assert CANARY not in str(error)
    assert "canary" not in str(error)


# --- aiter_sse over a response ----------------------------------------------------------------


async def test_aiter_sse_yields_events_and_reports_clean_end():
    events, clean = await collect(sse_response(b"data: a\n", b"\ndata: [DONE]\n\n"))
    assert [event.data for event in events] == ["a", "[DONE]"]
    assert clean is True


async def test_aiter_sse_reports_unclean_end_when_final_event_is_unterminated():
    events, clean = await collect(sse_response(b"data: a\n\ndata: b"))
    assert [event.data for event in events] == ["a"]
    assert clean is False


async def test_stream_that_ends_early_is_reported_as_failed_turn():
    """The adapter pattern: no terminal event means StreamEndedEarly, not a short answer."""

    async def read_turn(response: httpx.Response) -> list[str]:
        texts: list[str] = []
        async with aiter_sse(response, idle_timeout=5.0, provider="P") as events:
            async for event in events:
                if is_done(event):
                    break
                texts.append(event_payload(event, provider="P")["t"])
            else:
                raise StreamEndedEarly(provider="P")
        return texts

    assert await read_turn(sse_response(b'data: {"t": "x"}\n\ndata: [DONE]\n\n')) == ["x"]
    with pytest.raises(StreamEndedEarly) as excinfo:
        await read_turn(sse_response(b'data: {"t": "x"}\n\n'))
    assert isinstance(excinfo.value, MalformedResponseError)
    assert "closed the stream before the answer finished" in str(excinfo.value)


async def test_stall_past_idle_timeout_raises_provider_timeout():
    async def stalling() -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        await asyncio.sleep(10)
        yield b"data: never\n\n"

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stalling())
    seen: list[str] = []
    with pytest.raises(ProviderTimeoutError) as excinfo:
        async for event in aiter_sse(response, idle_timeout=0.05, provider="Slow"):
            seen.append(event.data)
    assert seen == ["first"]
    assert "stalled" in str(excinfo.value)
    assert excinfo.value.provider == "Slow"


async def test_keepalive_comments_reset_the_idle_timer():
    async def slow_but_alive() -> AsyncIterator[bytes]:
        for _ in range(4):
            await asyncio.sleep(0.03)
            yield b": keep-alive\n\n"
        yield b"data: done\n\n"

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=slow_but_alive())
    events, clean = await collect(response, idle_timeout=0.1)
    assert [event.data for event in events] == ["done"]
    assert clean is True


async def test_connection_dropped_mid_body_is_stream_ended_early():
    async def dropping() -> AsyncIterator[bytes]:
        yield b"data: a\n\n"
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=dropping())
    with pytest.raises(StreamEndedEarly):
        await collect(response)


async def test_json_error_body_under_200_is_raised_as_mapped_error():
    response = sse_response(
        b'{"error": {"message": "Insufficient credits", "code": 402}}', content_type="application/json"
    )
    with pytest.raises(QuotaExceededError):
        await collect(response, provider="OpenRouter")


async def test_json_body_instead_of_stream_is_malformed():
    response = sse_response(b'{"choices": []}', content_type="application/json")
    with pytest.raises(MalformedResponseError, match="instead of an event stream"):
        await collect(response)


async def test_aiter_sse_works_with_real_client_and_mock_transport():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=SAMPLE_STREAM)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        async with client.stream("POST", "https://api.example.com/v1/chat/completions") as response:
            events, clean = await collect(response)
    assert events == decode_all(SAMPLE_STREAM)
    assert clean is True


async def test_drain_reads_the_tail_after_the_end_event_so_the_connection_can_be_reused():
    response = sse_response(b"data: a\n\n", b"data: [DONE]\n\n", b": trailing comment\n\n")
    async with aiter_sse(response, idle_timeout=1) as events:
        async for event in events:
            if is_done(event):
                await events.drain()
                break
    assert response.is_stream_consumed  # the whole body was read: httpx can pool the socket


def test_a_long_line_in_small_chunks_costs_linear_time():
    # The pending line used to be re-joined with every chunk: 8 MB in 1 KB chunks copied
    # about 32 GB (36 s of CPU for 16 MB in 4 KB chunks). Now each byte is copied a few times.
    import time

    decoder = SSEDecoder()
    decoder.feed(b"data: ")
    chunk = b"x" * 1024
    started = time.process_time()
    for _ in range(8 * 1024):
        assert decoder.feed(chunk) == []
    (event,) = decoder.feed(b"\n\n")
    assert len(event.data) == 8 * 1024 * 1024
    assert time.process_time() - started < 3  # about 0.15 s; the quadratic version took over 30 s

