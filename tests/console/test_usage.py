"""The usage page and its selector: who sees what, the arithmetic, the per-day series and a
query count that does not grow with the ledger."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aiadmin.console.usage import NO_TOKEN_LABEL, usage_summary
from aiadmin.providers.tokens import token_create, token_revoke
from aiadmin.providers.models import AIRequestLog
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:usage")


def log(admin, provider, *, model="alpha", capability="chat", status="ok", tokens=(10, 20), cost="0.001", latency=100, at=None, api_token=None):
    return AIRequestLog.objects.create(
        admin=admin,
        api_token=api_token,
        provider=provider,
        provider_slug=provider.slug if provider else "gone",
        model_name=model,
        capability=capability,
        status=status,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        estimated_cost=Decimal(cost) if cost is not None else None,
        latency_ms=latency,
        created_at=at or timezone.now(),
    )


def local_noon(days_ago: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_default_timezone())


def test_staff_see_only_their_own_usage_even_when_asking_for_another_admin(staff_client, staff_user, other_staff_user, make_provider):
    provider = make_provider()
    log(staff_user, provider, model="mine")
    for _ in range(3):
        log(other_staff_user, provider, model="theirs-secret-model", status="timeout")

    response = staff_client.get(URL, {"admin": other_staff_user.pk})

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.totals.requests, summary.totals.errors) == (1, 0)
    assert summary.by_admin is None
    content = response.content.decode()
    assert "theirs-secret-model" not in content
    assert 'data-testid="usage-admins"' not in content
    assert 'name="admin"' not in content  # no admin filter offered to staff


def test_superuser_sees_everyone_and_the_by_admin_table(superuser_client, staff_user, other_staff_user, make_provider):
    provider = make_provider()
    log(staff_user, provider)
    for _ in range(3):
        log(other_staff_user, provider, status="rate_limited")

    response = superuser_client.get(URL)

    summary = response.context["summary"]
    assert (summary.totals.requests, summary.totals.errors) == (4, 3)
    assert [(row.label, row.requests, row.errors) for row in summary.by_admin] == [("other", 3, 3), ("staff", 1, 0)]
    assert 'data-testid="usage-admins"' in response.content.decode()

    only_other = superuser_client.get(URL, {"admin": other_staff_user.pk}).context["summary"]
    assert only_other.totals.requests == 3


def test_totals_and_error_counts_match_a_hand_made_ledger(superuser, staff_user, make_provider):
    openai = make_provider(slug="openai", name="OpenAI")
    groq = make_provider(slug="groq", name="Groq", display_name="Groq Cloud")
    log(staff_user, openai, model="gpt-a", tokens=(100, 50), cost="0.0020", latency=200)
    log(staff_user, openai, model="gpt-a", tokens=(300, 150), cost="0.0060", latency=400)
    log(staff_user, openai, model="gpt-b", status="timeout", tokens=(0, 0), cost=None, latency=30_000)
    log(superuser, groq, model="llama", capability="content", tokens=(40, 60), cost="0.0001", latency=60)
    log(superuser, groq, model="llama", capability="content", status="auth", tokens=(0, 0), cost=None, latency=5)
    log(superuser, groq, model="llama", tokens=(1, 1), at=local_noon(40))  # outside the 30 days

    summary = usage_summary(viewer=superuser, days=30)

    totals = summary.totals
    assert (totals.requests, totals.errors, totals.error_rate) == (5, 2, 40.0)
    assert (totals.input_tokens, totals.output_tokens) == (440, 260)
    assert totals.cost == Decimal("0.0081")
    assert totals.avg_latency_ms == 220  # ok calls only: (200 + 400 + 60) / 3
    assert [(row.key, row.label, row.requests, row.errors, row.cost) for row in summary.by_provider] == [
        ("openai", "OpenAI", 3, 1, Decimal("0.008")),
        ("groq", "Groq Cloud", 2, 1, Decimal("0.0001")),
    ]
    assert [(row.label, row.detail, row.requests, row.errors, row.input_tokens) for row in summary.by_model] == [
        ("gpt-a", "openai", 2, 0, 400),
        ("llama", "groq", 2, 1, 40),
        ("gpt-b", "openai", 1, 1, 0),
    ]

    assert usage_summary(viewer=superuser, days=90).totals.requests == 6
    assert usage_summary(viewer=superuser, days=30, provider_slug="groq").totals.requests == 2
    assert usage_summary(viewer=superuser, days=30, capability="content").totals.errors == 1
    assert usage_summary(viewer=staff_user, days=30).totals.requests == 3
    assert usage_summary(viewer=staff_user, days=30, admin_id=superuser.pk).totals.requests == 3


def test_a_stopped_call_is_counted_apart_and_not_in_the_errors_or_the_error_rate(superuser, make_provider):
    provider = make_provider(slug="openai", name="OpenAI")
    log(superuser, provider, model="gpt-a")
    log(superuser, provider, model="gpt-a", status="timeout")
    for _ in range(2):
        log(superuser, provider, model="gpt-a", status="cancelled", latency=5)

    summary = usage_summary(viewer=superuser, days=30)

    totals = summary.totals
    assert (totals.requests, totals.errors, totals.cancelled) == (4, 1, 2)
    # One failure out of the two calls that ran to an end; the stops are not in the rate.
    assert totals.error_rate == 50.0
    assert totals.avg_latency_ms == 100  # ok calls only: a stop is no latency figure
    [row] = summary.by_provider
    assert (row.requests, row.errors, row.cancelled, row.error_rate) == (4, 1, 2, 50.0)
    [row] = summary.by_model
    assert (row.errors, row.cancelled) == (1, 2)
    assert [(row.errors, row.cancelled) for row in summary.by_admin] == [(1, 2)]


def test_only_stopped_calls_give_no_error_rate_and_the_page_shows_them_in_their_own_column(superuser_client, superuser, make_provider):
    provider = make_provider()
    log(superuser, provider, status="cancelled")

    response = superuser_client.get(URL)

    summary = response.context["summary"]
    assert (summary.totals.errors, summary.totals.cancelled, summary.totals.error_rate) == (0, 1, 0.0)
    content = response.content.decode()
    assert re.search(r'data-testid="total-cancelled">\s*1\s*<', content)
    assert re.search(r'data-testid="total-errors">\s*0\s*<', content)
    assert content.count('<th scope="col" class="ai-usage-num">Stopped</th>') == 4 + 1  # 4 tables + per day


def test_days_without_calls_appear_as_zero_in_the_chart_data(superuser, make_provider):
    provider = make_provider()
    log(superuser, provider, at=local_noon(0), cost="0.5")
    log(superuser, provider, at=local_noon(3), status="timeout", cost=None)
    log(superuser, provider, at=local_noon(3), cost="0.25")
    log(superuser, provider, at=local_noon(3), status="cancelled", cost=None)

    summary = usage_summary(viewer=superuser, days=7)

    assert [point.day for point in summary.per_day] == [timezone.localdate() - dt.timedelta(days=n) for n in range(6, -1, -1)]
    assert [(point.requests, point.errors, point.cancelled) for point in summary.per_day] == [
        (0, 0, 0), (0, 0, 0), (0, 0, 0), (3, 1, 1), (0, 0, 0), (0, 0, 0), (1, 0, 0)
    ]
    requests_chart = json.loads(summary.requests_chart)
    assert len(requests_chart["labels"]) == 7
    ok, errors, stopped = requests_chart["datasets"]
    assert ok["data"] == [0, 0, 0, 1, 0, 0, 1]
    assert errors["data"] == [0, 0, 0, 1, 0, 0, 0]
    assert (stopped["label"], stopped["data"]) == ("Stopped", [0, 0, 0, 1, 0, 0, 0])
    assert json.loads(summary.cost_chart)["datasets"][0]["data"] == [0, 0, 0, 0.25, 0, 0, 0.5]


def test_days_are_counted_in_the_aiadmin_time_zone_not_djangos(client, settings, superuser, make_provider):
    settings.TIME_ZONE = "UTC"
    aiadmin_set(settings, TIME_ZONE="America/New_York")
    new_york = ZoneInfo("America/New_York")
    provider = make_provider()
    # Late evening in New York is already the next day in UTC.
    yesterday = timezone.localdate(timezone=new_york) - dt.timedelta(days=1)
    log(superuser, provider, at=dt.datetime.combine(yesterday, dt.time(23, 30), tzinfo=new_york))

    per_day = {point.day: point.requests for point in usage_summary(viewer=superuser, days=7).per_day}

    assert per_day[yesterday] == 1
    assert per_day[timezone.localdate(timezone=new_york)] == 0
    client.force_login(superuser)
    assert "days in America/New_York" in client.get(URL).content.decode()


def test_without_an_aiadmin_time_zone_days_follow_djangos(settings, superuser, make_provider):
    settings.TIME_ZONE = "America/New_York"
    aiadmin_set(settings, TIME_ZONE=None)
    provider = make_provider()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    log(superuser, provider, at=dt.datetime.combine(yesterday, dt.time(23, 30), tzinfo=timezone.get_default_timezone()))

    per_day = {point.day: point.requests for point in usage_summary(viewer=superuser, days=7).per_day}

    assert per_day[yesterday] == 1
    assert per_day[timezone.localdate()] == 0


def test_query_count_is_the_same_for_5_and_for_50_ledger_rows(client, superuser, django_user_model, make_provider, django_assert_max_num_queries):
    client.force_login(superuser)
    providers = [make_provider() for _ in range(2)]
    admins = [django_user_model.objects.create_user(f"admin{n}", is_staff=True) for n in range(2)]
    for n in range(5):
        log(admins[n % 2], providers[n % 2], model=f"model-{n % 3}", status="ok" if n % 4 else "timeout", at=local_noon(n))
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).context["summary"].totals.requests == 5

    providers += [make_provider() for _ in range(8)]
    admins += [django_user_model.objects.create_user(f"more{n}", is_staff=True) for n in range(6)]
    for n in range(45):
        log(admins[n % 8], providers[n % 10], model=f"model-{n % 17}", status="ok" if n % 5 else "bad_request", at=local_noon(n % 30))

    with django_assert_max_num_queries(len(small)):
        response = client.get(URL)
    summary = response.context["summary"]
    assert summary.totals.requests == 50
    assert len(summary.by_provider) == 10 and len(summary.by_admin) == 8
    # The selector alone: totals, provider, model, token, admin and day queries, nothing per row.
    with django_assert_max_num_queries(6):
        usage_summary(viewer=superuser, days=30)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_page_has_no_inline_script_and_draws_charts_from_data_attributes(superuser_client, superuser, make_provider):
    log(superuser, make_provider())

    content = superuser_client.get(URL).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>", content, flags=re.IGNORECASE)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert re.search(r"\son[a-z]+\s*=", content.split("<body", 1)[1].split('id="usage-body"', 1)[1]) is None
    canvases = re.findall(r'<canvas class="chart"[^>]*data-type="(bar|line)"[^>]*data-value="([^"]+)"', content)
    assert [kind for kind, _ in canvases] == ["bar", "line"]


def test_htmx_filter_requests_get_the_body_partial_only(superuser_client, superuser, make_provider):
    log(superuser, make_provider(slug="kept"), capability="image")

    response = superuser_client.get(URL, {"period": "7", "capability": "image", "provider": "kept"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="usage-body"')
    assert "<html" not in content
    assert 'data-testid="total-requests">1<' in content
    days_table = content.split('data-testid="usage-days"', 1)[1].split("</table>", 1)[0]
    assert days_table.count("<tr><td>") == 7  # one row per day of the 7-day period


def test_nonsense_filter_values_fall_back_to_defaults(staff_client):
    response = staff_client.get(URL, {"period": "12", "admin": "x", "capability": "<b>", "provider": "nope"})

    assert response.status_code == 200
    assert response.context["summary"].days == 30
    assert response.context["summary"].totals.requests == 0


def test_usage_groups_by_api_token_with_its_admin_and_the_calls_without_one(superuser_client, superuser, staff_user, other_staff_user, make_provider):
    provider = make_provider()
    billing = token_create(admin=staff_user, name="billing").token
    crm = token_create(admin=other_staff_user, name="crm").token
    for _ in range(3):
        log(staff_user, provider, api_token=billing, tokens=(5, 7))
    log(staff_user, provider, api_token=billing, status="timeout", tokens=(0, 0), cost=None)
    log(other_staff_user, provider, api_token=crm)
    log(staff_user, provider)  # the console
    log(superuser, provider)  # host code
    token_revoke(token=crm)  # a revoked token's calls still count under its name

    response = superuser_client.get(URL)

    by_token = response.context["summary"].by_token
    assert [(row.key, row.label, row.detail, row.requests, row.errors, row.input_tokens) for row in by_token] == [
        (str(billing.pk), f"billing (aia_{billing.prefix}_…)", "staff", 4, 1, 15),
        ("", NO_TOKEN_LABEL, "", 2, 0, 20),
        (str(crm.pk), f"crm (aia_{crm.prefix}_…)", "other", 1, 0, 10),
    ]
    table = response.content.decode().split('data-testid="usage-tokens"', 1)[1].split("</table>", 1)[0]
    assert "By API token" in table and "console / host code" in table and f"aia_{billing.prefix}_…" in table
    assert billing.hash not in response.content.decode()

    # Filters narrow it like every other table.
    only_other = superuser_client.get(URL, {"admin": other_staff_user.pk}).context["summary"].by_token
    assert [(row.label, row.requests) for row in only_other] == [(f"crm (aia_{crm.prefix}_…)", 1)]


def test_staff_see_only_their_own_tokens_in_the_by_token_table(staff_client, staff_user, other_staff_user, make_provider):
    provider = make_provider()
    mine = token_create(admin=staff_user, name="mine").token
    theirs = token_create(admin=other_staff_user, name="their-secret-token").token
    log(staff_user, provider, api_token=mine)
    log(other_staff_user, provider, api_token=theirs)
    log(other_staff_user, provider)

    response = staff_client.get(URL, {"admin": other_staff_user.pk})

    by_token = response.context["summary"].by_token
    assert [(row.label, row.detail, row.requests) for row in by_token] == [(f"mine (aia_{mine.prefix}_…)", "staff", 1)]
    content = response.content.decode()
    assert "their-secret-token" not in content and theirs.prefix not in content
    assert 'data-testid="usage-tokens"' in content


def test_an_admin_id_too_big_for_the_database_is_ignored_not_a_500(superuser_client, superuser, make_provider):
    log(superuser, make_provider())

    response = superuser_client.get(URL, {"admin": "9" * 30})

    assert response.status_code == 200
    assert response.context["summary"].totals.requests == 1
