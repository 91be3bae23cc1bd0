"""browse_models: the live list, cached per provider and key identity, fetched once."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from aiadmin.adapters import errors
from aiadmin.adapters.types import ModelInfo
from aiadmin.providers.models import AdminProviderSettings
from aiadmin.unified import UnifiedAIService
from aiadmin.unified.errors import NoAccessError
from aiadmin.unified.model_lists import KEY_PREFIX, key_identity
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
SHARED = "sk-shared-list-key-000000000001"


def test_list_is_filtered_sorted_and_marks_the_selection(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, model="beta", script={"models": ["zeta", "beta", "alpha:free", "gamma"]})
    result = service.browse_models(provider.slug, "chat", superuser)
    assert [m.id for m in result.models] == ["beta", "alpha:free", "gamma", "zeta"]  # selected, free, name
    assert result.models[0].is_selected and result.models[1].is_free
    assert not result.stale and not result.selected_missing


def test_list_is_cached_for_six_hours(scripted_provider, scripted_adapter, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    service.browse_models(provider.slug, "chat", superuser)
    service.browse_models(provider.slug, "chat", superuser)
    assert scripted_adapter.calls == ["list_models"]
    service.browse_models(provider.slug, "chat", superuser, refresh=True)
    assert scripted_adapter.calls == ["list_models", "list_models"]


def test_cache_keys_hold_a_keyed_hash_never_the_key(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    service.browse_models(provider.slug, "chat", superuser)
    keys = list(cache._cache.keys()) if hasattr(cache, "_cache") else [k.decode() for k in cache.client.get_client().keys("*")]
    list_keys = [k for k in keys if KEY_PREFIX in k]
    assert list_keys and all(SHARED not in k for k in list_keys)
    assert all(key_identity(SHARED) in k for k in list_keys)


def test_each_key_identity_has_its_own_cache(scripted_provider, scripted_adapter, superuser, staff_user):
    provider = scripted_provider(shared_api_key=SHARED)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key="sk-personal-list-key-000002")
    service.browse_models(provider.slug, "chat", superuser)
    service.browse_models(provider.slug, "chat", staff_user)
    assert scripted_adapter.calls == ["list_models", "list_models"]


def test_hundred_concurrent_cold_loads_make_one_upstream_call(scripted_provider, scripted_adapter, superuser):
    provider = scripted_provider(shared_api_key=SHARED, script={"list_delay": 0.2})

    async def hundred():
        return await asyncio.gather(*(service.abrowse_models(provider.slug, "chat", superuser) for _ in range(100)))

    results = asyncio.run(hundred())
    assert scripted_adapter.calls == ["list_models"]
    assert all(len(result.models) == 3 for result in results)


def test_concurrent_cold_loads_from_several_event_loops_make_one_upstream_call(scripted_provider, scripted_adapter, superuser):
    """Loops in different threads stand in for worker processes: the cache lock (Redis when
    configured) keeps them to one fetch."""
    provider = scripted_provider(shared_api_key=SHARED, script={"list_delay": 0.3})
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        async def twenty_five():
            return await asyncio.gather(*(service.abrowse_models(provider.slug, "chat", superuser) for _ in range(25)))

        barrier.wait()
        outcomes.extend(asyncio.run(twenty_five()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 100
    assert scripted_adapter.calls == ["list_models"]


def test_failed_refresh_keeps_the_last_good_list_and_says_so(scripted_provider, scripted_adapter, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    service.browse_models(provider.slug, "chat", superuser)
    scripted_adapter.lists_fail = True
    result = service.browse_models(provider.slug, "chat", superuser, refresh=True)
    assert result.stale and "Could not reach the provider" in result.error
    assert len(result.models) == 3


def test_failed_first_load_raises_the_error(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, script={"list_fails": True})
    with pytest.raises(errors.ProviderConnectionError):
        service.browse_models(provider.slug, "chat", superuser)


def test_selected_model_no_longer_offered_is_flagged(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, model="retired")
    result = service.browse_models(provider.slug, "chat", superuser)
    assert result.selected_model_id == "retired" and result.selected_missing


def test_no_key_means_no_list(scripted_provider, staff_user):
    provider = scripted_provider(shared_api_key=SHARED)
    with pytest.raises(NoAccessError, match="personal key"):
        service.browse_models(provider.slug, "chat", staff_user)


def test_with_redis_down_lists_and_calls_still_work(scripted_provider, scripted_adapter, superuser, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    provider = scripted_provider(shared_api_key=SHARED)
    result = service.browse_models(provider.slug, "chat", superuser)
    assert len(result.models) == 3
    assert service.chat("hi", superuser, provider_slug=provider.slug).text == "Hello world"
    assert any("lock" in record.getMessage().lower() or "redis" in record.getMessage().lower() for record in caplog.records)


def test_a_cached_list_is_parsed_once_per_fetch_and_again_after_a_refresh():
    from aiadmin.unified.model_lists import entry_models, serialise

    info = ModelInfo(id="m", name="M", capabilities=frozenset({"chat"}), pricing_input=Decimal("0.5"))
    entry = {"fetched_at": 1000.0, "models": serialise([info])}
    first = entry_models("key-a", entry)
    assert first == (info,)
    assert entry_models("key-a", dict(entry)) is first  # same fetch: not parsed again
    refreshed = entry_models("key-a", {**entry, "fetched_at": 2000.0})
    assert refreshed == (info,) and refreshed is not first


def test_a_browsed_model_carries_every_field_of_the_listed_model():
    from aiadmin.unified.results import BrowsedModel

    info = ModelInfo(
        id="vendor/m", name="M", capabilities=frozenset({"chat", "content"}), description="d", is_free=True,
        pricing_input=Decimal("0.5"), pricing_output=Decimal("1.5"), context_window=128_000,
    )
    browsed = BrowsedModel.from_info(info, is_selected=True)
    assert browsed.is_selected and browsed.info() == info


def test_lists_live_in_the_cache_aiadmin_names_for_the_time_it_says(scripted_provider, scripted_adapter, superuser, settings, monkeypatch):
    settings.CACHES = {**settings.CACHES, "aiadmin": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "conf-test"}}
    aiadmin_set(settings, CACHE="aiadmin", MODEL_LIST_CACHE_SECONDS=60, MODEL_LIST_LAST_GOOD_SECONDS=3600)
    stored: list[tuple[str, float]] = []
    aset = LocMemCache.aset

    async def recording_aset(self, key, value, timeout=None, version=None):
        stored.append((self._cache is caches["aiadmin"]._cache, timeout))
        return await aset(self, key, value, timeout, version)

    monkeypatch.setattr(LocMemCache, "aset", recording_aset)
    provider = scripted_provider(shared_api_key=SHARED)
    service.browse_models(provider.slug, "chat", superuser)
    assert stored == [(True, 60), (True, 3600)]
    service.browse_models(provider.slug, "chat", superuser)
    assert scripted_adapter.calls == ["list_models"]  # served from the "aiadmin" cache
    caches["aiadmin"].clear()
    service.browse_models(provider.slug, "chat", superuser)
    assert scripted_adapter.calls == ["list_models", "list_models"]
