"""Read-side aggregation for the usage page, all in the database.

``usage_summary`` costs a fixed number of queries whatever the size of the ledger: one
aggregate for the totals and one ``values().annotate()`` per breakdown (provider, model, API
token, day, and admin for superusers). Staff are scoped to their own rows here, not in the view or the
template, so no caller can forget it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from aiadmin.adapters.types import CAPABILITIES
from aiadmin.conf import aiadmin_time_zone
from aiadmin.providers.models import AIProvider, AIRequestLog

PERIODS: tuple[int, ...] = (7, 30, 90)
DEFAULT_PERIOD = 30
OK = AIRequestLog.STATUS_OK
CANCELLED = AIRequestLog.STATUS_CANCELLED
# The by-token row of the calls that came through no API token.
NO_TOKEN_LABEL = "console / host code"

# A stop (the admin pressed Stop, closed the page) is neither a success nor a failure: it is
# counted apart and left out of the errors and of the error rate.
_ERRORS = ~Q(status__in=(OK, CANCELLED))
_CANCELLED = Q(status=CANCELLED)

# Chart.js options for the two charts. Passed through the canvas's data-options attribute (the
# mechanism of Unfold's chart components), so the page needs no inline script.
_AXES = {
    "x": {"grid": {"display": False}, "ticks": {"maxTicksLimit": 10, "color": "#9ca3af"}},
    "y": {"beginAtZero": True, "ticks": {"precision": 0, "color": "#9ca3af"}},
}
_LEGEND = {"legend": {"display": True, "align": "end", "labels": {"boxWidth": 10, "color": "#9ca3af"}}}
REQUESTS_CHART_OPTIONS = json.dumps(
    {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        # Stacked, so a bar's height is the day's request count, the red part its errors and the
        # grey part the calls stopped by the admin.
        "scales": {"x": {**_AXES["x"], "stacked": True}, "y": {**_AXES["y"], "stacked": True}},
        "plugins": _LEGEND,
    }
)
COST_CHART_OPTIONS = json.dumps(
    {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "scales": {"x": _AXES["x"], "y": {"beginAtZero": True, "ticks": {"color": "#9ca3af"}}},
        "plugins": _LEGEND,
    }
)
_OK_COLOUR = "rgba(147, 51, 234, 0.75)"
_ERROR_COLOUR = "rgba(239, 68, 68, 0.85)"
_CANCELLED_COLOUR = "rgba(156, 163, 175, 0.8)"


def _error_rate(errors: int, requests: int, cancelled: int) -> float:
    """Errors as a share of the calls that ran to an end (stopped calls are not in it)."""
    finished = requests - cancelled
    return round(100 * errors / finished, 1) if finished > 0 else 0.0


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One line of a breakdown table (or the totals)."""

    key: str
    label: str
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    detail: str = ""
    cancelled: int = 0

    @property
    def error_rate(self) -> float:
        return _error_rate(self.errors, self.requests, self.cancelled)


@dataclass(frozen=True, slots=True)
class UsageTotals:
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    avg_latency_ms: int | None
    cancelled: int = 0

    @property
    def error_rate(self) -> float:
        return _error_rate(self.errors, self.requests, self.cancelled)


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: dt.date
    requests: int
    errors: int
    cost: Decimal
    cancelled: int = 0

    @property
    def ok(self) -> int:
        return self.requests - self.errors - self.cancelled


