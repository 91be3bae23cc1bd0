"""Live model lists, cached per provider and key identity (six hours by default) in the cache
``AIADMIN["CACHE"]`` names.

A cold list is fetched once however many requests want it at the same time: one fetch per
key within a process (single flight), and a lock in Redis across processes when Redis is the
cache (a process-local lock otherwise). A failed refresh falls back to the last good list.
Cache trouble is logged and the list fetched directly: it never fails a page.

:func:`model_list_price` reads a model's price from the cached list (never the network) for
calls on a model that has no AIModel row, such as an admin's personal preference.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import BaseCache, caches

from aiadmin.adapters.types import ModelInfo
from aiadmin.conf import aiadmin_settings
from aiadmin.providers.usage import ModelPrice

logger = logging.getLogger(__name__)

# How long lists are kept: AIADMIN["MODEL_LIST_CACHE_SECONDS"], and the longer
# AIADMIN["MODEL_LIST_LAST_GOOD_SECONDS"] for the last good list, so a failed refresh still has
# something to show.
LOCK_TIMEOUT = 60  # seconds a fetch may hold the cross-process lock
LOCK_POLL_INTERVAL = 0.05
KEY_PREFIX = "aiadmin:models:v1"

Entry = dict[str, Any]  # {"fetched_at": float, "models": [serialised ModelInfo]}


def _cache() -> BaseCache:
    return caches[aiadmin_settings.CACHE]


def key_identity(api_key: str | None) -> str:
    """A keyed hash of the API key: separates caches per key without storing the key."""
    if not api_key:
        return "nokey"
    return hmac.new(settings.SECRET_KEY.encode(), api_key.encode(), hashlib.sha256).hexdigest()[:24]


def provider_fingerprint(*, adapter: str, base_url: str, config: dict) -> str:
    raw = json.dumps([adapter, base_url, config], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def cache_keys(*, provider_id: int, fingerprint: str, identity: str) -> tuple[str, str]:
    base = f"{KEY_PREFIX}:{provider_id}:{fingerprint}:{identity}"
    return f"{base}:fresh", f"{base}:last-good"


def serialise(models: list[ModelInfo]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "name": m.name,
            "capabilities": sorted(m.capabilities),
            "description": m.description,
            "is_free": m.is_free,
            "pricing_input": None if m.pricing_input is None else str(m.pricing_input),
            "pricing_output": None if m.pricing_output is None else str(m.pricing_output),
            "context_window": m.context_window,
            "deprecation": m.deprecation,
            "not_callable": [list(pair) for pair in m.not_callable],
        }
        for m in models
    ]


PARSED_LISTS_KEPT = 64
_parsed: OrderedDict[tuple[str, float], tuple[ModelInfo, ...]] = OrderedDict()
_parsed_lock = threading.Lock()


def entry_models(key: str, entry: Entry) -> tuple[ModelInfo, ...]:
    """The models of a cached list entry, parsed once per process: a browser is opened, paged
    and searched many times against one fetched list, and parsing hundreds of models (prices
    as Decimals) on every request cost more than the rest of the page. ``fetched_at`` tells
    one fetch from the next, so a refreshed list is parsed again."""
    version = (key, entry["fetched_at"])
    with _parsed_lock:
        models = _parsed.get(version)
        if models is not None:
            _parsed.move_to_end(version)
            return models
    models = tuple(deserialise(entry["models"]))
    with _parsed_lock:
        _parsed[version] = models
        while len(_parsed) > PARSED_LISTS_KEPT:
            _parsed.popitem(last=False)
    return models


def deserialise(rows: list[dict[str, Any]]) -> list[ModelInfo]:
    return [
        ModelInfo(
            id=row["id"],
            name=row["name"],
            capabilities=frozenset(row["capabilities"]),
            description=row.get("description", ""),
            is_free=row.get("is_free", False),
            pricing_input=None if row.get("pricing_input") is None else Decimal(row["pricing_input"]),
            pricing_output=None if row.get("pricing_output") is None else Decimal(row["pricing_output"]),
            context_window=row.get("context_window"),
            deprecation=row.get("deprecation", ""),
            not_callable=tuple((str(capability), str(reason)) for capability, reason in row.get("not_callable", ())),
        )
        for row in rows
    ]


async def _cache_get(key: str) -> Entry | None:
    try:
        return await _cache().aget(key)
    except Exception:  # a cache outage must never fail a page
        logger.warning("Model-list cache read failed for %s", key, exc_info=True)
        return None


async def _cache_set(key: str, value: Entry, timeout: float) -> None:
    try:
        await _cache().aset(key, value, timeout)
    except Exception:
        logger.warning("Model-list cache write failed for %s", key, exc_info=True)


class _LocalLock:
    """Stands in for the Redis lock when the cache is not Redis (one process)."""

    _locks: dict[str, threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, name: str) -> None:
        with self._guard:
            self._lock = self._locks.setdefault(name, threading.Lock())

    def acquire(self, blocking: bool = False) -> bool:
        return self._lock.acquire(blocking=blocking)

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def _lock_for(name: str):
    cache = _cache()
    if hasattr(cache, "lock"):  # django-redis
        return cache.lock(f"{name}:lock", timeout=LOCK_TIMEOUT)
    return _LocalLock(name)


_inflight: dict[tuple[int, str], asyncio.Future] = {}


async def load_once(fresh_key: str, fetch: Callable[[], Awaitable[Entry]]) -> Entry:
    """Fetch ``fresh_key`` once however many callers ask concurrently; others share the result."""
    flight = (id(asyncio.get_running_loop()), fresh_key)
    pending = _inflight.get(flight)
    if pending is not None:
        return await asyncio.shield(pending)
    future = asyncio.get_running_loop().create_future()
    _inflight[flight] = future
    try:
        entry = await _load_under_lock(fresh_key, fetch)
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as err:
        future.set_exception(err)
        future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
        raise
    else:
        future.set_result(entry)
        return entry
    finally:
        _inflight.pop(flight, None)


async def _load_under_lock(fresh_key: str, fetch: Callable[[], Awaitable[Entry]]) -> Entry:
    lock = _lock_for(fresh_key)
    try:
        acquired = await sync_to_async(lock.acquire, thread_sensitive=False)(blocking=False)
    except Exception:
        logger.warning("Model-list lock unavailable; fetching without it", exc_info=True)
        return await fetch()
    if acquired:
        try:
            cached = await _cache_get(fresh_key)  # filled while we waited for the lock?
            return cached if cached is not None else await fetch()
        finally:
            try:
                await sync_to_async(lock.release, thread_sensitive=False)()
            except Exception:
                logger.warning("Model-list lock release failed", exc_info=True)
    # Someone else is fetching: wait for their result rather than calling upstream again.
    deadline = time.monotonic() + LOCK_TIMEOUT
    while time.monotonic() < deadline:
        await asyncio.sleep(LOCK_POLL_INTERVAL)
        cached = await _cache_get(fresh_key)
        if cached is not None:
            return cached
        try:
            still_locked = await sync_to_async(lock.locked, thread_sensitive=False)()
        except Exception:
            still_locked = False
        if not still_locked:
            cached = await _cache_get(fresh_key)
            return cached if cached is not None else await fetch()
    return await fetch()


async def model_list_get(
    *,
    fresh_key: str,
    last_good_key: str,
    fetch: Callable[[], Awaitable[list[ModelInfo]]],
    refresh: bool,
) -> tuple[Entry, bool, Exception | None]:
    """Returns (entry, stale, error). Raises only when there is no list at all to show."""
    if not refresh:
        cached = await _cache_get(fresh_key)
        if cached is not None:
            return cached, False, None

    async def fetch_and_store() -> Entry:
        models = await fetch()
        entry = {"fetched_at": time.time(), "models": serialise(models)}
        await _cache_set(fresh_key, entry, aiadmin_settings.MODEL_LIST_CACHE_SECONDS)
        await _cache_set(last_good_key, entry, aiadmin_settings.MODEL_LIST_LAST_GOOD_SECONDS)
        return entry

    try:
        if refresh:
            return await fetch_and_store(), False, None
        return await load_once(fresh_key, fetch_and_store), False, None
    except Exception as err:
        last_good = await _cache_get(last_good_key)
        if last_good is None:
            raise
        return last_good, True, err


def model_list_price(*, provider_id: int, fingerprint: str, api_key: str | None, model_id: str) -> ModelPrice | None:
    """The price the provider's cached model list gives ``model_id``, read from the cache only.

    A call must not wait for (or pay for) a list fetch, so when neither the fresh nor the last
    good list of this provider and key is cached (the last good one is kept for a week, and
    choosing a model from the browser caches it), the price is unknown and the ledger row has
    no cost, as for a provider that publishes no prices.
    """
    fresh_key, last_good_key = cache_keys(provider_id=provider_id, fingerprint=fingerprint, identity=key_identity(api_key))
    cache = _cache()
    for key in (fresh_key, last_good_key):
        try:
            entry = cache.get(key)
        except Exception:  # a cache outage must never fail a call
            logger.warning("Model-list cache read failed for %s", key, exc_info=True)
            continue
        if not entry:
            continue
        listed = next((model for model in entry_models(key, entry) if model.id == model_id), None)
        if listed is not None:
            return ModelPrice(input=listed.pricing_input, output=listed.pricing_output)
    return None
