"""The load client of ``make bench-streams``: N streamed chats opened at once, each timed token
event by token event.

Each stream is one connection (``Connection: close``) read by an ``asyncio.Protocol``; the
HTTP response is parsed by httptools (chunked bodies decoded in C) and its body split into
lines. A token event's arrival time is when the socket read holding it arrives. Two shapes
of stream are read:

* ``console``: the chat playground's events, ``event: token`` per piece of text, ``event:
  done`` last;
* ``openai``: OpenAI's ``data: {...chat.completion.chunk...}`` lines, a token event per chunk
  whose delta carries non-empty content, ``data: [DONE]`` last.

Every read is bounded: a line longer than :data:`MAX_LINE` or a stream that has not ended
within ``timeout`` seconds counts as failed.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import httptools

MAX_LINE = 64 * 1024
# A delta with text: "content":"<at least one character>" (compact or spaced JSON).
_CONTENT = re.compile(rb'"content"\s*:\s*"[^"]')


@dataclass(slots=True)
class StreamRecord:
    started: float
    status: int | None = None
    tokens: int = 0
    first_token: float | None = None
    last_token: float | None = None
    largest_gap: float = 0.0
    finished: bool = False
    error: str | None = None
    ended: float | None = None


def _console_line(line: bytes) -> tuple[bool, bool]:
    """(is a token event, ends the stream) for one line of the console's stream."""
    if line.startswith(b"event: "):
        name = line[7:].rstrip(b"\r")
        return name == b"token", name == b"done"
    return False, False


def _openai_line(line: bytes) -> tuple[bool, bool]:
    """(is a token event, ends the stream) for one line of an OpenAI stream."""
    if line.startswith(b"data:"):
        data = line[5:].strip()
        if data == b"[DONE]":
            return False, True
        return _CONTENT.search(data) is not None, False
    return False, False


SHAPES = {"console": _console_line, "openai": _openai_line}


class StreamClient(asyncio.Protocol):
    def __init__(self, request: bytes, record: StreamRecord, closed: asyncio.Future, shape: str) -> None:
        self.request, self.record, self.closed = request, record, closed
        self.line_kind = SHAPES[shape]
        self.parser = httptools.HttpResponseParser(self)
        self.pending = b""
        self.now = 0.0
        self.transport: asyncio.Transport | None = None

    # ---------------------------------------------------------------- asyncio

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.now = time.perf_counter()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(f"bad HTTP: {error}")

    def connection_lost(self, exc) -> None:
        self.record.ended = time.perf_counter()
        if exc is not None and self.record.error is None and not self.record.finished:
            self.record.error = f"connection lost: {exc!r}"[:200]
        if not self.closed.done():
            self.closed.set_result(None)

    # ---------------------------------------------------------------- httptools

    def on_headers_complete(self) -> None:
        self.record.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        record = self.record
        if record.status != 200:
            if record.error is None:
                record.error = f"HTTP {record.status}: {body[:200]!r}"
            return
        lines = (self.pending + body).split(b"\n")
        self.pending = lines.pop()
        if len(self.pending) > MAX_LINE:
            self._fail("a line over 64 KiB")
            return
        for line in lines:
            token, done = self.line_kind(line)
            if token:
                record.tokens += 1
                if record.first_token is None:
                    record.first_token = self.now
                else:
                    record.largest_gap = max(record.largest_gap, self.now - record.last_token)
                record.last_token = self.now
            elif done:
                record.finished = True

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _fail(self, why: str) -> None:
        if self.record.error is None:
            self.record.error = why
        if self.transport is not None:
            self.transport.close()


async def one_stream(port: int, request: bytes, shape: str, timeout: float) -> StreamRecord:
    loop = asyncio.get_running_loop()
    record = StreamRecord(started=time.perf_counter())
    closed = loop.create_future()
    transport = None
    try:
        async with asyncio.timeout(timeout):
            transport, _ = await loop.create_connection(
                lambda: StreamClient(request, record, closed, shape), "127.0.0.1", port
            )
            await closed
    except TimeoutError:
        record.error = record.error or f"not ended in {timeout:.0f} s"
    except OSError as error:
        record.error = record.error or f"connect: {error!r}"[:200]
    finally:
        if transport is not None:
            transport.abort()
    if record.ended is None:
        record.ended = time.perf_counter()
    return record


def peak_overlap(records: list[StreamRecord]) -> int:
    """The most streams that were between their first token and their end at one moment."""
    edges = sorted(
        [(r.first_token, 1) for r in records if r.first_token and r.ended]
        + [(r.ended, -1) for r in records if r.first_token and r.ended]
    )
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def stalled(record: StreamRecord, limit: float) -> bool:
    return record.status != 200 or not record.finished or record.error is not None or record.largest_gap > limit


async def run_level(port: int, request: bytes, shape: str, concurrency: int, *, stall_limit: float,
                    timeout: float) -> dict:
    """``concurrency`` streams at once; the figures of the run (times in ms, a stream's length in s)."""
    started = time.perf_counter()
    records = await asyncio.gather(*(one_stream(port, request, shape, timeout) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    gaps = sorted(r.largest_gap for r in records if r.first_token)
    firsts = sorted(r.first_token - r.started for r in records if r.first_token)
    lengths = sorted(r.last_token - r.first_token for r in records if r.first_token and r.last_token)
    tokens = sorted(r.tokens for r in records)
    errors = [r.error for r in records if r.error]
    return {
        "streams": concurrency,
        "stalled": sum(1 for r in records if stalled(r, stall_limit)),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "peak_open": peak_overlap(records),
        "max_gap_ms": round(gaps[-1] * 1000, 1) if gaps else None,
        "p95_gap_ms": round(gaps[int(0.95 * (len(gaps) - 1))] * 1000, 1) if gaps else None,
        "p50_first_token_ms": round(firsts[len(firsts) // 2] * 1000, 1) if firsts else None,
        "p50_stream_s": round(lengths[len(lengths) // 2], 3) if lengths else None,
        "min_tokens": tokens[0] if tokens else 0,
        "seconds": round(elapsed, 3),
    }
