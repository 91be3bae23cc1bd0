"""``POST /v1/chat/completions``, streamed or not."""

from __future__ import annotations

from django.http import HttpResponse

from aiadmin.unified import StreamSummary

from ..body import json_body
from ..chat import ChunkMaker, chat_params_read, completion_body, completion_id, finish_reason
from ..endpoint import api_endpoint
from ..model_ids import model_target, service
from ..responses import json_response
from ..sse import DONE, sse_data, sse_error, sse_response, stream_rest, stream_start


@api_endpoint("POST", capability="chat")
async def chat_completions(request, grant) -> HttpResponse:
    data = json_body(request)
    params = chat_params_read(data)
    target = await model_target(grant=grant, capability="chat", requested=data.get("model"))
    arguments = dict(
        conversation_history=params.history,
        provider_slug=target.provider_slug,
        model_id=target.model_id,
        temperature=params.temperature,
        max_tokens=params.max_tokens,
        stop=params.stop,
        via_token=grant,
    )
    if not params.stream:
        reply = await service.achat(params.message, grant.admin, **arguments)
        return json_response(
            completion_body(
                id=completion_id(), model=target.public_id, text=reply.text, usage=reply.usage, reason=reply.finish_reason
            )
        )
    stream = service.astream_chat(params.message, grant.admin, **arguments)
    first = await stream_start(stream)
    return sse_response(_events(stream, first, ChunkMaker(model=target.public_id, include_usage=params.include_usage)))


async def _events(stream, first, chunks: ChunkMaker):
    summary = None
    async with stream_rest(stream, first) as items:
        try:
            yield sse_data(chunks.delta({"role": "assistant", "content": ""}))
            async for item in items:
                if isinstance(item, StreamSummary):
                    summary = item
                elif item:
                    yield sse_data(chunks.delta({"content": item}))
        except Exception as err:  # after the status was sent: an error event, no [DONE]
            yield sse_error(err)
            return
    yield sse_data(chunks.delta({}, reason=finish_reason(summary.finish_reason if summary else None)))
    if chunks.include_usage and summary is not None:
        yield sse_data(chunks.usage(summary.usage))
    yield DONE
