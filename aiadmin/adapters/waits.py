"""A bound on each wait of a read loop, with one timer for the whole loop.

``async with asyncio.timeout(...)`` around every read of a stream builds a timeout object,
schedules a timer and cancels it again, for every chunk: about 5% of a streaming worker's CPU
(docs/benchmarks.md). :class:`WaitBound` keeps one timer for the loop's life instead and arms
it only around the waits, so it behaves as a timeout around each wait does:

* it cancels the task only while the task waits inside ``with bound:``, never while the
  consumer holds an item (that would cancel the consumer's own work), and turns that
  cancellation into :class:`TimeoutError` as it leaves the block;
* a cancellation that did not come from it (the client went away) passes through untouched;
* ``idle=True`` bounds each wait on its own (the time since the wait began, like a read
  timeout); ``idle=False`` bounds the total time from the bound's creation (a deadline): a
  deadline that passed while nobody waited fires as the next wait begins.

Call :meth:`close` when the loop ends (a ``finally``): it drops the timer.
"""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType

if sys.version_info < (3, 12):
    # asyncio.current_task is Python code before 3.12 (a frame and get_running_loop per call,
    # once per chunk here); this is the dict it reads.
    from asyncio.tasks import _current_tasks

    def _current_task(loop: asyncio.AbstractEventLoop) -> asyncio.Task | None:
        return _current_tasks.get(loop)

else:
    _current_task = asyncio.current_task


class WaitBound:
    __slots__ = ("_loop", "_seconds", "_idle", "_since", "_task", "_cancelling", "_armed", "_fired", "_handle")

    def __init__(self, seconds: float, *, idle: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._seconds = seconds
        self._idle = idle
        self._since = self._loop.time()
        self._task: asyncio.Task | None = None
        self._cancelling = 0
        self._armed = False
        self._fired = False
        self._handle: asyncio.TimerHandle | None = self._loop.call_at(self._since + seconds, self._check)

    @property
    def expired(self) -> bool:
        """The deadline has passed (``idle=False``), whether or not a wait was cut by it."""
        return not self._idle and self._loop.time() >= self._since + self._seconds

    def __enter__(self) -> WaitBound:
        if self._idle:
            self._since = self._loop.time()
        elif self.expired:
            raise TimeoutError
        self._task = task = _current_task(self._loop)
        self._cancelling = task.cancelling() if task is not None else 0
        self._armed = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._armed = False
        if self._fired:
            self._fired = False
            if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc

    def _check(self) -> None:
        self._handle = None
        if self._task is not None and self._task.done():
            return  # the loop's task ended without close(): nothing left to bound
        due = self._since + self._seconds
        now = self._loop.time()
        if now >= due and self._armed and self._task is not None:
            self._fired = True
            self._task.cancel()
            return
        if now >= due and not self._idle:
            return  # a passed deadline: the next wait raises as it begins
        # Not due yet (an idle bound whose wait began later), or nobody is waiting: look again
        # when the current wait would be due, at the earliest a bound's length from now.
        self._handle = self._loop.call_at(due if now < due else now + self._seconds, self._check)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._task = None
