"""Keys pages: superadmins set the shared key and sharing policy, staff only their own key;
keys are write-only (encrypted, never in the HTML, masked hints); "Test connection" stores
the adapter's verdict."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from aiadmin.providers.models import AdminProviderSettings, AIProvider

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONAL_KEY = "sk-staff-personal-0000000000wxyz"
SHARED_KEY = "sk-org-shared-00000000000000abcd"
WRONG_KEY = "sk-wrong-key-000000000000000000"



def url(name: str, provider: AIProvider) -> str:
    return reverse(f"aiadmin_console:{name}", args=[provider.slug])


def stored_column(model, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608 (test-only names)
        return cursor.fetchone()[0]


def test_anonymous_users_are_sent_to_login(client, keyed):
    response = client.get(url("keys", keyed))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_see_only_their_own_key_form(staff_client, keyed):
    html = staff_client.get(url("keys", keyed)).content.decode()
    assert 'data-testid="personal-panel"' in html and 'name="personal_api_key"' in html
    assert 'data-testid="shared-panel"' not in html and 'name="shared_api_key"' not in html
    # No shared key and nothing stored: neither "use the shared key" nor "clear my key" is offered.
    assert 'name="use_shared_api"' not in html and 'name="clear_personal_api_key"' not in html


def test_superusers_see_the_shared_key_and_policy_form(superuser_client, keyed):
    html = superuser_client.get(url("keys", keyed)).content.decode()
    assert 'data-testid="shared-panel"' in html
    for name in ("shared_api_key", "allow_shared_for_normal_admins", "allow_personal_keys"):
        assert f'name="{name}"' in html
    assert 'name="clear_shared_api_key"' not in html  # nothing stored to clear
    assert 'name="adapter"' not in html and 'name="api_base_url"' not in html  # keys only


def test_staff_get_403_on_the_shared_key_form(staff_client, keyed):
    response = staff_client.post(url("shared_key", keyed), {"shared_api_key": SHARED_KEY, "allow_personal_keys": "on"})
    assert response.status_code == 403
    keyed.refresh_from_db()
    assert not keyed.shared_api_key


def test_staff_get_403_testing_the_shared_key(staff_client, keyed):
    response = staff_client.post(url("test_connection", keyed), {"key_source": "shared"}, **HTMX)
    assert response.status_code == 403


def test_staff_set_their_personal_key_encrypted_and_never_shown(staff_client, staff_user, keyed):
    response = staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX)
    assert response.status_code == 200 and 'data-testid="personal-saved"' in response.content.decode()
    row = AdminProviderSettings.objects.get(admin=staff_user, provider=keyed)
    assert row.reveal_secret("personal_api_key") == PERSONAL_KEY
    assert PERSONAL_KEY not in stored_column(AdminProviderSettings, row.pk, "personal_api_key")
    for html in (response.content.decode(), staff_client.get(url("keys", keyed)).content.decode()):
        assert PERSONAL_KEY not in html and "0000wxyz" not in html and str(row.personal_api_key) not in html
        assert "••••••••wxyz" in html  # the hint: the last 4 characters at most
    assert "Calls use your personal key." in html
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert entry.user == staff_user and "personal key set" in entry.get_change_message().lower()
    assert "wxyz" not in entry.change_message


def test_an_empty_input_keeps_the_key_and_clearing_is_explicit(staff_client, staff_user, keyed):
    keyed.shared_api_key, keyed.allow_shared_for_normal_admins = SHARED_KEY, True  # "use the shared key" is offered
    keyed.save()
    staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX)
    staff_client.post(url("personal_key", keyed), {"personal_api_key": "", "use_shared_api": "on"}, **HTMX)
    row = AdminProviderSettings.objects.get(admin=staff_user, provider=keyed)
    assert row.reveal_secret("personal_api_key") == PERSONAL_KEY and row.use_shared_api
    staff_client.post(url("personal_key", keyed), {"clear_personal_api_key": "on"}, **HTMX)
    row.refresh_from_db()
    assert not row.personal_api_key


def test_staff_cannot_write_someone_elses_row(staff_client, staff_user, other_staff_user, keyed):
    theirs = AdminProviderSettings.objects.create(admin=other_staff_user, provider=keyed, personal_api_key="sk-theirs-000000000001")
    staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY, "admin": other_staff_user.pk}, **HTMX)
    theirs.refresh_from_db()
    assert theirs.reveal_secret("personal_api_key") == "sk-theirs-000000000001"
    assert AdminProviderSettings.objects.get(admin=staff_user, provider=keyed).reveal_secret("personal_api_key") == PERSONAL_KEY


def test_a_personal_key_is_refused_where_the_provider_takes_none(staff_client, staff_user, keyed):
    keyed.allow_personal_keys = False
    keyed.save()
    html = staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX).content.decode()
    assert "does not accept personal keys" in html and PERSONAL_KEY not in html
    assert not AdminProviderSettings.objects.filter(admin=staff_user).exists()


def test_superuser_sets_and_clears_the_shared_key_and_policy(superuser_client, superuser, keyed):
    response = superuser_client.post(
        url("shared_key", keyed),
        {"shared_api_key": SHARED_KEY, "allow_shared_for_normal_admins": "on", "allow_personal_keys": "on"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="shared-saved"' in html
    assert SHARED_KEY not in html and "••••••••abcd" in html
    keyed.refresh_from_db()
    assert keyed.reveal_secret("shared_api_key") == SHARED_KEY and keyed.allow_shared_for_normal_admins
    assert SHARED_KEY not in stored_column(AIProvider, keyed.pk, "shared_api_key")
    assert "shared key set" in LogEntry.objects.get(object_id=str(keyed.pk)).change_message.lower()

    response = superuser_client.post(url("shared_key", keyed), {"clear_shared_api_key": "on", "allow_personal_keys": "on"}, **HTMX)
    keyed.refresh_from_db()
    assert not keyed.shared_api_key and not keyed.allow_shared_for_normal_admins
    assert "Not set." in response.content.decode()


def test_entering_and_clearing_at_once_is_refused(superuser_client, keyed):
    keyed.shared_api_key = "sk-stored-before-0000000000"
    keyed.save()
    html = superuser_client.post(
        url("shared_key", keyed), {"shared_api_key": SHARED_KEY, "clear_shared_api_key": "on"}, **HTMX
    ).content.decode()
    assert "not both" in html and SHARED_KEY not in html
    keyed.refresh_from_db()
    assert keyed.reveal_secret("shared_api_key") == "sk-stored-before-0000000000"


def test_a_plain_post_redirects_back_to_the_keys_page(superuser_client, keyed):
    response = superuser_client.post(url("shared_key", keyed), {"shared_api_key": SHARED_KEY, "allow_personal_keys": "on"})
    assert response.status_code == 302 and response["Location"] == url("keys", keyed)


def test_test_connection_on_the_sandbox_stores_ok(superuser_client):
    call_command("import_providers", verbosity=0)
    sandbox = AIProvider.objects.get(slug="sandbox")
    assert 'data-testid="keyless-panel"' in superuser_client.get(url("keys", sandbox)).content.decode()
    response = superuser_client.post(url("test_connection", sandbox), {"key_source": "none"}, **HTMX)
    assert response.status_code == 200 and "Works" in response.content.decode()
    sandbox.refresh_from_db()
    assert sandbox.key_validation_ok is True and sandbox.key_validated_at is not None


def test_a_keyed_provider_is_tested_with_a_key(superuser_client, keyed):
    assert superuser_client.post(url("test_connection", keyed), {"key_source": "none"}, **HTMX).status_code == 400
    assert superuser_client.post(url("test_connection", keyed), {"key_source": "bogus"}, **HTMX).status_code == 400


@pytest.fixture
def fake_openai(fake_provider, make_provider) -> AIProvider:
    return make_provider(
        slug="fake-openai",
        name="Fake OpenAI",
        adapter="openai",
        api_base_url=fake_provider.openai_base_url,
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
        shared_api_key=WRONG_KEY,
    )


def test_a_wrong_shared_key_stores_a_failure_and_never_shows_the_key(superuser_client, fake_openai):
    response = superuser_client.post(url("test_connection", fake_openai), {"key_source": "shared"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "Failed" in html and WRONG_KEY not in html
    fake_openai.refresh_from_db()
    assert fake_openai.key_validation_ok is False and WRONG_KEY not in fake_openai.key_validation_message
    page = superuser_client.get(url("keys", fake_openai)).content.decode()
    assert "Failed" in page and WRONG_KEY not in page


def test_a_wrong_personal_key_stores_a_failure_on_my_row(staff_client, staff_user, fake_openai):
    staff_client.post(url("personal_key", fake_openai), {"personal_api_key": WRONG_KEY}, **HTMX)
    html = staff_client.post(url("test_connection", fake_openai), {"key_source": "personal"}, **HTMX).content.decode()
    assert "Failed" in html and WRONG_KEY not in html
    row = AdminProviderSettings.objects.get(admin=staff_user, provider=fake_openai)
    assert row.key_validation_ok is False
    fake_openai.refresh_from_db()
    assert fake_openai.key_validation_ok is None  # the organisation's status is untouched


def test_the_right_key_works_against_the_fake_provider(superuser_client, fake_openai, fake_provider):
    superuser_client.post(url("shared_key", fake_openai), {"shared_api_key": fake_provider.api_key, "allow_personal_keys": "on"}, **HTMX)
    html = superuser_client.post(url("test_connection", fake_openai), {"key_source": "shared"}, **HTMX).content.decode()
    assert "Works" in html and fake_provider.api_key not in html
    fake_openai.refresh_from_db()
    assert fake_openai.key_validation_ok is True
