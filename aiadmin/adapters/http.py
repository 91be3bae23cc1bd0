"""The shared HTTP transport every adapter uses (no Django here).

What lives here, and how adapters use it:

* **One client per event loop.** ``client = get_client()`` inside a coroutine. An
  ``httpx.AsyncClient`` is bound to the loop it first ran on, so the module keeps one client
  per running loop (the ASGI server's loop, or the fresh loop of each ``asyncio.run`` a sync
  twin makes). Sync twins should use :func:`run_sync`, which closes that loop's client before
  the loop goes away. The ASGI lifespan/shutdown hook calls ``await aclose_clients()``.
* **Tests** inject a transport with ``set_transport_for_tests(httpx.MockTransport(handler))``
  and reset it with ``set_transport_for_tests(None)``; every client created afterwards uses it.
* **Timeouts**: the client default is :data:`DEFAULT_TIMEOUT`. Pass ``timeout=MEDIA_TIMEOUT``
  for image/speech/transcription requests and ``timeout=STREAM_TIMEOUT`` for SSE requests.
* **Errors**: :func:`error_from_response` is the one status/body -> error-tree mapping;
  :func:`exception_from_transport_error` maps httpx exceptions (``raise mapped from err``).
* **Retries**: :func:`send_with_retries` wraps one request::

      response = await send_with_retries(
          lambda: client.send(client.build_request("POST", url, json=body,
                                                    headers=headers, timeout=STREAM_TIMEOUT),
                              stream=True),
          provider=self.provider_name, secrets=(self.api_key,), media=False)

  It returns only a 2xx response (the body still open: close it with ``await
  response.aclose()`` in a ``finally``) and raises the mapped error otherwise. The callable
  must build a fresh request (or reuse one whose body is bytes) on every call.
* **Bounded reads**: always send with ``stream=True``, so no body is read before it is
  checked. Error bodies are read up to :data:`MAX_ERROR_BODY_BYTES`; pass ``read_body=True``
  for a non-streamed answer and the 2xx body is read up to :data:`MAX_RESPONSE_BODY_BYTES`
  (a larger one is a :class:`MalformedResponseError`) and returned read and closed. The caps
  count decoded bytes: read a body only through :func:`~.content_coding.aiter_body` (never
  ``aiter_bytes``, which inflates a whole network read at once), so a compressed body is
  inflated at most one 64 KiB piece past its cap.
* **Address policy**: every request passes ``extensions=self.network_policy``
  (:attr:`BaseAdapter.network_policy`, from the provider's ``allow_private_network``); the
  shared transport resolves each new connection's host once, refuses non-public addresses
  unless the request is marked, and dials what it checked (aiadmin/adapters/urlguard.py). An
  unmarked request gets the strict policy. A refusal is raised as :class:`ConfigurationError`
  from ``client.send`` itself; :func:`send_with_retries` fills in the provider.
* **Auth**: :func:`auth_headers_and_params` turns a provider's ``auth`` config and key into
  headers and query params.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .content_coding import ACCEPT_ENCODING, aiter_body
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
from .pool import ShardedTransport
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads

logger = logging.getLogger(__name__)

T = TypeVar("T")

# --- Timeouts (seconds) ------------------------------------------------------------------
CONNECT_TIMEOUT = 10.0
# Long enough for a slow non-streamed chat answer from a reasoning model.
READ_TIMEOUT = 120.0
# Transcription uploads can be tens of megabytes over a slow uplink.
WRITE_TIMEOUT = 60.0
# Waiting for a free pooled connection; hitting this means we are overloading ourselves.
POOL_TIMEOUT = 10.0
# The longest silence allowed between bytes of an SSE stream. Providers that think for long
# send keep-alives (OpenRouter comments, Anthropic pings), so real silence means a stall.
STREAM_IDLE_TIMEOUT = 90.0
# httpx's own read timeout on streams sits a little above the idle timeout so the SSE reader's
# clearer "stream stalled" error wins.
STREAM_READ_SLACK = 5.0
# Image generation and speech synthesis routinely take a minute or more.
MEDIA_READ_TIMEOUT = 300.0

# --- Connection pool ---------------------------------------------------------------------
# Per event loop, so per worker: every streamed chat holds one for its whole length.
MAX_CONNECTIONS = 2048
# Below the 30-60 s idle timeout of common load balancers, so we drop an idle connection
# before the far end does (a reused half-closed connection fails the next request).
KEEPALIVE_EXPIRY = 15.0

# --- Retries -----------------------------------------------------------------------------
MAX_RETRIES = 2  # so at most three attempts
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
# An interactive admin will not wait longer than this for one retry; above it, fail fast.
RETRY_AFTER_CAP = 20.0

# --- Error bodies ------------------------------------------------------------------------
# Error bodies are read into memory to build a message; a hostile or broken server must not
# be able to make us buffer an unbounded body.
MAX_ERROR_BODY_BYTES = 256 * 1024
# A successful non-streamed answer is read whole, but never past this: generous enough for
# base64 images and synthesized audio, small enough that a hostile server cannot exhaust a
# worker's memory. Read while it arrives (requests are sent with ``stream=True``).
MAX_RESPONSE_BODY_BYTES = 64 * 1024 * 1024
PROVIDER_MESSAGE_MAX_CHARS = 300

USER_AGENT = "aiadmin/0.1"

DEFAULT_TIMEOUT = httpx.Timeout(
    connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
)
MEDIA_TIMEOUT = httpx.Timeout(
    connect=CONNECT_TIMEOUT, read=MEDIA_READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
)
STREAM_TIMEOUT = httpx.Timeout(
    connect=CONNECT_TIMEOUT,
    read=STREAM_IDLE_TIMEOUT + STREAM_READ_SLACK,
    write=WRITE_TIMEOUT,
    pool=POOL_TIMEOUT,
)


# =========================================================================================
# The shared client
# =========================================================================================

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
# Different threads (ASGI loop, asgiref worker loops, sync twins) may ask at the same time.
_clients_lock = threading.Lock()
_test_transport: httpx.AsyncBaseTransport | None = None


def _new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        # Never follow redirects: a redirect to another host would carry the key with it.
        # A 3xx is mapped to an error asking the admin to check the base URL.
        follow_redirects=False,
        # Only the codings aiadmin/adapters/content_coding.py inflates in bounded steps.
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        # Small pools filled one after the other, idle connections kept (aiadmin/adapters/pool.py).
        transport=_test_transport
        or ShardedTransport(max_connections=MAX_CONNECTIONS, keepalive_expiry=KEEPALIVE_EXPIRY),
    )


def get_client() -> httpx.AsyncClient:
    """The shared client of the running event loop (created on first use).

    Must be called from inside a coroutine; raises ``RuntimeError`` when no loop runs.
    """
    loop = asyncio.get_running_loop()
    with _clients_lock:
        _forget_closed_loops()
        client = _clients.get(loop)
        if client is None or client.is_closed:
            client = _new_client()
            _clients[loop] = client
        return client


def _forget_closed_loops() -> None:
    # A closed loop's client cannot be closed any more; dropping it lets its sockets be freed.
    for loop in [loop for loop in _clients if loop.is_closed()]:
        del _clients[loop]


async def aclose_clients() -> None:
    """Close the running loop's client and forget clients of loops that have closed.

    Clients of *other* still-running loops are left alone: they can only be closed from their
    own loop.
    """
    loop = asyncio.get_running_loop()
    with _clients_lock:
        client = _clients.pop(loop, None)
        _forget_closed_loops()
    if client is not None:
        await client.aclose()


def run_sync(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run an adapter coroutine from sync code on a fresh loop, closing its client after."""

    async def _run() -> T:
        try:
            return await make_coroutine()
        finally:
            await aclose_clients()

    return asyncio.run(_run())


