"""The aiadmin admin lists: compact columns (so they fit a 1280 px window, measured in
tests/e2e/test_provider_form.py) and a query count that does not grow with the rows."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog

pytestmark = pytest.mark.django_db

LISTS = ("aiprovider", "aimodel", "adminprovidersettings", "adminproviderlimit", "airequestlog")


def add_rows(count: int, *, start: int, make_provider, superuser, staff_user) -> None:
    for number in range(start, start + count):
        provider = make_provider(slug=f"p-{number}", adapter="openai" if number % 2 else "ghost", shared_api_key="sk-0123456789abcdef")
        AIModel.objects.create(provider=provider, capability="chat", model_id=f"model-{number}", pricing_input=Decimal("1.5"))
        AdminProviderSettings.objects.create(admin=superuser, provider=provider, personal_api_key="sk-personal-0123456789")
        AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=10)
        AIRequestLog.objects.create(admin=staff_user, provider=provider, provider_slug=provider.slug, model_name="m", capability="chat", latency_ms=5)


def list_queries(client, name: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(f"admin:aiadmin_providers_{name}_changelist")).status_code == 200
    return len(queries)


def test_list_pages_make_as_many_queries_for_30_rows_as_for_3(superuser_client, superuser, staff_user, make_provider):
    add_rows(3, start=0, make_provider=make_provider, superuser=superuser, staff_user=staff_user)
    few = {name: list_queries(superuser_client, name) for name in LISTS}
    add_rows(27, start=3, make_provider=make_provider, superuser=superuser, staff_user=staff_user)
    many = {name: list_queries(superuser_client, name) for name in LISTS}
    assert many == few


def test_the_provider_list_puts_name_and_slug_in_one_column_and_names_a_missing_adapter(superuser_client, make_provider):
    make_provider(slug="ghostly", name="Ghostly", adapter="ghost-adapter")
    html = superuser_client.get(reverse("admin:aiadmin_providers_aiprovider_changelist")).content.decode()
    assert "ghost-adapter: adapter missing" in html
    assert html.count("<th") < 12  # checkbox + 8 columns, not the 11 it had


def test_the_usage_log_shows_latency_and_tokens_compactly(superuser_client, superuser):
    AIRequestLog.objects.create(
        admin=superuser, provider_slug="acme", model_name="acme-large", capability="chat",
        latency_ms=1234, time_to_first_token_ms=56, input_tokens=10, output_tokens=20, status="rate_limited",
    )
    html = superuser_client.get(reverse("admin:aiadmin_providers_airequestlog_changelist")).content.decode()
    for text in ("1234 ms", "first token 56 ms", "10 in", "20 out", "acme-large"):
        assert text in html
    status_cell = re.search(r'<td class="field-status_label[^"]*"[^>]*>(.*?)</td>', html, re.S).group(1)
    assert "rate_limited" in status_cell
    assert AIProvider.objects.count() == 0
