"""Server-sent events for the streaming playgrounds.

``sse_stream`` turns a unified-service stream into ``token`` events, then one ``done`` event
(or ``error``). It owns the service iterator: whatever ends the response (the last chunk, an
error, the browser's Stop closing the connection, which cancels the task under ASGI) closes
it, so the upstream request is cancelled and the service records the turn as "cancelled".
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse

from aiadmin.adapters import safejson
from aiadmin.adapters.errors import AIAdminError, redact
from aiadmin.unified import StreamSummary
from aiadmin.unified.errors import StreamLimitError

from aiadmin.playground.picker import ChoiceError, choice_resolve

logger = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the server; the error was logged. Try again."
# The most answer text one playground stream keeps for its final rendering (Markdown to HTML,
# the article parse). The service caps streams too (AIADMIN["STREAM_MAX_CHARS"]), but a page
# must stay bounded whatever that setting is.
MAX_RENDERED_CHARS = 500_000


# One encoder for every event (json.dumps with options builds one per call). It never emits a
# raw newline, so one "data:" line always carries the payload.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def sse_event(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {_ENCODER.encode(data)}\n\n".encode()


def summary_metrics(summary: StreamSummary | None) -> dict[str, Any]:
    if summary is None:  # a stream that ended without its summary: report what is known
        return {"latency_ms": None, "ttft_ms": None, "input_tokens": None, "output_tokens": None, "cost": None, "remaining_quota": None}
    return {
        "provider": summary.info.provider_name,
        "model": summary.info.model,
        "latency_ms": summary.info.latency_ms,
        "ttft_ms": summary.time_to_first_token_ms,
        "input_tokens": summary.usage.input_tokens,
        "output_tokens": summary.usage.output_tokens,
        # A string keeps the Decimal exact; the browser only displays it.
        "cost": None if summary.info.cost is None else str(summary.info.cost),
        "remaining_quota": summary.info.remaining_quota,
    }


async def sse_stream(
    source: AsyncIterator[str | StreamSummary], finish: Callable[[str], Mapping[str, Any]]
) -> AsyncIterator[bytes]:
    """``finish(full_text)`` adds the page-specific fields (sanitized HTML...) to ``done``.
    An answer longer than :data:`MAX_RENDERED_CHARS` is stopped (its source closed, so the
    service records the turn as cancelled) with an ``error`` event."""
    parts: list[str] = []
    kept = 0
    summary: StreamSummary | None = None
    try:
        async with contextlib.aclosing(source) as stream:
            async for item in stream:
                if isinstance(item, StreamSummary):
                    summary = item
                elif item:
                    kept += len(item)
                    if kept > MAX_RENDERED_CHARS:
                        raise StreamLimitError(
                            f"The answer passed {MAX_RENDERED_CHARS:,} characters, the most the "
                            "playground shows, and was stopped."
                        )
                    parts.append(item)
                    yield sse_event("token", {"text": item})
        yield sse_event("done", {**summary_metrics(summary), **finish("".join(parts))})
    except AIAdminError as err:
        # Messages are written for the admin and carry no key; redact() is a last guard.
        yield sse_event("error", {"message": redact(str(err)), "kind": err.kind})
    except Exception:
        # Never a traceback in the page: the details go to the log.
        logger.exception("A playground stream failed")
        yield sse_event("error", {"message": UNEXPECTED, "kind": "error"})


def sse_response(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx and friends: pass each event straight on
    # No browser renders an event stream as a page: building the two policies for it is waste.
    response._csp_exempt = response._csp_exempt_ro = True
    return response


def invalid(message: str, *, field: str | None = None, status: int = 400) -> JsonResponse:
    """A refused request before any streaming starts; the page shows ``error`` by the field."""
    return JsonResponse({"error": message, "field": field}, status=status)


def payload_read(request) -> dict[str, Any]:
    """The posted values, from a JSON body (the playground scripts) or a form post."""
    if request.content_type == "application/json":
        try:
            data = safejson.loads(request.body or b"{}")
        except safejson.UnsafeJSONError as err:
            raise ValueError(f"The request body is not usable JSON: {err}.") from err
        if not isinstance(data, dict):
            raise ValueError("The request body must be a JSON object.")
        return data
    data = {key: request.POST.get(key) for key in request.POST}
    if isinstance(data.get("history"), str):  # a form post carries the history as JSON text
        try:
            data["history"] = safejson.loads(data["history"] or "[]")
        except safejson.UnsafeJSONError as err:
            raise ValueError(f"The conversation history is not usable JSON: {err}.") from err
    return data


def invalid_form(form) -> JsonResponse:
    """The first problem in a playground form, as one clear sentence for the page."""
    field, messages = next(iter(form.errors.items()))
    return invalid(str(messages[0]), field=None if field == "__all__" else field)


class Refused(Exception):
    """A streaming request answered before any streaming starts (``response`` says why)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def stream_request(request, *, form_class, capability: str) -> tuple[dict[str, Any], str, str]:
    """The checked values of a playground turn and the (provider, model) it may use; raises
    :class:`Refused` for a GET, unreadable input, a form error or a model not in the picker."""
    if request.method != "POST":
        raise Refused(HttpResponseNotAllowed(["POST"]))
    try:
        form = form_class(payload_read(request))
    except ValueError as err:
        raise Refused(invalid(str(err))) from err
    if not form.is_valid():
        raise Refused(invalid_form(form))
    try:
        provider_slug, model_id = await choice_resolve(form.cleaned_data["model"], capability, request.user)
    except ChoiceError as err:
        raise Refused(invalid(str(err), field="model")) from err
    return form.cleaned_data, provider_slug, model_id
