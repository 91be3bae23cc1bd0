"""Server-sent events as OpenAI streams them: ``data: <json>`` lines, ``data: [DONE]`` last.

An error after the stream has started cannot change the status any more: it is sent as
``data: {"error": {...}}`` (the official SDKs raise it as an APIError) and the stream ends
without ``[DONE]``, so no client takes a cut answer for a whole one.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from django.http import StreamingHttpResponse

from aiadmin.adapters.errors import AIAdminError

from .errors import error_body, from_aiadmin_error

logger = logging.getLogger(__name__)

T = TypeVar("T")
DONE = b"data: [DONE]\n\n"
UNEXPECTED = "Something went wrong on the server; the error was logged."


# One encoder for every event (json.dumps with options builds one per call). It never emits a
# raw newline: one "data:" line carries the payload.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def sse_data(payload: dict[str, Any]) -> bytes:
    return b"data: " + _ENCODER.encode(payload).encode() + b"\n\n"


def sse_error(err: BaseException) -> bytes:
    if isinstance(err, AIAdminError):
        mapped = from_aiadmin_error(err)
        return sse_data(error_body(message=mapped.message, type=mapped.type, code=mapped.code))
    logger.error("An HTTP API stream failed", exc_info=err)
    return sse_data(error_body(message=UNEXPECTED, type="server_error", code="internal_error"))


def sse_response(events) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies: pass each event straight on
    return response


async def stream_start(stream: AsyncIterator[T]) -> T | None:
    """The first item of a service stream (None when it ends at once), asked for before the
    answer starts: the call is planned (key, limit) then, so a refusal still gets its own
    status, not a 200 with an error inside. The stream is closed if this fails."""
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None
    except BaseException:
        await stream.aclose()
        raise


@contextlib.asynccontextmanager
async def stream_rest(stream: AsyncIterator[T], first: T | None):
    """``first`` and then the rest of ``stream``; the stream is closed however the block
    ends (the client going away cancels the task iterating here, which closes the upstream
    call, recorded as cancelled)."""

    async def items() -> AsyncIterator[T]:
        item = first
        while item is not None:
            yield item
            item = await anext(stream, None)

    async with contextlib.aclosing(stream), contextlib.aclosing(items()) as rest:
        yield rest
