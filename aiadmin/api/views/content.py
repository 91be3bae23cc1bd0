"""``POST /v1/content/generations``, streamed or not (shapes: :mod:`aiadmin.api.content`)."""

from __future__ import annotations

from django.http import HttpResponse

from aiadmin.adapters.types import Usage
from aiadmin.unified import StreamSummary
from aiadmin.unified.content import article_parse

from ..body import json_body
from ..content import ContentBodies, content_params_read
from ..endpoint import api_endpoint
from ..model_ids import model_target, service
from ..responses import json_response
from ..sse import DONE, sse_data, sse_error, sse_response, stream_rest, stream_start


@api_endpoint("POST", capability="content")
async def content_generations(request, grant) -> HttpResponse:
    data = json_body(request)
    params = content_params_read(data)
    target = await model_target(grant=grant, capability="content", requested=data.get("model"))
    arguments = dict(
        word_count=params.word_count,
        tone=params.tone,
        keywords=params.keywords,
        language=params.language,
        provider_slug=target.provider_slug,
        model_id=target.model_id,
        via_token=grant,
    )
    bodies = ContentBodies(model=target.public_id)
    if not params.stream:
        reply = await service.agenerate_content(params.topic, grant.admin, **arguments)
        return json_response(bodies.whole(article=reply.article, usage=reply.usage))
    stream = service.astream_content(params.topic, grant.admin, **arguments)
    first = await stream_start(stream)
    return sse_response(_events(stream, first, bodies, params.keywords))


async def _events(stream, first, bodies: ContentBodies, keywords):
    """The article's pieces, then the whole article parsed."""
    parts: list[str] = []  # bounded: the service caps a stream's length (stream_limits)
    usage = Usage()
    async with stream_rest(stream, first) as items:
        try:
            async for item in items:
                if isinstance(item, StreamSummary):
                    usage = item.usage
                elif item:
                    parts.append(item)
                    yield sse_data(bodies.chunk(item))
        except Exception as err:  # after the status was sent: an error event, no [DONE]
            yield sse_error(err)
            return
    yield sse_data(bodies.whole(article=article_parse("".join(parts), keywords=keywords), usage=usage))
    yield DONE
