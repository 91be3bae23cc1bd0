"""Write-side services for usage: the monthly limit and the ledger with its counters."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from aiadmin.adapters.types import Usage
from aiadmin.conf import aiadmin_time_zone

from .errors import LimitExceededError
from .models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog

PER_MILLION = Decimal(1_000_000)


def month_start(now: dt.datetime | None = None) -> dt.date:
    """First day of the current month in ``AIADMIN["TIME_ZONE"]`` (limits roll over there)."""
    local = (now or timezone.now()).astimezone(aiadmin_time_zone())
    return local.date().replace(day=1)


def month_seconds_left(now: dt.datetime | None = None) -> int:
    """Seconds until the monthly limits roll over (midnight on the 1st in ``AIADMIN["TIME_ZONE"]``)."""
    now = now or timezone.now()
    zone = aiadmin_time_zone()
    rollover = dt.datetime.combine(next_month_start(month_start(now)), dt.time(), tzinfo=zone)
    return max(1, int((rollover - now.astimezone(zone)).total_seconds()))


def next_month_start(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _count_in_month(month: dt.date, calls: int = 1):
    return {
        "usage_month_requests": Case(
            When(usage_month=month, then=F("usage_month_requests") + calls), default=Value(calls)
        ),
        "usage_month": month,
    }


def quota_consume(*, limit_row: AdminProviderLimit, provider: AIProvider) -> int | None:
    """Count one request against the monthly limit, or raise if none is left.

    One conditional UPDATE: the database re-checks the condition on the locked row, so
    concurrent calls can never take more than the limit. Returns the requests left after it,
    None if a superadmin lifted the limit meanwhile (the call is counted all the same).
    """
    month = month_start()
    room = Q(usage_month=month, usage_month_requests__lt=F("monthly_limit")) | (
        ~Q(usage_month=month) & Q(monthly_limit__gt=0)
    )
    updated = (
        AdminProviderLimit.objects.filter(pk=limit_row.pk, monthly_limit__isnull=False)
        .filter(room)
        .update(**_count_in_month(month))
    )
    # The stored limit, not the one loaded with the plan: a superadmin may just have changed it.
    stored = AdminProviderLimit.objects.filter(pk=limit_row.pk).values_list("monthly_limit", "usage_month_requests").first()
    if stored is None:
        return None  # the limit was deleted: nothing left to count on
    limit, used = stored
    if limit is None:
        if not updated:  # made unlimited: counted like any unlimited call
            AdminProviderLimit.objects.filter(pk=limit_row.pk).update(**_count_in_month(month))
        return None
    if not updated:
        resets = next_month_start(month)
        raise LimitExceededError(
            f"You have used all {limit} requests for {provider} this month. The limit resets on "
            f"{resets:%d %B %Y}; a superadmin can raise it under “Monthly limits”.",
            provider=str(provider),
        )
    return max(limit - used, 0)


def quota_used(*, limit_row: AdminProviderLimit) -> int:
    """Requests counted this month."""
    return limit_row.usage_month_requests if limit_row.usage_month == month_start() else 0


def quota_remaining(*, limit_row: AdminProviderLimit | None) -> int | None:
    """Requests left this month, None when unlimited."""
    if limit_row is None or limit_row.monthly_limit is None:
        return None
    return max(limit_row.monthly_limit - quota_used(limit_row=limit_row), 0)


def limit_create(*, admin, provider: AIProvider, monthly_limit: int | None) -> AdminProviderLimit:
    """A new limit, counting from the start the calls the admin made this month (the ledger
    holds them): a limit set mid-month is not a fresh allowance. Calls still queued for the
    ledger when it is created are the only ones it can miss."""
    month = month_start()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=aiadmin_time_zone())
    made = (
        AIRequestLog.objects.filter(admin=admin, provider=provider, created_at__gte=start)
        .exclude(status__in=NOT_SENT)
        .count()
    )
    return AdminProviderLimit.objects.create(
        admin=admin, provider=provider, monthly_limit=monthly_limit, usage_month=month, usage_month_requests=made
    )


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, in dollars per million tokens (None where the provider does not say).

    From the model's AIModel row, or, for a model without one (an admin's personal preference,
    an explicit model id), from the provider's cached model list."""

    input: Decimal | None = None
    output: Decimal | None = None

    @classmethod
    def of(cls, model: AIModel | None) -> ModelPrice | None:
        return None if model is None else cls(input=model.pricing_input, output=model.pricing_output)


