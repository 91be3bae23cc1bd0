"""``POST /v1/images/generations``."""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.http import HttpResponse

from aiadmin.playground.services import images_store

from ..body import json_body
from ..endpoint import api_endpoint
from ..errors import NO_RETRY, APIError
from ..images import image_params_read, image_urls, image_urls_check, images_body, images_size_check
from ..model_ids import model_target, service
from ..responses import json_response

logger = logging.getLogger(__name__)


@api_endpoint("POST", capability="image")
async def images_generations(request, grant) -> HttpResponse:
    data = json_body(request)
    params = image_params_read(data)
    target = await model_target(grant=grant, capability="image", requested=data.get("model"))
    if params.response_format == "url":
        await sync_to_async(image_urls_check)()
    reply = await service.agenerate_image(
        params.prompt,
        grant.admin,
        size=params.size,
        quality=params.quality,
        n=params.n,
        provider_slug=target.provider_slug,
        model_id=target.model_id,
        via_token=grant,
    )
    images_size_check(reply.images)
    urls = None
    if params.response_format == "url":
        # SQLite takes one writer at a time: let this call's ledger row (queued by the
        # service, written by another thread) go first instead of contending with it.
        await service.aflush()
        try:
            urls = await sync_to_async(_stored_urls)(grant.admin, reply, params)
        except Exception:  # whatever the storage backend raises (OSError, an S3 client error...)
            logger.exception("Could not store images generated through the HTTP API")
            raise APIError(
                503, "The images were generated but could not be stored, so there is no URL for them. "
                "Ask for “b64_json”, or try again later.",
                type="api_error", code="storage_unavailable", headers=dict(NO_RETRY),
            ) from None
    return json_response(images_body(images=reply.images, urls=urls))


def _stored_urls(admin, reply, params) -> list[str]:
    rows = images_store(admin=admin, info=reply.info, images=reply.images, prompt=params.prompt, size=params.size)
    return image_urls(rows)
