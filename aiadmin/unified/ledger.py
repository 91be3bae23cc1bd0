"""The usage ledger, written after each call and off the caller's path, in batches.

Every event loop has one queue. A call adds its entry and returns; one writer at a time takes
everything queued so far and writes it in one transaction (``usage_record_many``). When calls
are rare each batch holds one entry and is written at once, as before; when a worker is busy
the entries that arrive during a write go together in the next, so the ledger costs a few
statements however many calls there are. There is no timer: nothing waits to fill a batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref

from asgiref.sync import sync_to_async

from aiadmin.providers.usage import LedgerEntry, usage_record_many

logger = logging.getLogger(__name__)


class _LoopLedger:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queued: list[LedgerEntry] = []
        self.writer: asyncio.Task | None = None

    def add(self, entry: LedgerEntry) -> None:
        self.queued.append(entry)
        if self.writer is None:
            self.writer = self.loop.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self.queued:
                batch, self.queued = self.queued, []
                try:
                    # Its own thread pool: ledger writes must not queue in front of the
                    # database work of requests still waiting for their first token.
                    await sync_to_async(usage_record_many, thread_sensitive=False)(entries=batch)
                except Exception:
                    logger.exception("Could not write %d usage ledger row(s)", len(batch))
        finally:
            self.writer = None

    async def flush(self) -> None:
        while self.writer is not None:
            await asyncio.shield(self.writer)


_ledgers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopLedger] = weakref.WeakKeyDictionary()
# Loops run in several threads (the server's, asgiref's, each sync twin's own).
_ledgers_lock = threading.Lock()


def ledger_add(entry: LedgerEntry) -> None:
    """Queue ``entry`` on the running loop's ledger; it is written soon after."""
    loop = asyncio.get_running_loop()
    with _ledgers_lock:
        ledger = _ledgers.get(loop)
        if ledger is None:
            ledger = _ledgers[loop] = _LoopLedger(loop)
    ledger.add(entry)


async def ledger_flush() -> None:
    """Wait until every entry queued on the running loop is written."""
    with _ledgers_lock:
        ledger = _ledgers.get(asyncio.get_running_loop())
    if ledger is not None:
        await ledger.flush()
