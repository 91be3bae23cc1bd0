"""Any other path under the API's mount: OpenAI's 404 body, never the console's HTML page."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from ..errors import NO_RETRY, APIError, error_response

ENDPOINTS = (
    ("GET", "models"),
    ("POST", "chat_completions"),
    ("POST", "images_generations"),
    ("POST", "audio_speech"),
    ("POST", "audio_transcriptions"),
    ("POST", "content_generations"),
)


@csrf_exempt
async def endpoint_not_found(request, rest: str = "") -> HttpResponse:
    served = ", ".join(f"{method} {reverse(f'aiadmin_api:{name}')}" for method, name in ENDPOINTS)
    response = error_response(
        APIError(
            404,
            f"There is no endpoint {request.method} {request.path[:200]}. This API serves: {served}.",
            code="unknown_endpoint",
            headers=dict(NO_RETRY),
        )
    )
    response._csp_exempt = response._csp_exempt_ro = True
    return response
