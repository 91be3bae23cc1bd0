"""Token authentication for the HTTP API: ``Authorization: Bearer <token>``, nothing else.

No session cookie is read and CSRF does not apply: a browser's ambient credentials cannot
make a call. A checked token is kept in the routing cache (:mod:`aiadmin.unified.routing`)
like a resolved call: for ``AIADMIN["ROUTING_CACHE_SECONDS"]`` (1.5 s by default), counted
from before its row was read, so a revocation or a change to the token's admin reaches every
worker within that time, and a save of a token in this process clears it at once. The entry
is keyed by the token's SHA-256, never by the token; expiry is checked on every call.

Failed checks are throttled per client address (``REMOTE_ADDR``; behind a proxy, have the
ASGI server set it from the forwarded header, e.g. uvicorn's ``--proxy-headers``): after
``AIADMIN["API_AUTH_FAILURES_PER_MINUTE"]`` failures in a minute, the address gets 429 until
the minute is over, valid token or not. The count lives in aiadmin's cache, so all workers
share it when that cache is Redis.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.utils import timezone

from aiadmin.conf import aiadmin_settings
from aiadmin.providers.tokens import TokenError, TokenGrant, token_grant, token_hash
from aiadmin.unified.routing import routing_get, routing_put, routing_resolving, routing_ticket, routing_wait

from .errors import NO_RETRY, APIError

THROTTLE_WINDOW_SECONDS = 60


def _presented_token(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise APIError(
            401,
            "No API token was sent. Send it in the Authorization header, as “Bearer <token>”; an "
            "admin makes tokens on the console's API tokens page.",
            code="missing_api_key",
        )
    if scheme.lower() != "bearer" or not value.strip():
        raise APIError(401, "Send the API token in the Authorization header, as “Bearer <token>”.", code="invalid_api_key")
    return value.strip()


def _throttle_key(request) -> str:
    return f"aiadmin:api-auth-failures:{request.META.get('REMOTE_ADDR') or 'unknown'}"


def _throttled() -> APIError:
    return APIError(
        429,
        "Too many failed token checks from this address. Wait a minute, then try again with a valid token.",
        type="rate_limit_error",
        code="too_many_failed_attempts",
        headers={"Retry-After": str(THROTTLE_WINDOW_SECONDS), **NO_RETRY},
    )


def _check_throttle_and_grant(request, plaintext: str) -> TokenGrant:
    """The slow path (a thread): the address's failure count, then the database."""
    cache = caches[aiadmin_settings.CACHE]
    key = _throttle_key(request)
    limit = aiadmin_settings.API_AUTH_FAILURES_PER_MINUTE
    try:
        failures = cache.get(key) or 0
    except Exception:  # the cache down must not lock every client out
        failures = 0
    if failures >= limit:
        raise _throttled()
    try:
        return token_grant(plaintext=plaintext)
    except TokenError as err:
        try:
            if not cache.add(key, 1, timeout=THROTTLE_WINDOW_SECONDS):
                cache.incr(key)
        except Exception:
            pass
        raise APIError(401, str(err), code=err.code) from None


async def api_authenticate(request) -> TokenGrant:
    """The grant of the request's token, or :class:`APIError` (401, or 429 when throttled)."""
    plaintext = _presented_token(request)
    key = ("api-token", token_hash(plaintext))
    grant = routing_get(key)
    if grant is None and await routing_wait(key):
        grant = routing_get(key)  # checked meanwhile by another request of this loop
    if grant is None:
        # A burst of calls with one token after its entry expired checks the row once, not
        # once each (a refused check is not kept: each waiting call then checks for itself).
        async with routing_resolving(key):
            ticket = routing_ticket()  # before the row is read: the entry ages from here
            grant = await sync_to_async(_check_throttle_and_grant)(request, plaintext)
            routing_put(key, grant, ticket=ticket)
    if grant.expires_at is not None and grant.expires_at <= timezone.now():
        raise APIError(401, "This API token has expired. Ask an admin for a new one.", code="token_expired")
    return grant
