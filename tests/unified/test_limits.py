"""Monthly limits: checked and counted atomically before the upstream call."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from aiadmin.providers import usage
from aiadmin.providers.errors import LimitExceededError
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIRequestLog
from aiadmin.unified import UnifiedAIService
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
KEY = "sk-personal-limit-key-00000000001"


@pytest.fixture
def limited(scripted_provider, staff_user):
    def make(limit: int, used: int = 0, month: dt.date | None = None) -> AdminProviderLimit:
        provider = scripted_provider()
        AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=KEY)
        return AdminProviderLimit.objects.create(
            admin=staff_user,
            provider=provider,
            monthly_limit=limit,
            usage_month=month or usage.month_start(),
            usage_month_requests=used,
        )

    return make


def test_calls_within_the_limit_count_and_show_what_is_left(limited, staff_user, scripted_adapter):
    row = limited(limit=3)
    remaining = [service.chat("hi", staff_user, provider_slug=row.provider.slug).info.remaining_quota for _ in range(3)]
    assert remaining == [2, 1, 0]
    with pytest.raises(LimitExceededError) as excinfo:
        service.chat("hi", staff_user, provider_slug=row.provider.slug)
    assert "used all 3 requests" in str(excinfo.value) and "resets on" in str(excinfo.value)
    assert len(scripted_adapter.calls) == 3  # the refused call never went upstream
    assert list(AIRequestLog.objects.order_by("id").values_list("status", flat=True)) == ["ok", "ok", "ok", "limit"]
    row.refresh_from_db()
    assert row.usage_month_requests == 3
    assert AdminProviderSettings.objects.get(admin=staff_user, provider=row.provider).total_requests == 3


def test_an_unlimited_limit_row_still_counts_the_month(scripted_provider, staff_user):
    provider = scripted_provider()
    settings_row = AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=KEY)
    row = AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=None)
    service.chat("hi", staff_user, provider_slug=provider.slug)
    service.chat("hi", staff_user, provider_slug=provider.slug)
    row.refresh_from_db()
    settings_row.refresh_from_db()
    assert (row.usage_month, row.usage_month_requests, settings_row.total_requests) == (usage.month_start(), 2, 2)


def test_the_month_rolls_over_in_the_configured_time_zone(limited, staff_user, settings, monkeypatch):
    aiadmin_set(settings, TIME_ZONE="Pacific/Auckland")
    # 2026-03-31 12:30 UTC is already 1 April (01:30) in Auckland.
    instant = dt.datetime(2026, 3, 31, 12, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(usage.timezone, "now", lambda: instant)
    assert usage.month_start() == dt.date(2026, 4, 1)
    row = limited(limit=1, used=1, month=dt.date(2026, 3, 1))  # March is used up...
    reply = service.chat("hi", staff_user, provider_slug=row.provider.slug)  # ...but it is April there
    assert reply.info.remaining_quota == 0
    row.refresh_from_db()
    assert (row.usage_month, row.usage_month_requests) == (dt.date(2026, 4, 1), 1)


def test_the_month_has_not_rolled_over_yet_in_utc(limited, staff_user, settings, monkeypatch):
    aiadmin_set(settings, TIME_ZONE="UTC")
    monkeypatch.setattr(usage.timezone, "now", lambda: dt.datetime(2026, 3, 31, 12, 30, tzinfo=dt.UTC))
    row = limited(limit=1, used=1, month=dt.date(2026, 3, 1))
    with pytest.raises(LimitExceededError, match="resets on 01 April 2026"):
        service.chat("hi", staff_user, provider_slug=row.provider.slug)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (CI runs it)")
def test_fifty_concurrent_calls_one_below_the_limit_let_exactly_one_through(limited, staff_user, scripted_adapter):
    row = limited(limit=10, used=9)
    barrier = threading.Barrier(50)

    def call(_: int) -> str:
        barrier.wait()
        try:
            service.chat("hi", staff_user, provider_slug=row.provider.slug)
            return "ok"
        except LimitExceededError:
            return "limit"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(call, range(50)))
    assert outcomes.count("ok") == 1 and outcomes.count("limit") == 49
    assert len(scripted_adapter.calls) == 1
    row.refresh_from_db()
    assert row.usage_month_requests == 10


def test_a_limit_lifted_between_plan_and_count_lets_the_call_through_and_counts_it(limited, staff_user, monkeypatch):
    from aiadmin.unified import plan as plan_module

    row = limited(limit=1, used=1)
    resolve = plan_module.plan_resolve
    # The sync twin writes the ledger before it returns, so the counter below is final.

    def resolve_then_lift(**kwargs):
        resolved = resolve(**kwargs)
        AdminProviderLimit.objects.filter(pk=row.pk).update(monthly_limit=None)  # a superadmin, meanwhile
        return resolved

    monkeypatch.setattr("aiadmin.unified.service.plan_resolve", resolve_then_lift)
    reply = service.chat("hi", staff_user, provider_slug=row.provider.slug)
    assert reply.info.remaining_quota is None
    row.refresh_from_db()
    assert row.usage_month_requests == 2
