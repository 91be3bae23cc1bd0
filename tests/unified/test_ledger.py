"""The ledger queue: calls that end while a write is under way go together in the next write,
every row lands, and the counters add up to the calls."""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aiadmin.providers import usage
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog
from aiadmin.providers.usage import LedgerEntry, usage_record_many
from aiadmin.unified import UnifiedAIService, ledger

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = "sk-shared-test-key-000000000001"


def entry(provider, admin, *, status="ok", settings_row=None, limit_row=None) -> LedgerEntry:
    model = AIModel.objects.filter(provider=provider).first()
    return LedgerEntry(
        admin=admin, provider=provider, provider_slug=provider.slug, model=model, model_name="alpha",
        capability="chat", key_source="shared", status=status, created_at=timezone.now(), settings_row=settings_row,
        limit_row=limit_row,
    )


async def test_calls_ending_during_a_write_are_written_together_next(scripted_provider, staff_user, monkeypatch):
    provider = await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    settings_row = await AdminProviderSettings.objects.acreate(admin=staff_user, provider=provider)
    limit_row = await AdminProviderLimit.objects.acreate(admin=staff_user, provider=provider)
    batches: list[int] = []

    def recording(*, entries):
        batches.append(len(entries))
        return usage_record_many(entries=entries)

    monkeypatch.setattr(ledger, "usage_record_many", recording)
    first = await sync_to_async(entry)(provider, staff_user, settings_row=settings_row, limit_row=limit_row)
    ledger.ledger_add(first)  # starts a write of one row
    await asyncio.sleep(0)
    for _ in range(30):  # arrive while that write runs
        ledger.ledger_add(first)
    await ledger.ledger_flush()

    assert batches == [1, 30]
    assert await AIRequestLog.objects.acount() == 31
    provider = await AIProvider.objects.aget(pk=provider.pk)
    settings_row = await AdminProviderSettings.objects.aget(pk=settings_row.pk)
    limit_row = await AdminProviderLimit.objects.aget(pk=limit_row.pk)
    assert provider.total_requests == 31
    assert (settings_row.total_requests, limit_row.usage_month_requests) == (31, 31)
    assert limit_row.usage_month == usage.month_start()


def test_a_batch_costs_the_same_statements_for_one_call_as_for_fifty(scripted_provider, staff_user):
    provider = scripted_provider(shared_api_key=SHARED)
    settings_row = AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    limit_row = AdminProviderLimit.objects.create(admin=staff_user, provider=provider)
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            usage_record_many(entries=[entry(provider, staff_user, settings_row=settings_row, limit_row=limit_row)] * size)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert AdminProviderSettings.objects.get().total_requests == 51
    assert AdminProviderLimit.objects.get().usage_month_requests == 51
    assert AIModel.objects.filter(provider=provider).first().total_requests == 51


