"""Status codes, provider error bodies and transport exceptions -> the error tree (no Django).

The one place an HTTP status is mapped: :func:`error_from_response` turns a status and a
provider's error body (also an error object inside a 200 stream) into an
:class:`~.errors.AIAdminError` subclass with a message for the admin;
:func:`exception_from_transport_error` does the same for httpx exceptions (``raise mapped
from err``). Provider text is redacted (the secrets passed plus anything key-shaped) and
truncated before it reaches a message.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import (
    AIAdminError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    UpstreamError,
    redact,
)
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads

PROVIDER_MESSAGE_MAX_CHARS = 300


_GOOGLE_STATUS_CODES: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

# Error "type"/"code" strings of OpenAI, Anthropic and HF TGI, for errors that arrive without
# a meaningful HTTP status (inside a 200 stream).
_ERROR_NAME_CODES: dict[str, int] = {
    "invalid_request_error": 400,
    "context_length_exceeded": 400,
    "validation": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "api_error": 500,
    "server_error": 500,
    "overloaded": 503,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# Names that are a quota/billing problem whatever the status says.
_QUOTA_NAMES = frozenset({"insufficient_quota", "billing_error", "payment_required"})
# Message text that means "out of money", on 400/402/403/429 (Anthropic sends a low credit
# balance as a 400, OpenAI insufficient_quota as a 429).
_QUOTA_TEXT = re.compile(
    r"insufficient[_ ]quota|insufficient (?:credits?|balance|funds)|credit balance"
    r"|out of credits?|billing|payment required",
    re.IGNORECASE,
)
# On a 429 any mention of credits means more money is needed, not a short wait.
_QUOTA_TEXT_429 = re.compile(r"\bcredits?\b", re.IGNORECASE)
# Gemini reports a bad key as 400 INVALID_ARGUMENT with this reason.
_INVALID_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})

_STATUS_ERRORS: dict[int, type[AIAdminError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: QuotaExceededError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: NotFoundError,  # wrong endpoint path, usually a wrong base URL
    408: ProviderTimeoutError,
    409: UpstreamError,
    410: NotFoundError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitedError,
}

_STATUS_MESSAGES: dict[int, str] = {
    408: "The provider timed out waiting for the request. Try again.",
    409: "The provider reported a conflict with another request. Try again.",
    413: (
        "The request is too large for the provider. Shorten the input or send a smaller file."
    ),
    503: "The provider is overloaded or temporarily unavailable. Try again in a moment.",
    529: "The provider is overloaded. Try again in a moment.",
}


@dataclass(frozen=True, slots=True)
class ProviderErrorInfo:
    """What could be read from a provider's error body."""

    message: str | None = None
    type: str | None = None
    code: str | None = None
    status: str | None = None
    reasons: tuple[str, ...] = ()
    retry_delay: float | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(name for name in (self.code, self.type) if name)


