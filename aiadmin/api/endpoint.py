"""The wrapper every HTTP API view has: method, CORS, token, and errors as OpenAI's body.

A view is ``async def view(request, grant, ...)``: it runs only for an allowed method and a
valid token (``grant``) whose scope includes the endpoint's capability, and may raise :class:`~aiadmin.api.errors.APIError` or any
:class:`~aiadmin.adapters.errors.AIAdminError`; both become OpenAI's error body. Anything else
is logged and answered with a 500 that says nothing about the server.
"""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent

from aiadmin.adapters.errors import AIAdminError

from .auth import api_authenticate
from .cors import cors_apply, cors_preflight
from .errors import NO_RETRY, APIError, error_response, from_aiadmin_error

logger = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the server; the error was logged. Try again."


def api_endpoint(*methods: str, capability: str | None = None):
    """``capability``: the one the endpoint uses; a token scoped to others gets a 403 before
    the request is read."""

    def decorate(view):
        @functools.wraps(view)
        async def wrapper(request, *args, **kwargs):
            if request.method == "OPTIONS":
                return cors_preflight(request, methods)
            try:
                if request.method not in methods:
                    raise APIError(
                        405, f"{request.path} takes {' or '.join(methods)} requests.", code="method_not_allowed",
                        headers={"Allow": ", ".join(methods), **NO_RETRY},
                    )
                grant = await api_authenticate(request)
                if capability is not None and not grant.allows_capability(capability):
                    raise APIError(
                        403, f"This API token may not use {capability}.", type="permission_error",
                        code="outside_token_scope", headers=dict(NO_RETRY),
                    )
                response = await view(request, grant, *args, **kwargs)
            except APIError as err:
                response = error_response(err)
            except AIAdminError as err:
                response = error_response(from_aiadmin_error(err))
            except (RequestDataTooBig, TooManyFieldsSent):
                response = error_response(
                    APIError(413, "The request body is too large.", code="request_too_large", headers=dict(NO_RETRY))
                )
            except Exception:
                logger.exception("An HTTP API call failed: %s %s", request.method, request.path)
                response = error_response(APIError(500, UNEXPECTED, type="server_error", code="internal_error"))
            response.setdefault("Cache-Control", "no-store")
            # JSON and event streams are not documents: a Content-Security-Policy governs nothing.
            response._csp_exempt = response._csp_exempt_ro = True
            return cors_apply(request, response)

        wrapper.csrf_exempt = True  # token auth only: no cookie makes a call, so no CSRF
        return wrapper

    return decorate
