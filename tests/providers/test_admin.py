"""Admin permissions and write-only secrets, checked through the real admin views."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIProvider

pytestmark = pytest.mark.django_db

CANARY = "sk-canary-admin-0123456789wxyz"


def provider_form_data(provider: AIProvider, **overrides) -> dict:
    data = {
        "name": provider.name,
        "display_name": provider.display_name,
        "slug": provider.slug,
        "adapter": provider.adapter,
        "description": provider.description,
        "api_base_url": provider.api_base_url,
        "website": "",
        "docs_url": "",
        "key_url": "",
        "is_active": "on",
        "sort_order": provider.sort_order,
        "allow_personal_keys": "on",
        "capabilities": '{"chat": {"supported": true, "dynamic_models": true}}',
        "config": "{}",
        "shared_api_key": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def change_url(provider: AIProvider) -> str:
    return reverse("admin:aiadmin_providers_aiprovider_change", args=[provider.pk])


def test_superuser_adds_a_provider_with_an_encrypted_shared_key(superuser_client):
    template = AIProvider(slug="acme", name="Acme AI", adapter="sandbox", api_base_url="https://api.acme.test/v1", sort_order=5)
    response = superuser_client.post(
        reverse("admin:aiadmin_providers_aiprovider_add"), provider_form_data(template, shared_api_key=CANARY)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = AIProvider.objects.get(slug="acme")
    assert provider.reveal_secret("shared_api_key") == CANARY


def test_change_page_never_renders_the_key_or_its_ciphertext(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    ciphertext = str(AIProvider.objects.get(pk=provider.pk).shared_api_key)
    html = superuser_client.get(change_url(provider)).content.decode()
    assert CANARY not in html and ciphertext not in html
    assert "••••••••wxyz" in html  # the masked hint: last four characters only


def test_short_key_hint_shows_none_of_its_characters(superuser_client, make_provider):
    provider = make_provider(shared_api_key="k9Zq2")
    html = superuser_client.get(change_url(provider)).content.decode()
    assert "k9Zq2" not in html and "Zq2" not in html
    assert "•••••••• (set)" in html


def test_untouched_key_field_keeps_the_stored_key(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    response = superuser_client.post(change_url(provider), provider_form_data(provider, name="Renamed"))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Renamed"
    assert provider.reveal_secret("shared_api_key") == CANARY


def test_clearing_the_key_is_an_explicit_action(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    response = superuser_client.post(change_url(provider), provider_form_data(provider, clear_shared_api_key="on"))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.shared_api_key == ""


def test_new_key_and_clear_together_is_refused_and_other_input_kept(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    response = superuser_client.post(
        change_url(provider),
        provider_form_data(provider, name="Typed name", shared_api_key="sk-another-key-1234", clear_shared_api_key="on"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not both" in html
    assert 'value="Typed name"' in html  # what the admin typed is kept
    assert "sk-another-key-1234" not in html  # but a secret is never echoed back


def test_changing_the_base_url_clears_the_shared_key(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    response = superuser_client.post(
        change_url(provider), provider_form_data(provider, api_base_url="https://elsewhere.example.net/v1"), follow=True
    )
    assert "shared key was cleared" in response.content.decode()
    provider.refresh_from_db()
    assert provider.shared_api_key == ""


def test_changing_base_url_with_a_new_key_keeps_the_new_key(superuser_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    superuser_client.post(
        change_url(provider),
        provider_form_data(provider, api_base_url="https://elsewhere.example.net/v1", shared_api_key="sk-new-key-for-new-url"),
    )
    provider.refresh_from_db()
    assert provider.reveal_secret("shared_api_key") == "sk-new-key-for-new-url"


def test_admin_history_records_the_change_without_the_key(superuser_client, make_provider):
    provider = make_provider()
    superuser_client.post(change_url(provider), provider_form_data(provider, shared_api_key=CANARY))
    messages = " ".join(entry.change_message for entry in LogEntry.objects.all())
    assert "Shared API key" in messages
    assert CANARY not in messages
    history = superuser_client.get(reverse("admin:aiadmin_providers_aiprovider_history", args=[provider.pk])).content.decode()
    assert CANARY not in history


def test_adapter_choices_come_from_the_registry_and_keep_a_missing_adapter(superuser_client, make_provider):
    provider = make_provider(adapter="not-installed")
    html = superuser_client.get(change_url(provider)).content.decode()
    assert 'value="sandbox"' in html
    assert "not-installed (adapter missing)" in html


def test_provider_list_shows_a_missing_adapter_instead_of_failing(superuser_client, make_provider):
    make_provider(adapter="ghost-adapter")
    response = superuser_client.get(reverse("admin:aiadmin_providers_aiprovider_changelist"))
    assert response.status_code == 200
    assert "adapter missing" in response.content.decode()


# --- staff (is_staff, not superuser) ---------------------------------------------------


def test_staff_sees_providers_read_only(staff_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    assert staff_client.get(reverse("admin:aiadmin_providers_aiprovider_changelist")).status_code == 200
    response = staff_client.get(change_url(provider))
    assert response.status_code == 200
    html = response.content.decode()
    assert CANARY not in html and "wxyz" not in html  # staff are told a key exists, nothing more
    assert 'name="shared_api_key"' not in html
    assert 'type="submit"' not in html or 'name="_save"' not in html


def test_staff_cannot_add_or_change_providers(staff_client, make_provider):
    provider = make_provider(shared_api_key=CANARY)
    assert staff_client.get(reverse("admin:aiadmin_providers_aiprovider_add")).status_code == 403
    response = staff_client.post(change_url(provider), provider_form_data(provider, name="Hijacked", shared_api_key="sk-staff-key-000"))
    assert response.status_code == 403
    provider.refresh_from_db()
    assert provider.name != "Hijacked"
    assert provider.reveal_secret("shared_api_key") == CANARY


def test_staff_cannot_delete_providers(staff_client, make_provider):
    provider = make_provider()
    response = staff_client.post(reverse("admin:aiadmin_providers_aiprovider_delete", args=[provider.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert AIProvider.objects.filter(pk=provider.pk).exists()


def test_staff_adds_own_settings_with_a_personal_key(staff_client, staff_user, make_provider):
    provider = make_provider()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_add"),
        {"provider": provider.pk, "personal_api_key": CANARY, "preferred_models": "{}", "is_active": "on", "monthly_limit": "5"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    row = AdminProviderSettings.objects.get()
    assert row.admin == staff_user
    assert row.reveal_secret("personal_api_key") == CANARY
    assert not AdminProviderLimit.objects.exists()  # limits are set by superadmins only


def test_staff_sees_only_own_settings(staff_client, staff_user, other_staff_user, make_provider):
    provider = make_provider()
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    AdminProviderSettings.objects.create(admin=other_staff_user, provider=make_provider(name="Other's provider"))
    response = staff_client.get(reverse("admin:aiadmin_providers_adminprovidersettings_changelist"))
    assert [row.admin for row in response.context["cl"].result_list] == [staff_user]


def test_staff_opening_another_admins_settings_by_id_is_forbidden(staff_client, other_staff_user, make_provider):
    theirs = AdminProviderSettings.objects.create(admin=other_staff_user, provider=make_provider(), personal_api_key=CANARY)
    url = reverse("admin:aiadmin_providers_adminprovidersettings_change", args=[theirs.pk])
    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, {"provider": theirs.provider_id, "clear_personal_api_key": "on"}).status_code == 403
    delete_url = reverse("admin:aiadmin_providers_adminprovidersettings_delete", args=[theirs.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.reveal_secret("personal_api_key") == CANARY


def test_personal_key_refused_where_the_provider_disallows_personal_keys(staff_client, make_provider):
    provider = make_provider(allow_personal_keys=False)
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_add"),
        {"provider": provider.pk, "personal_api_key": CANARY, "preferred_models": "{}", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "does not accept personal keys" in response.content.decode()
    assert not AdminProviderSettings.objects.exists()


def test_second_settings_row_for_the_same_provider_is_a_form_error(staff_client, staff_user, make_provider):
    provider = make_provider()
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_add"),
        {"provider": provider.pk, "preferred_models": "{}", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "exist already" in response.content.decode()


def test_superuser_sets_a_monthly_limit_for_an_admin(superuser_client, staff_user, make_provider):
    provider = make_provider()
    response = superuser_client.post(
        reverse("admin:aiadmin_providers_adminproviderlimit_add"),
        {"admin": staff_user.pk, "provider": provider.pk, "monthly_limit": "25"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AdminProviderLimit.objects.get().monthly_limit == 25


def test_staff_sees_only_own_usage_log(staff_client, staff_user, other_staff_user):
    from aiadmin.providers.models import AIRequestLog

    AIRequestLog.objects.create(admin=staff_user, provider_slug="mine", model_name="m-own", capability="chat")
    AIRequestLog.objects.create(admin=other_staff_user, provider_slug="theirs", model_name="m-theirs", capability="chat")
    html = staff_client.get(reverse("admin:aiadmin_providers_airequestlog_changelist")).content.decode()
    assert "m-own" in html and "m-theirs" not in html


def test_non_staff_user_is_sent_to_login(client, django_user_model):
    user = django_user_model.objects.create_user("plain", password="pw-plain-123")
    client.force_login(user)
    response = client.get(reverse("admin:aiadmin_providers_aiprovider_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_admin_list_page_renders(superuser_client, make_provider):
    make_provider()
    for name in ("aiprovider", "aimodel", "adminprovidersettings", "adminproviderlimit", "airequestlog"):
        assert superuser_client.get(reverse(f"admin:aiadmin_providers_{name}_changelist")).status_code == 200


@pytest.fixture
def users_sign_in_by_email(monkeypatch, django_user_model):
    """The user model as a host's own may be: its login field is the email address."""
    monkeypatch.setattr(django_user_model, "USERNAME_FIELD", "email")


@pytest.mark.parametrize("name", ["adminprovidersettings", "adminproviderlimit", "airequestlog"])
def test_rows_are_found_by_their_admins_login_field(name, users_sign_in_by_email, superuser_client, staff_user, make_provider):
    from aiadmin.providers.models import AIRequestLog

    provider = make_provider()
    if name == "adminprovidersettings":
        AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    elif name == "adminproviderlimit":
        AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=5)
    else:
        AIRequestLog.objects.create(admin=staff_user, provider_slug=provider.slug, model_name="m-found", capability="chat")
    response = superuser_client.get(reverse(f"admin:aiadmin_providers_{name}_changelist"), {"q": "staff@example"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
