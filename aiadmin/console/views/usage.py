"""The usage page: totals, breakdowns and per-day charts read from the ledger. With HTMX the
filter form gets the body partial only; the aggregation (and who may see what) lives in
``console.usage``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aiadmin.adapters.types import CAPABILITIES
from aiadmin.conf import aiadmin_settings

from ..access import console_context, console_view
from ..usage import COST_CHART_OPTIONS, DEFAULT_PERIOD, PERIODS, REQUESTS_CHART_OPTIONS, usage_choices, usage_summary


# The largest id a database integer column holds: a bigger "admin" would make the lookup fail.
MAX_ID = 2**63 - 1


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and abs(number) <= MAX_ID else None


@console_view
def usage_view(request: HttpRequest) -> HttpResponse:
    period = _int_or_none(request.GET.get("period"))
    days = period if period in PERIODS else DEFAULT_PERIOD
    capability = request.GET.get("capability", "")
    capability = capability if capability in CAPABILITIES else ""
    provider = request.GET.get("provider", "")[:64]
    # Passed for everyone; the selector ignores it unless the viewer is a superuser.
    admin_id = _int_or_none(request.GET.get("admin"))

    summary = usage_summary(
        viewer=request.user, days=days, provider_slug=provider or None, capability=capability or None, admin_id=admin_id
    )
    context = console_context(
        request,
        title="Usage",
        summary=summary,
        choices=usage_choices(viewer=request.user),
        periods=PERIODS,
        capabilities=CAPABILITIES,
        selected={
            "days": days,
            "provider": provider,
            "capability": capability,
            "admin": admin_id if request.user.is_superuser else None,
        },
        time_zone=aiadmin_settings.TIME_ZONE,
        requests_chart_options=REQUESTS_CHART_OPTIONS,
        cost_chart_options=COST_CHART_OPTIONS,
    )
    # A history restore (back button after hx-push-url) needs the whole page, not the partial.
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "aiadmin/console/usage.html#usage-body" if partial else "aiadmin/console/usage.html", context)
