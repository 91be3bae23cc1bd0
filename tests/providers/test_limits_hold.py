"""A monthly limit holds whatever a staff admin does with the rows they may edit: their own
settings row can be deleted, switched off or edited, never re-pointed, and none of it lifts
the limit, which lives on an AdminProviderLimit row only superadmins edit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aiadmin.providers import usage
from aiadmin.providers.errors import LimitExceededError
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIRequestLog
from aiadmin.unified import UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()


@pytest.fixture
def sandboxes(make_provider):
    """Two offline providers that need no key, each with a chat model selected."""

    def make():
        provider = make_provider(adapter="sandbox")
        AIModel.objects.create(provider=provider, capability="chat", model_id="sandbox-chat", is_active=True)
        return provider

    return make


@pytest.fixture
def used_up(sandboxes, staff_user):
    """The staff admin's own settings row, and a limit of 2 they have used up this month."""
    provider = sandboxes()
    row = AdminProviderSettings.objects.create(admin=staff_user, provider=provider, preferred_models={"chat": "sandbox-chat"})
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=provider, monthly_limit=2, usage_month=usage.month_start(), usage_month_requests=2
    )
    return row


def assert_still_limited(admin, provider) -> None:
    with pytest.raises(LimitExceededError, match="used all 2 requests"):
        service.chat("hi", admin, provider_slug=provider.slug)
    assert AdminProviderLimit.objects.get(admin=admin, provider=provider).usage_month_requests == 2


def test_deleting_my_settings_row_in_the_admin_keeps_the_limit(staff_client, staff_user, used_up):
    response = staff_client.post(reverse("admin:aiadmin_providers_adminprovidersettings_delete", args=[used_up.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AdminProviderSettings.objects.exists()
    assert_still_limited(staff_user, used_up.provider)


def test_deleting_my_settings_row_with_the_bulk_action_keeps_the_limit(staff_client, staff_user, used_up):
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [used_up.pk]},
    )
    assert response.status_code == 302
    assert not AdminProviderSettings.objects.exists()
    assert_still_limited(staff_user, used_up.provider)


def test_re_pointing_my_row_at_another_provider_is_refused_and_the_limit_holds(staff_client, staff_user, used_up, sandboxes):
    elsewhere = sandboxes()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[used_up.pk]),
        {"provider": elsewhere.pk, "preferred_models": '{"chat": "sandbox-chat"}', "is_active": "on"},
    )
    assert response.status_code in (200, 302)
    used_up.refresh_from_db()
    assert used_up.provider_id != elsewhere.pk
    assert_still_limited(staff_user, used_up.provider)


def test_the_settings_form_refuses_a_new_provider_for_a_saved_row(staff_user, used_up, sandboxes):
    from aiadmin.providers.forms import AdminProviderSettingsForm

    form_class = type("Form", (AdminProviderSettingsForm,), {"Meta": type("Meta", (), {"model": AdminProviderSettings, "fields": ("provider", "is_active")})})
    form = form_class({"provider": sandboxes().pk, "is_active": "on"}, instance=used_up)
    assert not form.is_valid()
    assert "cannot change" in str(form.errors["provider"])


def test_switching_my_row_off_and_on_keeps_the_limit(staff_client, staff_user, used_up):
    url = reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[used_up.pk])
    for is_active in ("", "on"):
        staff_client.post(url, {"preferred_models": '{"chat": "sandbox-chat"}', "is_active": is_active})
    used_up.refresh_from_db()
    assert used_up.is_active
    assert_still_limited(staff_user, used_up.provider)


def test_posting_a_limit_with_my_settings_changes_no_limit(staff_client, staff_user, used_up):
    staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[used_up.pk]),
        {"preferred_models": '{"chat": "sandbox-chat"}', "is_active": "on", "monthly_limit": "", "usage_month_requests": "0"},
    )
    assert_still_limited(staff_user, used_up.provider)


def test_an_admin_without_a_settings_row_is_still_limited(staff_user, sandboxes):
    provider = sandboxes()
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=provider, monthly_limit=2, usage_month=usage.month_start(), usage_month_requests=2
    )
    assert not AdminProviderSettings.objects.exists()
    assert_still_limited(staff_user, provider)


def test_a_limit_set_mid_month_counts_the_calls_already_made(superuser_client, staff_user, sandboxes):
    provider = sandboxes()
    for _ in range(2):
        service.chat("hi", staff_user, provider_slug=provider.slug)
    assert AIRequestLog.objects.filter(admin=staff_user, status="ok").count() == 2
    response = superuser_client.post(
        reverse("admin:aiadmin_providers_adminproviderlimit_add"), {"admin": staff_user.pk, "provider": provider.pk, "monthly_limit": "2"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_still_limited(staff_user, provider)


def test_a_superadmin_raising_the_limit_lets_calls_through_again(superuser_client, staff_user, used_up):
    limit = AdminProviderLimit.objects.get()
    response = superuser_client.post(
        reverse("admin:aiadmin_providers_adminproviderlimit_change", args=[limit.pk]), {"monthly_limit": "3"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert service.chat("hi", staff_user, provider_slug=used_up.provider.slug).info.remaining_quota == 0


def test_my_settings_page_shows_my_limit_read_only(staff_client, used_up):
    html = staff_client.get(reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[used_up.pk])).content.decode()
    assert "0 of 2 requests left this month" in html
    assert 'name="monthly_limit"' not in html and 'name="provider"' not in html
