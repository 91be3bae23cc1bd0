"""Errors in OpenAI's body and with the statuses the official SDKs map.

``{"error": {"message", "type", "param", "code"}}``. The SDKs pick their exception by status
alone (400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
NotFoundError, 429 RateLimitError, 5xx InternalServerError), so the status is what matters
to a client; ``code`` says precisely what happened. Every aiadmin error kind is mapped here,
in one place. Messages are aiadmin's own, written for whoever reads the client's log; they
never carry a key or a token (``redact`` is a last guard) and never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse

from aiadmin.adapters.errors import AIAdminError, redact
from aiadmin.providers.usage import month_seconds_left

from .responses import json_response

# The SDKs retry 408/409/429/5xx unless told not to: a retry cannot help these.
NO_RETRY = {"x-should-retry": "false"}


class APIError(Exception):
    """An answer other than success, raised anywhere under a view and rendered by the
    endpoint wrapper."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}


def bad_request(message: str, *, param: str | None = None, code: str = "invalid_value") -> APIError:
    return APIError(400, message, param=param, code=code)


def error_body(*, message: str, type: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": redact(message), "type": type, "param": param, "code": code}}


def error_response(err: APIError) -> HttpResponse:
    response = json_response(error_body(message=err.message, type=err.type, code=err.code, param=err.param), status=err.status)
    for name, value in err.headers.items():
        response[name] = value
    return response


@dataclass(frozen=True, slots=True)
class _Mapped:
    status: int
    type: str
    code: str
    retry: bool = True  # may a client usefully retry it?


# The error tree's kinds (aiadmin/adapters/errors.py, unified/errors.py, providers/errors.py).
_BY_KIND: dict[str, _Mapped] = {
    "bad_request": _Mapped(400, "invalid_request_error", "invalid_request", retry=False),
    "unsupported": _Mapped(400, "invalid_request_error", "unsupported_operation", retry=False),
    "stream_limit": _Mapped(400, "invalid_request_error", "stream_limit_reached", retry=False),
    "scope": _Mapped(403, "permission_error", "outside_token_scope", retry=False),
    "no_access": _Mapped(403, "permission_error", "no_access", retry=False),
    "configuration": _Mapped(403, "permission_error", "provider_not_usable", retry=False),
    "adapter_missing": _Mapped(403, "permission_error", "provider_not_usable", retry=False),
    # The provider refused the organisation's key: the caller's token is fine, so not a 401.
    "auth": _Mapped(502, "api_error", "upstream_auth_failed", retry=False),
    "permission": _Mapped(403, "permission_error", "upstream_permission_denied", retry=False),
    "not_found": _Mapped(404, "invalid_request_error", "model_not_found", retry=False),
    "rate_limited": _Mapped(429, "rate_limit_error", "upstream_rate_limited"),
    "quota": _Mapped(429, "insufficient_quota", "upstream_quota_exceeded", retry=False),
    "limit": _Mapped(429, "insufficient_quota", "monthly_limit_reached", retry=False),
    "upstream": _Mapped(502, "api_error", "upstream_error"),
    "malformed": _Mapped(502, "api_error", "upstream_malformed_response"),
    "connection": _Mapped(503, "api_error", "upstream_unavailable"),
    "timeout": _Mapped(504, "api_error", "upstream_timeout"),
}
_FALLBACK = _Mapped(502, "api_error", "upstream_error")
# When a provider says "rate limited" without saying for how long.
DEFAULT_RETRY_AFTER_SECONDS = 5


def from_aiadmin_error(err: AIAdminError, *, retry_after: int | None = None) -> APIError:
    """The API's answer to an error of the service or a provider. ``retry_after``: seconds a
    caller must wait (the monthly limit: until the month rolls over)."""
    mapped = _BY_KIND.get(err.kind, _FALLBACK)
    if err.kind == "limit" and retry_after is None:
        retry_after = month_seconds_left()
    headers: dict[str, str] = {} if mapped.retry else dict(NO_RETRY)
    if mapped.status == 429:
        wait = retry_after if retry_after is not None else err.retry_after
        if wait is None and err.kind == "rate_limited":
            wait = DEFAULT_RETRY_AFTER_SECONDS
        if wait is not None:
            headers["Retry-After"] = str(max(1, int(-(-float(wait) // 1))))
    return APIError(mapped.status, str(err), type=mapped.type, code=mapped.code, headers=headers)
