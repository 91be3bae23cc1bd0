"""A crowd of calls that miss the same resolved plan at once resolves it once."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from aiadmin.unified import UnifiedAIService, routing, service

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = "sk-shared-test-key-000000000001"


@pytest.fixture(autouse=True)
def empty_routing_cache():
    routing.routing_clear()
    yield
    routing.routing_clear()


def counting_resolve(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = service.plan_resolve

    def resolve(**kwargs):
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(service, "plan_resolve", resolve)
    return calls


async def test_fifty_concurrent_calls_that_miss_the_cache_resolve_their_plan_once(
    scripted_provider, superuser, monkeypatch
):
    provider = await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    resolved = counting_resolve(monkeypatch)
    ai = UnifiedAIService()

    replies = await asyncio.gather(*(ai.achat(f"hello {n}", superuser, provider_slug=provider.slug) for n in range(50)))

    assert len(replies) == 50 and all(reply.text for reply in replies)
    assert len(resolved) == 1


async def test_a_refused_call_leaves_each_waiting_call_its_own_resolution_and_error(
    scripted_provider, staff_user, monkeypatch
):
    # No key the staff user may use: every call is refused, and each refusal is its own.
    provider = await sync_to_async(scripted_provider)()
    resolved = counting_resolve(monkeypatch)
    ai = UnifiedAIService()

    results = await asyncio.gather(
        *(ai.achat("hello", staff_user, provider_slug=provider.slug) for _ in range(5)), return_exceptions=True
    )

    assert all(isinstance(result, Exception) for result in results)
    assert len(resolved) == 5


async def test_fifty_concurrent_model_list_checks_that_miss_the_cache_read_the_rows_once(
    scripted_provider, superuser, monkeypatch
):
    # The playgrounds check every posted model against this list: a burst of turns after the
    # entry expired must not queue fifty identical reads on the sync threads.
    await sync_to_async(scripted_provider)(shared_api_key=SHARED)
    reads: list[int] = []
    real = service.selection.available_models

    def available_models(**kwargs):
        reads.append(1)
        return real(**kwargs)

    monkeypatch.setattr(service.selection, "available_models", available_models)
    ai = UnifiedAIService()

    lists = await asyncio.gather(*(ai.aget_available_models("chat", superuser) for _ in range(50)))

    assert len(reads) == 1
    assert all(found == lists[0] and found for found in lists)
    lists[0].append("changed")  # each caller gets a list of its own
    assert "changed" not in lists[1]
