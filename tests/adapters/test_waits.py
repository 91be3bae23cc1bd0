"""WaitBound: a timeout around each wait of a read loop, with one timer for the whole loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from aiadmin.adapters.waits import WaitBound


async def test_an_idle_bound_cuts_a_wait_that_lasts_longer_than_it():
    bound = WaitBound(0.05, idle=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        with bound:
            await asyncio.sleep(5)
    bound.close()
    assert time.monotonic() - started < 1


async def test_an_idle_bound_counts_each_wait_on_its_own_not_their_sum():
    bound = WaitBound(0.1, idle=True)
    for _ in range(6):  # 0.3 s of waiting in all, each wait well under the bound
        with bound:
            await asyncio.sleep(0.05)
    bound.close()


async def test_a_bound_never_cancels_the_consumer_while_it_holds_an_item():
    bound = WaitBound(0.05, idle=True)
    held = 0
    for _ in range(3):
        with bound:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # the consumer's own work, three times the bound
        held += 1
    bound.close()
    assert held == 3


async def test_a_deadline_bounds_the_total_time_of_all_waits():
    bound = WaitBound(0.2, idle=False)
    waits = 0
    with pytest.raises(TimeoutError):
        while True:
            with bound:
                await asyncio.sleep(0.05)
            waits += 1
    bound.close()
    assert 2 <= waits <= 4 and bound.expired


async def test_a_deadline_that_passed_while_nobody_waited_fires_as_the_next_wait_begins():
    bound = WaitBound(0.05, idle=False)
    await asyncio.sleep(0.1)  # the consumer holds an item past the deadline: not cancelled
    assert bound.expired
    with pytest.raises(TimeoutError):
        with bound:
            await asyncio.sleep(0)
    bound.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation():
    async def reader() -> None:
        bound = WaitBound(5, idle=True)
        try:
            with bound:
                await asyncio.sleep(10)
        finally:
            bound.close()

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_timeout_leaves_the_task_uncancelled_so_it_can_go_on():
    bound = WaitBound(0.02, idle=True)
    with pytest.raises(TimeoutError):
        with bound:
            await asyncio.sleep(1)
    assert asyncio.current_task().cancelling() == 0
    await asyncio.sleep(0.05)  # no cancellation left pending for the next await
    bound.close()


async def test_close_drops_the_timer():
    bound = WaitBound(0.05, idle=True)
    bound.close()
    with bound:
        await asyncio.sleep(0.1)  # nothing left to cut it
    assert bound._handle is None


def test_a_bound_cuts_a_wait_on_uvloop_too():
    # The standalone server runs uvloop: the bound must find the task there as well.
    uvloop = pytest.importorskip("uvloop")

    async def cut() -> float:
        bound = WaitBound(0.05, idle=True)
        started = time.monotonic()
        try:
            with bound:
                await asyncio.sleep(5)
        except TimeoutError:
            return time.monotonic() - started
        finally:
            bound.close()
        raise AssertionError("the wait was not cut")

    assert uvloop.run(cut()) < 1


async def test_a_bound_left_unclosed_stops_its_timer_once_its_task_has_ended():
    holder: list[WaitBound] = []

    async def reader() -> None:
        bound = WaitBound(0.02, idle=True)
        holder.append(bound)
        with bound:
            await asyncio.sleep(0)
        # returns without close(), as a generator abandoned without its finally would

    await asyncio.create_task(reader())
    await asyncio.sleep(0.1)  # the timer fires after the task ended, and is not renewed
    assert holder[0]._handle is None
