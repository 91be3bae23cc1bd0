"""The usage ledger, written after each call and off the caller's path, in batches.

Every event loop has one queue. A call adds its entry and returns; one writer at a time takes
what is queued (at most :data:`MAX_BATCH_ROWS`) and writes it in one transaction
(``usage_record_many``). When calls are rare each batch holds one entry and is written at
once; when a worker is busy the entries that arrive during a write go together in the next,
so the ledger costs a few statements however many calls there are. There is no timer:
nothing waits to fill a batch.

A batch that fails to write (database restarting, locked, unreachable) is retried with
exponential backoff and jitter, :data:`RETRY_ATTEMPTS` times in all (about
:data:`RETRY_WINDOW_SECONDS` seconds), then dropped with an error naming how many rows were
lost; until a write succeeds again, later batches get one attempt each. The queue holds at most :data:`MAX_QUEUED_ROWS` entries: past that the oldest are
dropped, and the writer logs how many.

What a hard kill (SIGKILL, power loss) can lose: the rows still in memory. While the
database accepts writes, a row waits only for the batch in front of it (no timer; a few
milliseconds); while it refuses them, at most ``MAX_QUEUED_ROWS + MAX_BATCH_ROWS`` rows wait,
none longer than the retry window per batch in front of it. A clean shutdown (SIGTERM) loses
nothing: the ASGI lifespan handler (:mod:`aiadmin.handler`) flushes the queue.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import weakref
from collections import deque

from asgiref.sync import sync_to_async
from django.db import DataError, IntegrityError

from aiadmin.providers.usage import LedgerEntry, ledger_entry_unlinked, usage_record_many

logger = logging.getLogger(__name__)

MAX_QUEUED_ROWS = 10_000
MAX_BATCH_ROWS = 500
RETRY_ATTEMPTS = 6
RETRY_FIRST_DELAY = 0.1  # seconds; doubled after each failure
RETRY_MAX_DELAY = 2.0
RETRY_WINDOW_SECONDS = sum(min(RETRY_MAX_DELAY, RETRY_FIRST_DELAY * 2**n) for n in range(RETRY_ATTEMPTS - 1))


def retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed attempt: exponential, capped, with
    jitter so several workers do not hit a recovering database in step."""
    ceiling = min(RETRY_MAX_DELAY, RETRY_FIRST_DELAY * 2 ** (failures - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not security)


class _LoopLedger:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queued: deque[LedgerEntry] = deque()
        self.dropped = 0  # oldest entries pushed out of a full queue, not yet logged
        self.writer: asyncio.Task | None = None
        # Set when a batch ran out of retries, cleared by the next write that succeeds: while
        # the database stays down, later batches get one attempt each, so a flush (shutdown)
        # takes one retry window, not one per batch.
        self.database_down = False

    def add(self, entry: LedgerEntry) -> None:
        if len(self.queued) >= MAX_QUEUED_ROWS:
            self.queued.popleft()
            self.dropped += 1
        self.queued.append(entry)
        if self.writer is None:
            self.writer = self.loop.create_task(self._write())

    def _report_dropped(self) -> None:
        if self.dropped:
            logger.error(
                "Usage ledger queue full (%d rows): dropped the %d oldest row(s)", MAX_QUEUED_ROWS, self.dropped
            )
            self.dropped = 0

    async def _write(self) -> None:
        try:
            while self.queued:
                self._report_dropped()
                batch = [self.queued.popleft() for _ in range(min(len(self.queued), MAX_BATCH_ROWS))]
                await self._write_batch(batch)
            self._report_dropped()
        finally:
            self.writer = None

    async def _write_batch(self, batch: list[LedgerEntry]) -> None:
        attempts = 1 if self.database_down else RETRY_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                # Its own thread pool: ledger writes must not queue in front of the
                # database work of requests still waiting for their first token.
                await sync_to_async(usage_record_many, thread_sensitive=False)(entries=batch)
                self.database_down = False
                return
            except (IntegrityError, DataError):
                # The data, not the database: retrying the same batch would fail the same way.
                await self._write_rows_alone(batch)
                return
            except Exception:
                if attempt == attempts:
                    self.database_down = True
                    logger.exception(
                        "Could not write %d usage ledger row(s) after %d attempt(s): dropped", len(batch), attempt
                    )
                    return
                delay = retry_delay(attempt)
                logger.warning(
                    "Could not write %d usage ledger row(s) (attempt %d of %d); retrying in %.2f s",
                    len(batch), attempt, attempts, delay, exc_info=True,
                )
                await asyncio.sleep(delay)

    async def _write_rows_alone(self, batch: list[LedgerEntry]) -> None:
        """A batch the database refused for its data (a provider or model deleted while its
        call ran, a value out of a column's range): each row on its own, so one bad row does
        not take the others with it; a row refused again is written without its links to
        rows that may be gone (its provider slug and model name stay), else dropped."""
        write = sync_to_async(usage_record_many, thread_sensitive=False)
        for entry in batch:
            for candidate in (entry, ledger_entry_unlinked(entry)):
                try:
                    await write(entries=[candidate])
                    break
                except (IntegrityError, DataError):
                    continue
                except Exception:
                    logger.exception("Could not write a usage ledger row: dropped")
                    break
            else:
                logger.error("The database refused a usage ledger row for %s: dropped", entry.provider_slug or "a call")

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
    """Wait until every entry queued on the running loop is written (or, after its retries,
    dropped with an error in the log)."""
    with _ledgers_lock:
        ledger = _ledgers.get(asyncio.get_running_loop())
    if ledger is not None:
        await ledger.flush()