def set_transport_for_tests(transport: httpx.AsyncBaseTransport | None) -> None:
    """Make every client created from now on use ``transport`` (``None`` restores the network).

    Existing clients are dropped so the next :func:`get_client` builds one with the new
    transport. For tests only.
    """
    global _test_transport
    with _clients_lock:
        _test_transport = transport
        _clients.clear()


# =========================================================================================
# Status + body -> error tree
# =========================================================================================

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


# =========================================================================================
# Transport exceptions
# =========================================================================================

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


# =========================================================================================
# Retries
# =========================================================================================

# Failures where the request certainly never reached the provider, so a retry is safe even
# for a paid call. Read timeouts are not here: the provider may have done the work.
_RETRYABLE_TRANSPORT_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def backoff_delay(attempt: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(MAX, BASE * 2**attempt)]."""
    return jitter() * min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt)


async def read_body_capped(response: httpx.Response, *, limit: int = MAX_ERROR_BODY_BYTES) -> bytes:
    """Read at most ``limit`` bytes of a streamed response (decoded; about one network chunk or
    one decompression step more is pulled, never the rest), then close it. For error bodies: a
    partial body is still useful."""
    chunks: list[bytes] = []
    size = 0
    byte_iterator: AsyncIterator[bytes] | None = None
    try:
        byte_iterator = aiter_body(response)
        async for chunk in byte_iterator:
            if size + len(chunk) >= limit:
                chunks.append(chunk[: limit - size])
                break
            chunks.append(chunk)
            size += len(chunk)
    except (httpx.HTTPError, MalformedResponseError):
        pass  # a partial (or unreadable) error body is still useful; the status decides the error class
    finally:
        if byte_iterator is not None:
            await byte_iterator.aclose()  # type: ignore[attr-defined]
        await response.aclose()
    return b"".join(chunks)


async def read_response(
    response: httpx.Response,
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
    media: bool = False,
) -> httpx.Response:
    """The streamed 2xx ``response`` read whole, refusing a body over
    :data:`MAX_RESPONSE_BODY_BYTES` as soon as it gets there; returned read and closed."""
    limit = MAX_RESPONSE_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    byte_iterator: AsyncIterator[bytes] | None = None
    try:
        byte_iterator = aiter_body(response, provider=provider)
        async for chunk in byte_iterator:
            size += len(chunk)
            if size > limit:
                raise MalformedResponseError(
                    f"The provider's answer is larger than {limit // (1024 * 1024)} MB, the most "
                    "accepted; it was not read.",
                    provider=provider,
                )
            chunks.append(chunk)
    except httpx.HTTPError as err:
        raise exception_from_transport_error(err, provider=provider, secrets=secrets, media=media) from err
    finally:
        if byte_iterator is not None:
            await byte_iterator.aclose()  # type: ignore[attr-defined]
        await response.aclose()
    # The bytes are already decoded, so the copy must not claim a content encoding.
    headers = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in _BODY_FRAMING]
    return httpx.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request,
        extensions=response.extensions,
    )


_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
    media: bool = False,
    read_body: bool = False,
    max_retries: int = MAX_RETRIES,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> httpx.Response:
    """Call ``send`` until it yields a 2xx response, retrying only what is safe to retry.

    Retried: 408/409/429/5xx responses (unless the body says the quota is used up) and
    failures to connect (connect error, connect or pool timeout). Never retried: other 4xx,
    redirects, read/write timeouts and anything else after the request may have been sent.
    ``media=True`` (paid image/audio calls) only changes the read-timeout message: it says the
    call was not retried to avoid paying twice.

    Waits honour Retry-After / retry-after-ms exactly; when the wait asked for exceeds
    :data:`RETRY_AFTER_CAP` the error is raised at once with ``retry_after`` set. Otherwise
    waits use exponential backoff with full jitter. ``sleep`` and ``jitter`` are injectable
    for tests.

    ``send`` must use ``client.send(request, stream=True)``: an error response's body is read
    (capped) and closed before mapping; a successful response is returned open, or, with
    ``read_body=True``, read with :func:`read_response` (capped) and closed.
    """
    secrets = tuple(secrets)
    attempt = 0
    while True:
        try:
            response = await send()
        except AIAdminError as err:
            # Raised inside the transport (the URL guard refused the address): the transport
            # does not know which provider the request was for.
            if err.provider is None:
                err.provider = provider
            raise
        except httpx.HTTPError as err:
            mapped = exception_from_transport_error(
                err, provider=provider, secrets=secrets, media=media
            )
            if attempt >= max_retries or not isinstance(err, _RETRYABLE_TRANSPORT_ERRORS):
                raise mapped from err
            delay = backoff_delay(attempt, jitter=jitter)
            reason = type(err).__name__
        else:
            if 200 <= response.status_code < 300:
                if read_body:
                    return await read_response(response, provider=provider, secrets=secrets, media=media)
                return response
            body = await read_body_capped(response)
            error = error_from_response(
                response.status_code, body, response.headers, provider=provider, secrets=secrets
            )
            if attempt >= max_retries or not error.retryable:
                raise error
            if error.retry_after is not None:
                if error.retry_after > RETRY_AFTER_CAP:
                    raise error  # fail fast: the admin should not sit through a long wait
                delay = error.retry_after
            else:
                delay = backoff_delay(attempt, jitter=jitter)
            reason = f"HTTP {response.status_code}"
        attempt += 1
        # No URL in the log line: a query-style key would end up in the logs.
        logger.info(
            "Retrying %s after %s in %.2fs (retry %d of %d).",
            provider or "provider", reason, delay, attempt, max_retries,
        )
        await sleep(delay)


# =========================================================================================
# Auth
# =========================================================================================

_HEADER_SAFE_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces or controls


def auth_headers_and_params(
    auth: Mapping[str, Any] | None, api_key: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query params that carry ``api_key`` according to a provider's auth config.

    Styles: ``{"style": "bearer"}`` (the default when ``auth`` is empty) -> ``Authorization:
    Bearer KEY``; ``{"style": "header", "header": "x-api-key", "prefix": ""}`` -> that header
    with ``prefix + KEY`` (the prefix includes any space it needs); ``{"style": "query",
    "param": "key"}`` -> a query parameter; ``{"style": "none"}`` -> nothing. No key ->
    nothing.

    Prefer headers: a key in a query string is part of the URL, and URLs reach access logs,
    proxies and error messages. The Gemini adapter must use ``{"style": "header", "header":
    "x-goog-api-key"}`` rather than ``?key=``.
    """
    if not api_key:
        return {}, {}
    key = api_key.strip()
    # A newline in a header value would be rejected by h11 with an error that quotes the value.
    if not _HEADER_SAFE_KEY.fullmatch(key):
        raise ConfigurationError(
            "The API key contains spaces or characters that cannot be sent. Enter it again."
        )
    auth = auth or {}
    style = auth.get("style", "bearer")
    if style == "none":
        return {}, {}
    if style == "bearer":
        return {"Authorization": f"Bearer {key}"}, {}
    if style == "header":
        header = auth.get("header") or "x-api-key"
        return {str(header): f"{auth.get('prefix', '')}{key}"}, {}
    if style == "query":
        return {}, {str(auth.get("param") or "key"): key}
    raise ConfigurationError(f"Unknown auth style {style!r} in the provider's settings.")


def json_object(response: httpx.Response, *, provider: str | None) -> dict[str, Any]:
    """The response body as a JSON object, or :class:`MalformedResponseError`."""
    try:
        payload = json_loads(response.content)
    except UnsafeJSONError as err:
        raise MalformedResponseError(f"The provider's answer is unusable JSON: {err}.", provider=provider) from err
    if not isinstance(payload, dict):
        raise MalformedResponseError("The provider's answer is not a JSON object.", provider=provider)
    return payload


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, default ports filled in; None when it is not
    one. Two URLs with the same origin may receive the same key."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)