def estimate_cost(*, usage: Usage, model: AIModel | None = None, price: ModelPrice | None = None) -> Decimal | None:
    """The call's cost from ``price`` when given, else from the model row's prices."""
    price = price if price is not None else ModelPrice.of(model)
    if price is None or (price.input is None and price.output is None):
        return None
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    cost = Decimal(usage.input_tokens or 0) * (price.input or 0)
    cost += Decimal(usage.output_tokens or 0) * (price.output or 0)
    return (cost / PER_MILLION).quantize(Decimal("0.00000001"))


@dataclass(frozen=True)
class LedgerEntry:
    """One call for the ledger, as the service saw it (``created_at``: when it ended)."""

    admin: Any
    provider: AIProvider | None
    provider_slug: str
    model: AIModel | None
    model_name: str
    capability: str
    key_source: str
    status: str
    created_at: dt.datetime
    error_message: str = ""
    latency_ms: int | None = None
    time_to_first_token_ms: int | None = None
    usage: Usage = Usage()
    settings_row: AdminProviderSettings | None = None
    limit_row: AdminProviderLimit | None = None
    counted_against_limit: bool = False
    # The price when it does not come from ``model`` (a model without an AIModel row).
    price: ModelPrice | None = None
    # The API token the call came through (None: the console or host code).
    api_token_id: int | None = None

    @property
    def reached_provider(self) -> bool:
        """Only calls that reached the provider count as requests on provider, model and settings."""
        return self.provider is not None and self.status not in NOT_SENT


def ledger_entry_unlinked(entry: LedgerEntry) -> LedgerEntry:
    """``entry`` without its links to rows a superadmin may delete while the call runs
    (provider, model, settings, limit, API token): the row keeps the provider slug and model name as text,
    and its counters, whose rows may be gone, are not bumped."""
    return replace(entry, provider=None, model=None, settings_row=None, limit_row=None, api_token_id=None)


NOT_SENT = frozenset({"no_access", "limit", "configuration", "adapter_missing", "unsupported", "scope"})


def usage_record(*, created_at: dt.datetime | None = None, **fields: Any) -> AIRequestLog:
    """Write one ledger row and bump its counters (see :func:`usage_record_many`)."""
    return usage_record_many(entries=[LedgerEntry(created_at=created_at or timezone.now(), **fields)])[0]


def usage_record_many(*, entries: Sequence[LedgerEntry]) -> list[AIRequestLog]:
    """Write ledger rows and bump the counters they add up to, in one transaction.

    Counters move by F() expressions, one UPDATE per provider, model and settings row however
    many calls the batch holds, so a busy worker writes its ledger in a few statements.
    """
    rows = [
        AIRequestLog(
            admin=entry.admin if getattr(entry.admin, "pk", None) else None,
            provider=entry.provider,
            provider_slug=entry.provider_slug,
            model=entry.model,
            model_name=entry.model_name,
            capability=entry.capability,
            key_source=entry.key_source,
            status=entry.status,
            error_message=entry.error_message[:500],
            latency_ms=entry.latency_ms,
            time_to_first_token_ms=entry.time_to_first_token_ms,
            input_tokens=entry.usage.input_tokens,
            output_tokens=entry.usage.output_tokens,
            estimated_cost=estimate_cost(usage=entry.usage, model=entry.model, price=entry.price),
            api_token_id=entry.api_token_id,
            created_at=entry.created_at,
        )
        for entry in entries
    ]
    bumps: dict[tuple[type, int], list] = {}  # (model class, pk) -> [calls, last used]
    month_counts: Counter[tuple[int, dt.date]] = Counter()  # (limit pk, month) -> calls
    for entry in entries:
        if not entry.reached_provider:
            continue
        targets = [(AIProvider, entry.provider.pk)]
        if entry.model is not None:
            targets.append((AIModel, entry.model.pk))
        if entry.settings_row is not None:
            targets.append((AdminProviderSettings, entry.settings_row.pk))
        if entry.limit_row is not None and not entry.counted_against_limit:
            # Unlimited rows count too (a limit set later starts from them); calls under a
            # limit were counted before they went out.
            month_counts[(entry.limit_row.pk, month_start(entry.created_at))] += 1
        for target in targets:
            bump = bumps.setdefault(target, [0, entry.created_at])
            bump[0] += 1
            bump[1] = max(bump[1], entry.created_at)
    with transaction.atomic():
        AIRequestLog.objects.bulk_create(rows)
        for (model_class, pk), (calls, last_used) in bumps.items():
            # Never backwards: another worker may write an older batch after this one.
            latest = Greatest(Coalesce(F("last_used_at"), Value(last_used)), Value(last_used))
            model_class.objects.filter(pk=pk).update(total_requests=F("total_requests") + calls, last_used_at=latest)
        for (pk, month), calls in month_counts.items():
            AdminProviderLimit.objects.filter(pk=pk).update(**_count_in_month(month, calls))
    return rows
