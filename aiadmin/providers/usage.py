"""Write-side services for usage: the monthly limit and the ledger with its counters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from aiadmin.adapters.errors import LimitExceededError
from aiadmin.adapters.types import Usage

from .models import AdminProviderSettings, AIModel, AIProvider, AIRequestLog

PER_MILLION = Decimal(1_000_000)


def month_start(now: dt.datetime | None = None) -> dt.date:
    """First day of the current month in the configured time zone (limits roll over there)."""
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.date().replace(day=1)


def next_month_start(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _count_in_month(month: dt.date):
    return {
        "usage_month_requests": Case(
            When(usage_month=month, then=F("usage_month_requests") + 1), default=Value(1)
        ),
        "usage_month": month,
    }


def quota_consume(*, settings_row: AdminProviderSettings, provider: AIProvider) -> int:
    """Count one request against the monthly limit, or raise if none is left.

    One conditional UPDATE: the database re-checks the condition on the locked row, so
    concurrent calls can never take more than the limit. Returns the requests left after it.
    """
    limit = settings_row.monthly_limit
    month = month_start()
    room = Q(usage_month=month, usage_month_requests__lt=F("monthly_limit")) | (
        ~Q(usage_month=month) & Q(monthly_limit__gt=0)
    )
    updated = (
        AdminProviderSettings.objects.filter(pk=settings_row.pk, monthly_limit__isnull=False)
        .filter(room)
        .update(**_count_in_month(month))
    )
    if not updated:
        resets = next_month_start(month)
        raise LimitExceededError(
            f"You have used all {limit} requests for {provider} this month. The limit resets on "
            f"{resets:%d %B %Y}; a superadmin can raise it in your provider settings.",
            provider=str(provider),
        )
    used = AdminProviderSettings.objects.filter(pk=settings_row.pk).values_list("usage_month_requests", flat=True).get()
    return max(limit - used, 0)


def quota_remaining(*, settings_row: AdminProviderSettings | None) -> int | None:
    """Requests left this month, None when unlimited."""
    if settings_row is None or settings_row.monthly_limit is None:
        return None
    used = settings_row.usage_month_requests if settings_row.usage_month == month_start() else 0
    return max(settings_row.monthly_limit - used, 0)


def estimate_cost(*, usage: Usage, model: AIModel | None) -> Decimal | None:
    if model is None or (model.pricing_input is None and model.pricing_output is None):
        return None
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    cost = Decimal(usage.input_tokens or 0) * (model.pricing_input or 0)
    cost += Decimal(usage.output_tokens or 0) * (model.pricing_output or 0)
    return (cost / PER_MILLION).quantize(Decimal("0.00000001"))


def usage_record(
    *,
    admin,
    provider: AIProvider | None,
    provider_slug: str,
    model: AIModel | None,
    model_name: str,
    capability: str,
    key_source: str,
    status: str,
    error_message: str = "",
    latency_ms: int | None = None,
    time_to_first_token_ms: int | None = None,
    usage: Usage = Usage(),
    settings_row: AdminProviderSettings | None = None,
    counted_against_limit: bool = False,
) -> AIRequestLog:
    """Write the ledger row and bump the counters (F() expressions, one transaction).

    Only calls that reached the provider count as requests on provider, model and settings.
    """
    now = timezone.now()
    reached_provider = status not in {"no_access", "limit", "configuration", "adapter_missing", "unsupported"}
    with transaction.atomic():
        entry = AIRequestLog.objects.create(
            admin=admin if getattr(admin, "pk", None) else None,
            provider=provider,
            provider_slug=provider_slug,
            model=model,
            model_name=model_name,
            capability=capability,
            key_source=key_source,
            status=status,
            error_message=error_message[:500],
            latency_ms=latency_ms,
            time_to_first_token_ms=time_to_first_token_ms,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            estimated_cost=estimate_cost(usage=usage, model=model),
            created_at=now,
        )
        if reached_provider and provider is not None:
            bump = {"total_requests": F("total_requests") + 1, "last_used_at": now}
            AIProvider.objects.filter(pk=provider.pk).update(**bump)
            if model is not None:
                AIModel.objects.filter(pk=model.pk).update(**bump)
            if settings_row is not None:
                # Calls under a limit were counted for the month before they went out.
                month_count = {} if counted_against_limit else _count_in_month(month_start(now))
                AdminProviderSettings.objects.filter(pk=settings_row.pk).update(**bump, **month_count)
    return entry