def parse_body(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> Any:
    """JSON-decode a body when possible; otherwise return it as text."""
    if body is None:
        return None
    if isinstance(body, (Mapping, list)):
        return body
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json_loads(stripped)
        except UnsafeJSONError:
            pass  # shown as text: the status still decides the error class
    return text


def extract_error_info(payload: Any) -> ProviderErrorInfo:
    """Read message/type/code out of the common provider error shapes.

    OpenAI ``{"error": {"message", "type", "code"}}``, Anthropic ``{"type": "error", "error":
    {"type", "message"}}``, Gemini ``{"error": {"code", "message", "status", "details"}}``
    (also wrapped in a list by streamGenerateContent), HF ``{"error": "text"}`` or ``{"error":
    ["..."]}``, FastAPI ``{"detail": ...}``, and plain text or HTML.
    """
    if isinstance(payload, list):
        first = next((item for item in payload if isinstance(item, Mapping)), None)
        return extract_error_info(first) if first is not None else ProviderErrorInfo()
    if isinstance(payload, str):
        return ProviderErrorInfo(message=_plain_text(payload) or None)
    if not isinstance(payload, Mapping):
        return ProviderErrorInfo()
    error = payload.get("error")
    if isinstance(error, Mapping):
        return _info_from_error_object(error)
    if isinstance(error, str) and error:
        return ProviderErrorInfo(message=error, type=_str_or_none(payload.get("error_type")))
    if isinstance(error, list) and error:
        return ProviderErrorInfo(message="; ".join(str(item) for item in error))
    return ProviderErrorInfo(message=_message_from_mapping(payload))


def _info_from_error_object(error: Mapping[str, Any]) -> ProviderErrorInfo:
    reasons: list[str] = []
    retry_delay: float | None = None
    details = error.get("details")
    if isinstance(details, list):
        for detail in details:
            if not isinstance(detail, Mapping):
                continue
            if isinstance(detail.get("reason"), str):
                reasons.append(detail["reason"])
            if "retryDelay" in detail:
                retry_delay = _parse_duration(detail["retryDelay"])
    message = error.get("message")
    return ProviderErrorInfo(
        message=_str_or_none(message) if message is not None else _message_from_mapping(error),
        type=_str_or_none(error.get("type")),
        code=_str_or_none(error.get("code")),
        status=_str_or_none(error.get("status")),
        reasons=tuple(reasons),
        retry_delay=retry_delay,
    )


def _message_from_mapping(payload: Mapping[str, Any]) -> str | None:
    for key in ("message", "detail", "error_description"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:  # FastAPI validation errors
            return "; ".join(
                str(item.get("msg", item)) if isinstance(item, Mapping) else str(item)
                for item in value
            )
    return None


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
# Control characters (NUL above all: PostgreSQL text refuses it) never reach a message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(text: str) -> str:
    # Error pages from proxies are HTML; the tag-free text ("502 Bad Gateway nginx") is enough.
    if text.lstrip().startswith("<"):
        text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def _parse_duration(value: Any) -> float | None:
    """Google's ``"37s"`` / ``"0.5s"`` durations."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return max(0.0, float(value[:-1]))
        except ValueError:
            return None
    return None


def status_from_error_info(info: ProviderErrorInfo) -> int | None:
    """The HTTP status an error body implies, for errors that arrive under HTTP 200."""
    if info.code and info.code.isdigit() and 400 <= int(info.code) <= 599:
        return int(info.code)  # OpenRouter and Gemini put the status in "code"
    for name in info.names():
        if name in _ERROR_NAME_CODES:
            return _ERROR_NAME_CODES[name]
    if info.status and info.status in _GOOGLE_STATUS_CODES:
        return _GOOGLE_STATUS_CODES[info.status]
    return None


def parse_retry_after(
    headers: Mapping[str, str] | httpx.Headers, *, now: datetime | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` (seconds or an HTTP date)."""
    headers = httpx.Headers(headers)
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _is_quota_problem(status: int, info: ProviderErrorInfo) -> bool:
    if any(name in _QUOTA_NAMES for name in info.names()):
        return True
    if status not in (400, 402, 403, 429):
        return False
    if status == 429 and info.retry_delay is not None:
        # Gemini's per-minute limits also mention "billing" but come with a retry delay.
        return False
    text = " ".join(part for part in (info.message, *info.names(), info.status) if part)
    return bool(_QUOTA_TEXT.search(text) or (status == 429 and _QUOTA_TEXT_429.search(text)))


def _classify(status: int, info: ProviderErrorInfo) -> tuple[type[AIAdminError], str | None]:
    """Error class and, where the class default is not specific enough, a message."""
    if status in (400, 401, 403) and _INVALID_KEY_REASONS.intersection(info.reasons):
        return AuthenticationError, None
    if _is_quota_problem(status, info):
        return QuotaExceededError, None
    error_class = _STATUS_ERRORS.get(status)
    if error_class is None:
        error_class = UpstreamError if status >= 500 or status < 400 else BadRequestError
    return error_class, _STATUS_MESSAGES.get(status)


def _provider_detail(info: ProviderErrorInfo, secrets: Iterable[str | None]) -> str | None:
    if not info.message:
        return None
    # Redact before truncating: a cut would leave part of a key that no longer matches.
    text = _SPACE.sub(" ", _CONTROL.sub("", redact(info.message, *secrets))).strip()
    if len(text) > PROVIDER_MESSAGE_MAX_CHARS:
        text = text[: PROVIDER_MESSAGE_MAX_CHARS - 1].rstrip() + "…"
    return text or None


def _redirect_error(
    status_code: int, headers: httpx.Headers, *, provider: str | None, secrets: Iterable[str | None]
) -> ConfigurationError:
    location = headers.get("location", "")
    try:
        host = urlsplit(location).hostname
    except ValueError:
        host = None
    target = f" to {redact(host, *secrets)}" if host else ""
    return ConfigurationError(
        f"The provider redirected the request (HTTP {status_code}){target}. Redirects are not "
        "followed, so a key is never sent to another address: check the base URL (https "
        "instead of http, a missing or extra path such as /v1).",
        provider=provider,
        status_code=status_code,
    )


def error_from_response(
    status_code: int,
    body: bytes | str | Mapping[str, Any] | list[Any] | None,
    headers: Mapping[str, str] | httpx.Headers | None = None,
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
) -> AIAdminError:
    """The one mapping from an HTTP status and provider error body to the error tree.

    ``status_code`` below 300 means the error arrived inside a successful response (an error
    object in a 200 body or stream); its class then comes from the body. The provider's own
    message is appended, redacted (``secrets`` plus anything key-shaped) and truncated.
    """
    secrets = tuple(secrets)
    headers = httpx.Headers(headers or {})
    if 300 <= status_code < 400:
        return _redirect_error(status_code, headers, provider=provider, secrets=secrets)
    info = extract_error_info(parse_body(body))
    effective_status = status_code if status_code >= 400 else (status_from_error_info(info) or 500)
    error_class, message = _classify(effective_status, info)
    message = message or error_class.default_message

    retry_after: float | None = None
    if error_class.retryable:
        retry_after = parse_retry_after(headers)
        if retry_after is None:
            retry_after = info.retry_delay
    if error_class is RateLimitedError and retry_after:
        message = f"{message} The provider asked to wait {retry_after:g} seconds."

    detail = _provider_detail(info, secrets)
    if detail:
        message = f"{message} Provider message: {detail}"
    # An error inside a 200 stream has no HTTP status of its own.
    http_status = status_code if status_code >= 400 else None
    return error_class(message, provider=provider, status_code=http_status, retry_after=retry_after)


MEDIA_READ_TIMEOUT_MESSAGE = (
    "The provider did not answer in time. The request was not retried, because the provider "
    "may already have generated (and charged for) it; check the provider's usage page before "
    "trying again."
)


def exception_from_transport_error(
    err: httpx.HTTPError,
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
    media: bool = False,
) -> AIAdminError:
    """Map an httpx exception to the error tree. Callers write ``raise mapped from err``.

    ``media=True`` marks a paid image/audio call: a read timeout then says it was not retried
    and is flagged not retryable, so no layer above retries it silently either.
    """
    detail = _SPACE.sub(" ", redact(str(err), *secrets)).strip()[:PROVIDER_MESSAGE_MAX_CHARS]
    suffix = f" Details: {detail}" if detail else ""
    error: AIAdminError
    if isinstance(err, httpx.ReadTimeout) and media:
        error = ProviderTimeoutError(MEDIA_READ_TIMEOUT_MESSAGE, provider=provider)
        error.retryable = False
    elif isinstance(err, httpx.ConnectTimeout):
        error = ProviderTimeoutError(
            "Connecting to the provider timed out. Check the base URL and that the service is up.",
            provider=provider,
        )
    elif isinstance(err, httpx.PoolTimeout):
        error = ProviderTimeoutError(
            "Too many requests to this provider are already in flight. Try again in a moment.",
            provider=provider,
        )
    elif isinstance(err, httpx.WriteTimeout):
        error = ProviderTimeoutError(
            "Sending the request to the provider timed out. Try a smaller file or try again.",
            provider=provider,
        )
    elif isinstance(err, httpx.TimeoutException):
        error = ProviderTimeoutError(provider=provider)
    elif isinstance(err, httpx.UnsupportedProtocol):
        error = ConfigurationError(
            "The base URL must start with http:// or https://.", provider=provider
        )
    elif isinstance(err, httpx.RemoteProtocolError):
        error = ProviderConnectionError(
            f"The provider closed the connection unexpectedly.{suffix}", provider=provider
        )
    elif isinstance(err, httpx.DecodingError):
        error = MalformedResponseError(
            "The provider's response could not be decoded.", provider=provider
        )
    else:  # ConnectError, other NetworkError, ProxyError, ...
        message = ProviderConnectionError.default_message
        error = ProviderConnectionError(f"{message}{suffix}", provider=provider)
    return error