@dataclass(frozen=True, slots=True)
class UsageSummary:
    days: int
    since: dt.date
    until: dt.date
    totals: UsageTotals
    by_provider: list[UsageRow]
    by_model: list[UsageRow]
    # None when the viewer may not see other admins' usage (the table is not shown at all).
    by_admin: list[UsageRow] | None
    per_day: list[DayPoint]
    # The API token each call came through; calls without one (the console, host code) are
    # one row. Scoped like the rest: staff see their own tokens.
    by_token: list[UsageRow]

    @property
    def requests_chart(self) -> str:
        """Chart.js data (JSON) for the stacked requests-per-day bar chart."""
        return json.dumps(
            {
                "labels": [_day_label(point.day) for point in self.per_day],
                "datasets": [
                    {"label": "OK", "data": [point.ok for point in self.per_day], "backgroundColor": _OK_COLOUR},
                    {"label": "Errors", "data": [point.errors for point in self.per_day], "backgroundColor": _ERROR_COLOUR},
                    {"label": "Stopped", "data": [point.cancelled for point in self.per_day], "backgroundColor": _CANCELLED_COLOUR},
                ],
            }
        )

    @property
    def cost_chart(self) -> str:
        """Chart.js data (JSON) for the cost-per-day line chart."""
        return json.dumps(
            {
                "labels": [_day_label(point.day) for point in self.per_day],
                "datasets": [
                    {
                        "label": "Estimated cost (USD)",
                        # JSON has no decimals; a float is exact enough for a chart.
                        "data": [float(point.cost) for point in self.per_day],
                        "borderColor": _OK_COLOUR,
                        "backgroundColor": _OK_COLOUR,
                        # Straight segments: a smoothed curve would dip below zero-cost days.
                        "tension": 0,
                    }
                ],
            }
        )


@dataclass(frozen=True, slots=True)
class UsageChoices:
    """Options for the filter form."""

    providers: list[tuple[str, str]]
    admins: list[tuple[int, str]]


def _day_label(day: dt.date) -> str:
    return f"{day:%d %b}"


def _measures() -> dict:
    return {
        "requests": Count("pk"),
        "errors": Count("pk", filter=_ERRORS),
        "cancelled": Count("pk", filter=_CANCELLED),
        "input_sum": Sum("input_tokens"),
        "output_sum": Sum("output_tokens"),
        "cost_sum": Sum("estimated_cost"),
    }


def _row(values: dict, *, key: str, label: str, detail: str = "") -> UsageRow:
    return UsageRow(
        key=key,
        label=label,
        detail=detail,
        requests=values["requests"],
        errors=values["errors"],
        cancelled=values["cancelled"],
        input_tokens=values["input_sum"] or 0,
        output_tokens=values["output_sum"] or 0,
        cost=values["cost_sum"] or Decimal(0),
    )


def period_start(days: int) -> tuple[dt.date, dt.datetime]:
    """First day of the period and its local midnight: "last 7 days" is today and the six
    calendar days before it in ``AIADMIN["TIME_ZONE"]`` (where limits roll over), as the chart
    shows them."""
    zone = aiadmin_time_zone()
    first = timezone.localdate(timezone=zone) - dt.timedelta(days=days - 1)
    return first, dt.datetime.combine(first, dt.time.min, tzinfo=zone)


def scoped_ledger(
    *, viewer, since: dt.datetime, provider_slug: str | None = None, capability: str | None = None, admin_id: int | None = None
) -> QuerySet[AIRequestLog]:
    rows = AIRequestLog.objects.filter(created_at__gte=since).order_by()
    if viewer.is_superuser:
        if admin_id is not None:
            rows = rows.filter(admin_id=admin_id)
    else:
        # Staff see their own calls only, whatever admin the request asked for.
        rows = rows.filter(admin_id=viewer.pk)
    if provider_slug:
        # The slug column, not the foreign key: calls to a since-deleted provider still count.
        rows = rows.filter(provider_slug=provider_slug)
    if capability in CAPABILITIES:
        rows = rows.filter(capability=capability)
    return rows


