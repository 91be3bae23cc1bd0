"""A short-lived, in-process cache of resolved calls (provider, settings, model, key).

Resolving a call takes three queries and a decryption; on the hot path that costs more than
everything else the service does, so a resolved plan is reused for a few seconds. Any save or
delete of a provider, selected model, admin settings row, limit or user clears this process's cache
at once and bumps a version in the shared cache, which other processes check when their
entries expire. Monthly limits are never served from here: a plan under a limit is counted in
the database on every call.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider

ROUTING_CACHE_SECONDS = 2.0
VERSION_KEY = "aiadmin:routing:version"

_lock = threading.Lock()
_entries: dict[tuple, tuple[float, str | None, object]] = {}


def _shared_version() -> str | None:
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # a cache outage only shortens reuse, never fails a call
        return None


def routing_get(key: tuple):
    with _lock:
        entry = _entries.get(key)
    if entry is None:
        return None
    expires, version, value = entry
    if time.monotonic() < expires:
        return value
    if _shared_version() != version:  # changed in another process
        with _lock:
            _entries.pop(key, None)
        return None
    with _lock:
        _entries[key] = (time.monotonic() + ROUTING_CACHE_SECONDS, version, value)
    return value


def routing_put(key: tuple, value: object) -> None:
    version = _shared_version()
    with _lock:
        _entries[key] = (time.monotonic() + ROUTING_CACHE_SECONDS, version, value)


def routing_clear(**kwargs) -> None:
    with _lock:
        _entries.clear()
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        pass


for _model in (AIProvider, AIModel, AdminProviderSettings, AdminProviderLimit, get_user_model()):
    post_save.connect(routing_clear, sender=_model, dispatch_uid=f"routing-clear-save-{_model._meta.label}")
    post_delete.connect(routing_clear, sender=_model, dispatch_uid=f"routing-clear-delete-{_model._meta.label}")
