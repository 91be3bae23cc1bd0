"""My provider settings (admin) offers "use the shared key" only where the row's admin may use
that provider's shared key, and refuses it when it is posted anyway."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aiadmin.providers.models import AdminProviderSettings

pytestmark = pytest.mark.django_db

SHARED = "sk-org-shared-00000000000000abcd"
ADD = "admin:aiadmin_providers_adminprovidersettings_add"


def change_url(row) -> str:
    return reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[row.pk])


def test_the_option_is_hidden_on_a_row_whose_provider_does_not_share(staff_client, staff_user, make_provider):
    row = AdminProviderSettings.objects.create(admin=staff_user, provider=make_provider(shared_api_key=SHARED))
    html = staff_client.get(change_url(row)).content.decode()
    assert 'name="personal_api_key"' in html and 'name="use_shared_api"' not in html


def test_the_option_is_shown_where_the_provider_shares(staff_client, staff_user, make_provider):
    provider = make_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    row = AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    assert 'name="use_shared_api"' in staff_client.get(change_url(row)).content.decode()


def test_a_posted_option_is_refused_on_a_row_whose_provider_does_not_share(staff_client, staff_user, make_provider):
    row = AdminProviderSettings.objects.create(admin=staff_user, provider=make_provider(shared_api_key=SHARED))
    response = staff_client.post(change_url(row), {"use_shared_api": "on", "preferred_models": "{}", "is_active": "on"})
    assert response.status_code == 200 and "does not share its key with you" in response.content.decode()
    row.refresh_from_db()
    assert not row.use_shared_api


def test_the_add_form_offers_the_option_only_if_some_provider_shares(staff_client, make_provider):
    provider = make_provider(shared_api_key=SHARED)
    assert 'name="use_shared_api"' not in staff_client.get(reverse(ADD)).content.decode()
    provider.allow_shared_for_normal_admins = True
    provider.save()
    assert 'name="use_shared_api"' in staff_client.get(reverse(ADD)).content.decode()


def test_the_add_form_refuses_the_option_for_a_provider_that_does_not_share(staff_client, make_provider):
    make_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=True)  # so the option is shown
    closed = make_provider(shared_api_key=SHARED)
    response = staff_client.post(reverse(ADD), {"provider": closed.pk, "use_shared_api": "on", "preferred_models": "{}", "is_active": "on"})
    assert response.status_code == 200 and "does not share its key with this admin" in response.content.decode()
    assert not AdminProviderSettings.objects.exists()


def test_superusers_see_the_option_where_a_shared_key_is_set(superuser_client, superuser, make_provider):
    row = AdminProviderSettings.objects.create(admin=superuser, provider=make_provider(shared_api_key=SHARED))
    assert 'name="use_shared_api"' in superuser_client.get(change_url(row)).content.decode()
    bare = AdminProviderSettings.objects.create(admin=superuser, provider=make_provider())
    assert 'name="use_shared_api"' not in superuser_client.get(change_url(bare)).content.decode()
