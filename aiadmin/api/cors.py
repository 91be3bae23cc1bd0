"""CORS for the HTTP API: off unless ``AIADMIN["API_CORS_ORIGINS"]`` names origins.

Only what a browser app calling the API needs: a preflight answered for a listed origin, and
``Access-Control-Allow-Origin`` on the answers. Credentials are never allowed (the API takes
tokens, not cookies).
"""

from __future__ import annotations

from django.http import HttpResponse

from aiadmin.conf import aiadmin_settings

ALLOWED_HEADERS = "authorization, content-type, openai-organization, openai-project, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout, x-stainless-async"
PREFLIGHT_MAX_AGE = 600


def cors_origin(request) -> str | None:
    """The value of ``Access-Control-Allow-Origin`` for this request, or None (no CORS)."""
    origins = aiadmin_settings.API_CORS_ORIGINS
    origin = request.headers.get("Origin")
    if not origins or not origin:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def cors_preflight(request, methods: tuple[str, ...]) -> HttpResponse:
    response = HttpResponse(status=204)
    origin = cors_origin(request)
    if origin is not None:
        response["Access-Control-Allow-Methods"] = ", ".join((*methods, "OPTIONS"))
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return cors_apply(request, response, origin=origin)


def cors_apply(request, response, *, origin: str | None = None):
    origin = origin if origin is not None else cors_origin(request)
    if origin is not None:
        response["Access-Control-Allow-Origin"] = origin
        if origin != "*":
            response["Vary"] = "Origin"
    return response