def usage_summary(
    *, viewer, days: int, provider_slug: str | None = None, capability: str | None = None, admin_id: int | None = None
) -> UsageSummary:
    if days < 1:
        raise ValueError("days must be at least 1")
    first, since = period_start(days)
    rows = scoped_ledger(viewer=viewer, since=since, provider_slug=provider_slug, capability=capability, admin_id=admin_id)

    totals = rows.aggregate(
        **_measures(),
        # Failures often return at once (bad key, limit): averaging them in would flatter latency.
        avg_latency=Avg("latency_ms", filter=Q(status=OK)),
    )

    provider_label = Max(Coalesce(NullIf(F("provider__display_name"), Value("")), F("provider__name")))
    by_provider = [
        _row(values, key=values["provider_slug"], label=values["label"] or values["provider_slug"] or "(unknown)")
        for values in rows.values("provider_slug")
        .annotate(label=provider_label, **_measures())
        .order_by("-requests", "provider_slug")
    ]
    by_model = [
        _row(
            values,
            key=f"{values['provider_slug']}/{values['model_name']}",
            label=values["model_name"] or "(no model)",
            detail=values["provider_slug"],
        )
        for values in rows.values("provider_slug", "model_name").annotate(**_measures()).order_by("-requests", "model_name")
    ]

    username_field = get_user_model().USERNAME_FIELD
    token_admin = f"api_token__admin__{username_field}"
    by_token = [
        _row(
            values,
            key=str(values["api_token_id"] or ""),
            label=(
                f"{values['api_token__name']} (aia_{values['api_token__prefix']}_…)"
                if values["api_token_id"] is not None
                else NO_TOKEN_LABEL
            ),
            detail=(values[token_admin] or "(deleted admin)") if values["api_token_id"] is not None else "",
        )
        for values in rows.values("api_token_id", "api_token__name", "api_token__prefix", token_admin)
        .annotate(**_measures())
        .order_by("-requests", "api_token__name", "api_token_id")
    ]

    by_admin = None
    if viewer.is_superuser:
        username = f"admin__{get_user_model().USERNAME_FIELD}"
        by_admin = [
            _row(values, key=str(values["admin_id"] or ""), label=values[username] or "(deleted admin)")
            for values in rows.values("admin_id", username).annotate(**_measures()).order_by("-requests", username)
        ]

    # Days in AIADMIN["TIME_ZONE"], so a call at 23:30 local time lands on that day.
    daily = {
        values["day"]: values
        for values in rows.annotate(day=TruncDate("created_at", tzinfo=aiadmin_time_zone()))
        .values("day")
        .annotate(
            requests=Count("pk"),
            errors=Count("pk", filter=_ERRORS),
            cancelled=Count("pk", filter=_CANCELLED),
            cost_sum=Sum("estimated_cost"),
        )
    }
    per_day = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        values = daily.get(day)  # a day without calls is a zero, not a gap in the chart
        per_day.append(
            DayPoint(
                day=day,
                requests=values["requests"] if values else 0,
                errors=values["errors"] if values else 0,
                cancelled=values["cancelled"] if values else 0,
                cost=(values["cost_sum"] if values else None) or Decimal(0),
            )
        )

    return UsageSummary(
        days=days,
        since=first,
        until=first + dt.timedelta(days=days - 1),
        totals=UsageTotals(
            requests=totals["requests"],
            errors=totals["errors"],
            cancelled=totals["cancelled"],
            input_tokens=totals["input_sum"] or 0,
            output_tokens=totals["output_sum"] or 0,
            cost=totals["cost_sum"] or Decimal(0),
            avg_latency_ms=round(totals["avg_latency"]) if totals["avg_latency"] is not None else None,
        ),
        by_provider=by_provider,
        by_model=by_model,
        by_admin=by_admin,
        per_day=per_day,
        by_token=by_token,
    )


def usage_choices(*, viewer) -> UsageChoices:
    """Filter options: every provider; the staff admins only for superusers (one query each)."""
    providers = [
        (slug, display_name or name)
        for slug, name, display_name in AIProvider.objects.order_by("sort_order", "name").values_list("slug", "name", "display_name")
    ]
    admins: list[tuple[int, str]] = []
    if viewer.is_superuser:
        field = get_user_model().USERNAME_FIELD
        admins = list(get_user_model().objects.filter(is_staff=True).order_by(field).values_list("pk", field))
    return UsageChoices(providers=providers, admins=admins)