def test_refused_calls_are_written_but_not_counted(scripted_provider, staff_user):
    provider = scripted_provider(shared_api_key=SHARED)
    usage_record_many(entries=[entry(provider, staff_user, status="no_access"), entry(provider, staff_user)])
    assert AIRequestLog.objects.count() == 2
    assert AIProvider.objects.get().total_requests == 1


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without the real waits; the delays asked for are recorded."""
    delays: list[float] = []
    real_sleep = asyncio.sleep
    test_thread = threading.get_ident()

    async def sleep(seconds, *args, **kwargs):
        if threading.get_ident() != test_thread:
            # Loops of other threads (the fake provider's uvicorn ticks every 0.1 s) keep
            # their real waits and are not the ledger's.
            return await real_sleep(seconds, *args, **kwargs)
        if seconds:  # the backoff; other code on the loop sleeps 0 to yield
            delays.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return delays


async def test_a_failed_write_is_retried_and_its_row_lands(scripted_provider, superuser, monkeypatch, caplog, no_backoff):
    provider = await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    real = ledger.usage_record_many
    failures = iter([True, True])

    def flaky(*, entries):
        if next(failures, False):
            raise RuntimeError("database went away")
        return real(entries=entries)

    monkeypatch.setattr(ledger, "usage_record_many", flaky)
    service = UnifiedAIService()
    with caplog.at_level(logging.WARNING, logger="aiadmin.unified.ledger"):
        await service.achat("one", superuser, provider_slug=provider.slug)
        await service.aflush()
        await service.achat("two", superuser, provider_slug=provider.slug)
        await service.aflush()
    assert "Could not write 1 usage ledger row(s) (attempt 1 of 6)" in caplog.text
    assert "(attempt 2 of 6)" in caplog.text and "dropped" not in caplog.text
    assert await AIRequestLog.objects.acount() == 2
    assert (await AIProvider.objects.aget(pk=provider.pk)).total_requests == 2
    assert len(no_backoff) == 2 and no_backoff[0] < no_backoff[1]  # backed off, longer each time


async def test_a_batch_that_keeps_failing_is_retried_a_bounded_number_of_times_then_dropped_with_a_count(
    scripted_provider, staff_user, monkeypatch, caplog, no_backoff
):
    provider = await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    attempts: list[int] = []

    def down(*, entries):
        attempts.append(len(entries))
        raise RuntimeError("database is down")

    monkeypatch.setattr(ledger, "usage_record_many", down)
    first = await sync_to_async(entry)(provider, staff_user)
    for _ in range(3):
        ledger.ledger_add(first)
    with caplog.at_level(logging.WARNING, logger="aiadmin.unified.ledger"):
        await ledger.ledger_flush()
    assert len(attempts) == ledger.RETRY_ATTEMPTS
    assert len(no_backoff) == ledger.RETRY_ATTEMPTS - 1
    ceilings = [min(ledger.RETRY_MAX_DELAY, ledger.RETRY_FIRST_DELAY * 2**n) for n in range(ledger.RETRY_ATTEMPTS - 1)]
    assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(no_backoff, ceilings, strict=True))
    assert f"Could not write 3 usage ledger row(s) after {ledger.RETRY_ATTEMPTS} attempt(s): dropped" in caplog.text
    # Still down: the next batch gets one attempt, so a flush at shutdown takes one retry
    # window however many batches wait.
    ledger.ledger_add(first)
    await ledger.ledger_flush()
    assert len(attempts) == ledger.RETRY_ATTEMPTS + 1


async def test_a_full_queue_drops_its_oldest_rows_with_a_logged_count_and_batches_are_bounded(
    scripted_provider, staff_user, monkeypatch, caplog, no_backoff
):
    provider = await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    monkeypatch.setattr(ledger, "MAX_QUEUED_ROWS", 5)
    monkeypatch.setattr(ledger, "MAX_BATCH_ROWS", 2)
    real = ledger.usage_record_many
    batches: list[list[str]] = []

    def recording(*, entries):
        batches.append([e.model_name for e in entries])
        return real(entries=entries)

    monkeypatch.setattr(ledger, "usage_record_many", recording)
    template = await sync_to_async(entry)(provider, staff_user)
    for number in range(8):  # all queued before the writer first runs
        ledger.ledger_add(LedgerEntry(**{**template.__dict__, "model_name": f"m{number}"}))
    with caplog.at_level(logging.ERROR, logger="aiadmin.unified.ledger"):
        await ledger.ledger_flush()
    assert "dropped the 3 oldest row(s)" in caplog.text
    assert batches == [["m3", "m4"], ["m5", "m6"], ["m7"]]
    assert await AIRequestLog.objects.acount() == 5


def test_an_older_batch_written_late_does_not_move_last_use_backwards(scripted_provider, staff_user):
    provider = scripted_provider(shared_api_key=SHARED)
    newer = entry(provider, staff_user)
    older = LedgerEntry(**{**newer.__dict__, "created_at": newer.created_at - datetime.timedelta(minutes=5)})
    usage_record_many(entries=[newer])
    usage_record_many(entries=[older])  # e.g. another worker's batch, written after ours
    provider = AIProvider.objects.get()
    assert provider.last_used_at == newer.created_at and provider.total_requests == 2


async def test_a_row_whose_provider_was_deleted_meanwhile_does_not_take_its_batch_with_it(
    scripted_provider, staff_user, no_backoff
):
    kept = await sync_to_async(scripted_provider)(shared_api_key=SHARED, slug="kept")
    gone = await sync_to_async(scripted_provider)(shared_api_key=SHARED, slug="gone")
    entries = [await sync_to_async(entry)(provider, staff_user) for provider in (kept, gone, kept)]
    await AIProvider.objects.filter(pk=gone.pk).adelete()  # by a superadmin while its call runs

    for queued in entries:
        ledger.ledger_add(queued)
    await ledger.ledger_flush()

    rows = [row async for row in AIRequestLog.objects.order_by("pk").values("provider_slug", "provider_id", "model_id")]
    assert [row["provider_slug"] for row in rows] == ["kept", "gone", "kept"]
    assert rows[1]["provider_id"] is None and rows[1]["model_id"] is None  # the text stays, the links go
    assert (await AIProvider.objects.aget(pk=kept.pk)).total_requests == 2
    assert no_backoff == []  # a refusal of the data is not retried as if the database were down
