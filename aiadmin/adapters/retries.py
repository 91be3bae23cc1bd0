"""Sending one request, retrying only what is safe to retry (no Django here).

:func:`send_with_retries` is how an adapter sends a request::

      client = shared_client.get_client()
      response = await send_with_retries(
          lambda: client.send(client.build_request("POST", url, json=body, headers=headers,
                                                    timeout=shared_client.STREAM_TIMEOUT,
                                                    extensions=self.network_policy),
                              stream=True),
          provider=self.provider_name, secrets=(self.api_key,), media=False)

It returns only a 2xx response (the body still open: close it with ``await
response.aclose()`` in a ``finally``; or, with ``read_body=True``, read within
:data:`~.bodies.MAX_RESPONSE_BODY_BYTES` and closed) and raises the mapped error otherwise
(aiadmin/adapters/error_mapping.py). The callable must build a fresh request (or reuse one
whose body is bytes) on every call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from .bodies import read_body_capped, read_response
from .error_mapping import error_from_response, exception_from_transport_error
from .errors import AIAdminError

logger = logging.getLogger(__name__)

MAX_RETRIES = 2  # so at most three attempts
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
# An interactive admin will not wait longer than this for one retry; above it, fail fast.
RETRY_AFTER_CAP = 20.0


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


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
    media: bool = False,
    read_body: bool = False,
    max_retries: int | None = None,
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
    waits use exponential backoff with full jitter. ``max_retries`` defaults to
    :data:`MAX_RETRIES` as it is at the call (:func:`retries_configure` sets it); ``sleep`` and
    ``jitter`` are injectable for tests.

    ``send`` must use ``client.send(request, stream=True)``: an error response's body is read
    (capped) and closed before mapping; a successful response is returned open, or, with
    ``read_body=True``, read with :func:`read_response` (capped) and closed.
    """
    secrets = tuple(secrets)
    if max_retries is None:
        max_retries = MAX_RETRIES
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


def retries_configure(*, max_retries: int) -> None:
    """Replace how many times a failed request is retried from now on (0: never).

    For startup (a host project's settings); a call to :func:`send_with_retries` that passes
    its own ``max_retries`` keeps it.
    """
    global MAX_RETRIES
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a whole number of at least 0, not {max_retries!r}.")
    MAX_RETRIES = max_retries
