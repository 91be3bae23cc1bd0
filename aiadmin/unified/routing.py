"""A short-lived, bounded, in-process cache of resolved calls (provider, settings, model, key).

Resolving a call takes a few queries and a decryption; on the hot path that costs more than
everything else the service does, so a resolved plan is reused for a moment. The rules:

* **Every change reaches every worker within** ``AIADMIN["ROUTING_CACHE_SECONDS"]`` (1.5 s by
  default), in any configuration (one process or several, one host or several, local-memory
  cache or Redis, the cache up or down): an entry is never renewed, and its lifetime counts
  from *before* the rows it holds were read, so whatever was committed after that read is seen
  once the entry expires. Nothing depends on another process telling this one about a change
  (a version in a process-local cache cannot reach another worker), nor on the change being
  made through the ORM (queryset updates, SQL and other hosts are covered the same way).
* In this process a save or delete of a provider, model, settings row or limit clears the
  cache at once, and an entry resolved while such a change happened is not stored. User rows
  belong to the host: a change to one (``is_superuser``, ``is_active``) is seen, like any
  other change made elsewhere, once the entries that hold it expire.
* Decrypted keys (and checked API tokens, by hash) live only here and in calls under way: at most :data:`MAX_ENTRIES` entries,
  each dropped once expired (expired entries are swept on every read and write).

Monthly limits are not served from here: a plan under a limit is counted in the database on
every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save

from aiadmin.conf import aiadmin_settings
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, APIToken

MAX_ENTRIES = 1024

_lock = threading.Lock()
_entries: OrderedDict[tuple, tuple[float, object]] = OrderedDict()  # key -> (expires, value)
_generation = 0  # bumped by every local clear


@dataclass(frozen=True, slots=True)
class RoutingTicket:
    """Taken before the rows of an entry are read: when they were read, and which local
    generation they belong to."""

    started: float
    generation: int


def routing_ticket() -> RoutingTicket:
    with _lock:
        return RoutingTicket(started=time.monotonic(), generation=_generation)


def _sweep(now: float) -> None:
    """Drop expired entries (called with the lock held). Entries are kept in expiry order
    closely enough that sweeping from the oldest end finds them."""
    while _entries:
        key, (expires, _) = next(iter(_entries.items()))
        if expires > now:
            break
        del _entries[key]


def routing_get(key: tuple):
    now = time.monotonic()
    with _lock:
        _sweep(now)
        entry = _entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= now:
            del _entries[key]
            return None
        return value


def routing_put(key: tuple, value: object, *, ticket: RoutingTicket) -> None:
    """Keep ``value`` until ``AIADMIN["ROUTING_CACHE_SECONDS"]`` after ``ticket`` was taken;
    nothing is kept when the cache was cleared since (the value may predate the change)."""
    now = time.monotonic()
    expires = ticket.started + aiadmin_settings.ROUTING_CACHE_SECONDS
    with _lock:
        if ticket.generation != _generation or expires <= now:
            return
        _entries[key] = (expires, value)
        _entries.move_to_end(key)
        _sweep(now)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def routing_clear(**kwargs) -> None:
    global _generation
    with _lock:
        _entries.clear()
        _generation += 1


# Resolutions under way, per event loop: a crowd of calls that miss the same entry at once (a
# burst of streams after it expired) waits for one resolution instead of queueing a hundred
# identical ones on the sync threads.
_resolving: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, asyncio.Future]] = (
    weakref.WeakKeyDictionary()
)


async def routing_wait(key: tuple) -> bool:
    """Wait while another task of this loop resolves ``key``; True if there was one to wait
    for (the caller then looks in the cache again)."""
    with _lock:
        pending = _resolving.get(asyncio.get_running_loop(), {}).get(key)
    if pending is None:
        return False
    await asyncio.shield(pending)  # a waiter cancelled must not cancel the others' wait
    return True


@contextlib.asynccontextmanager
async def routing_resolving(key: tuple) -> AsyncIterator[None]:
    """Mark ``key`` as being resolved by this task until the block ends (however it ends)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    with _lock:
        waiting = _resolving.setdefault(loop, {})
        waiting.setdefault(key, done)
    try:
        yield
    finally:
        with _lock:
            if waiting.get(key) is done:
                del waiting[key]
        done.set_result(None)


def routing_size() -> int:
    with _lock:
        return len(_entries)


# aiadmin's own rows that routing reads: providers, selected models, settings rows, limits,
# and the API tokens checked through it (aiadmin.api.auth). Explicit senders: no other model's
# save (the ledger's on every call, the host's users and its own models) empties the cache.
for _model in (AIProvider, AIModel, AdminProviderSettings, AdminProviderLimit, APIToken):
    post_save.connect(routing_clear, sender=_model, dispatch_uid=f"routing-clear-save-{_model._meta.label}")
    post_delete.connect(routing_clear, sender=_model, dispatch_uid=f"routing-clear-delete-{_model._meta.label}")
