"""A hostile staff admin (``is_staff``, not superuser) against every admin route that writes.

Each test logs a staff user in with the real test client, posts what such a user would post,
and checks the database: nothing that is the superadmins' call changed (active models, shared
keys, sharing policy, providers, limits, users). A refusal is a clean 403, never a 500.

Routes audited (admin site, ``/admin/``):

- AIProvider: add, change (is_active, sort order, base URL, config, shared key, sharing
  policy), delete, changelist action ``delete_selected``; history is read-only.
- AIModel: changelist action ``make_active`` (the reported hole), ``delete_selected``, add,
  change, delete.
- AdminProviderSettings (staff's own rows, which they may edit): add with another admin's id,
  change re-pointing the row at another provider or admin, ``delete_selected`` over another
  admin's row; limits are not on this row any more (see tests/providers/test_limits_hold.py).
- AdminProviderLimit: add, change, delete, ``delete_selected``.
- AIRequestLog: ``delete_selected`` (the ledger is never edited by hand).
- User and Group: change (making oneself a superuser), add, even for a staff account that was
  granted Django's model permissions on them.
- History pages: read-only; another admin's settings or limit history is a 403.
- No inlines and no Unfold row/detail/list actions are registered (``actions_row`` etc. are
  empty); a posted action that is not offered to the user is a 403 on every admin of the app.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog
from tests.db_snapshot import snapshot

pytestmark = pytest.mark.django_db

SHARED = "sk-org-shared-key-000000000000wxyz"


@pytest.fixture
def world(make_provider, staff_user, other_staff_user):
    """A provider with a shared key and an active model, another admin's settings, a limit."""
    provider = make_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=False)
    active = AIModel.objects.create(provider=provider, capability="chat", model_id="org-choice", is_active=True)
    other = AIModel.objects.create(provider=provider, capability="chat", model_id="staff-wish", is_active=False)
    theirs = AdminProviderSettings.objects.create(admin=other_staff_user, provider=provider)
    limit = AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=3)
    AIRequestLog.objects.create(admin=staff_user, provider=provider, provider_slug=provider.slug, capability="chat")
    return {"provider": provider, "active": active, "other": other, "theirs": theirs, "limit": limit}


def changelist(name: str) -> str:
    return reverse(f"admin:aiadmin_providers_{name}_changelist")


def refused_and_unchanged(response, before: dict) -> None:
    assert response.status_code == 403, response.status_code
    assert snapshot() == before


# --- AIModel ---------------------------------------------------------------------------------


def test_make_active_action_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(changelist("aimodel"), {"action": "make_active", "_selected_action": [world["other"].pk]})
    refused_and_unchanged(response, before)
    assert AIModel.objects.get(is_active=True).model_id == "org-choice"


def test_make_active_action_with_the_button_index_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        changelist("aimodel"), {"action": "make_active", "index": "0", "_selected_action": [world["other"].pk]}
    )
    refused_and_unchanged(response, before)


def test_make_active_still_works_for_a_superuser(superuser_client, world):
    response = superuser_client.post(changelist("aimodel"), {"action": "make_active", "_selected_action": [world["other"].pk]})
    assert response.status_code == 302
    assert AIModel.objects.get(is_active=True).model_id == "staff-wish"


def test_make_active_is_not_offered_to_staff(staff_client, world):
    html = staff_client.get(changelist("aimodel")).content.decode()
    assert "make_active" not in html


def test_aimodel_delete_selected_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        changelist("aimodel"), {"action": "delete_selected", "post": "yes", "_selected_action": [world["active"].pk]}
    )
    refused_and_unchanged(response, before)


def test_aimodel_add_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_aimodel_add"),
        {"provider": world["provider"].pk, "capability": "chat", "model_id": "mine", "is_active": "on", "config": "{}"},
    )
    refused_and_unchanged(response, before)


def test_aimodel_change_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_aimodel_change", args=[world["other"].pk]),
        {"provider": world["provider"].pk, "capability": "chat", "model_id": "staff-wish", "is_active": "on", "config": "{}"},
    )
    refused_and_unchanged(response, before)


def test_aimodel_delete_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:aiadmin_providers_aimodel_delete", args=[world["active"].pk]), {"post": "yes"})
    refused_and_unchanged(response, before)


# --- AIProvider ------------------------------------------------------------------------------


def provider_post(provider: AIProvider, **overrides) -> dict:
    data = {
        "name": provider.name,
        "slug": provider.slug,
        "adapter": provider.adapter,
        "api_base_url": "https://attacker.example.net/v1",
        "is_active": "",
        "sort_order": "0",
        "allow_personal_keys": "on",
        "allow_shared_for_normal_admins": "on",
        "capabilities": "{}",
        "config": '{"allow_private_network": true}',
        "shared_api_key": "sk-staff-typed-000000000000",
        "clear_shared_api_key": "",
    }
    data.update(overrides)
    return data


def test_provider_change_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:aiadmin_providers_aiprovider_change", args=[world["provider"].pk]), provider_post(world["provider"]))
    refused_and_unchanged(response, before)


def test_provider_add_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:aiadmin_providers_aiprovider_add"), provider_post(AIProvider(slug="mine", name="Mine", adapter="sandbox")))
    refused_and_unchanged(response, before)


def test_provider_delete_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:aiadmin_providers_aiprovider_delete", args=[world["provider"].pk]), {"post": "yes"})
    refused_and_unchanged(response, before)


def test_provider_delete_selected_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        changelist("aiprovider"), {"action": "delete_selected", "post": "yes", "_selected_action": [world["provider"].pk]}
    )
    refused_and_unchanged(response, before)


def test_provider_history_is_read_only_and_shows_no_key(staff_client, world):
    response = staff_client.get(reverse("admin:aiadmin_providers_aiprovider_history", args=[world["provider"].pk]))
    assert response.status_code == 200
    assert SHARED not in response.content.decode() and "wxyz" not in response.content.decode()


# --- AdminProviderLimit ----------------------------------------------------------------------


def test_limit_add_is_refused(staff_client, staff_user, make_provider, world):
    before = snapshot()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminproviderlimit_add"),
        {"admin": staff_user.pk, "provider": make_provider().pk, "monthly_limit": ""},
    )
    # make_provider added a provider before the post: compare the rest.
    assert response.status_code == 403
    assert snapshot()["limits"] == before["limits"]


def test_limit_change_is_refused(staff_client, staff_user, world):
    before = snapshot()
    response = staff_client.post(
        reverse("admin:aiadmin_providers_adminproviderlimit_change", args=[world["limit"].pk]),
        {"admin": staff_user.pk, "provider": world["provider"].pk, "monthly_limit": ""},
    )
    refused_and_unchanged(response, before)


def test_limit_delete_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:aiadmin_providers_adminproviderlimit_delete", args=[world["limit"].pk]), {"post": "yes"})
    refused_and_unchanged(response, before)


def test_limit_delete_selected_is_refused(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        changelist("adminproviderlimit"), {"action": "delete_selected", "post": "yes", "_selected_action": [world["limit"].pk]}
    )
    refused_and_unchanged(response, before)


def test_staff_see_their_own_limit_read_only(staff_client, world):
    response = staff_client.get(reverse("admin:aiadmin_providers_adminproviderlimit_change", args=[world["limit"].pk]))
    assert response.status_code == 200
    assert 'name="monthly_limit"' not in response.content.decode()


# --- AIRequestLog ----------------------------------------------------------------------------


def test_ledger_delete_selected_is_refused(staff_client, world):
    before = snapshot()
    row = AIRequestLog.objects.get()
    response = staff_client.post(changelist("airequestlog"), {"action": "delete_selected", "post": "yes", "_selected_action": [row.pk]})
    refused_and_unchanged(response, before)


# --- AdminProviderSettings: staff's own rows ------------------------------------------------


def test_settings_add_for_another_admin_lands_on_the_poster(staff_client, staff_user, other_staff_user, make_provider, world):
    provider = make_provider()
    staff_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_add"),
        {"admin": other_staff_user.pk, "provider": provider.pk, "preferred_models": "{}", "is_active": "on"},
    )
    assert AdminProviderSettings.objects.get(provider=provider).admin == staff_user


def test_settings_delete_selected_over_another_admins_row_deletes_nothing(staff_client, world):
    before = snapshot()
    response = staff_client.post(
        changelist("adminprovidersettings"), {"action": "delete_selected", "post": "yes", "_selected_action": [world["theirs"].pk]}
    )
    assert response.status_code in (200, 302)
    assert snapshot() == before


def test_history_of_another_admins_rows_is_forbidden(staff_client, other_staff_user, world):
    theirs_limit = AdminProviderLimit.objects.create(admin=other_staff_user, provider=world["provider"], monthly_limit=1)
    for name, pk in (("adminprovidersettings", world["theirs"].pk), ("adminproviderlimit", theirs_limit.pk)):
        assert staff_client.get(reverse(f"admin:aiadmin_providers_{name}_history", args=[pk])).status_code == 403


def test_another_admins_ledger_row_is_forbidden(staff_client, staff_user, other_staff_user, world):
    theirs = AIRequestLog.objects.create(admin=other_staff_user, provider=world["provider"], provider_slug="p", capability="chat")
    mine = AIRequestLog.objects.get(admin=staff_user)
    assert staff_client.get(reverse("admin:aiadmin_providers_airequestlog_change", args=[theirs.pk])).status_code == 403
    assert staff_client.get(reverse("admin:aiadmin_providers_airequestlog_change", args=[mine.pk])).status_code == 200


@pytest.mark.parametrize("name", ["adminprovidersettings", "adminproviderlimit", "airequestlog"])
def test_a_malformed_id_is_not_found_never_a_500(staff_client, name):
    response = staff_client.get(reverse(f"admin:aiadmin_providers_{name}_change", args=["abc"]))
    assert response.status_code in (302, 404)


# --- users and groups ------------------------------------------------------------------------


@pytest.fixture
def staff_with_user_permissions(staff_user):
    """Even a staff account a superadmin granted Django's user and group permissions."""
    codenames = ["view_user", "change_user", "add_user", "view_group", "add_group", "change_group"]
    staff_user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff_user


def test_staff_cannot_make_themselves_superuser(staff_client, staff_with_user_permissions, world):
    user = staff_with_user_permissions
    before = snapshot()
    response = staff_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": user.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        },
    )
    refused_and_unchanged(response, before)
    user.refresh_from_db()
    assert not user.is_superuser


def test_staff_cannot_add_users(staff_client, staff_with_user_permissions, world):
    before = snapshot()
    response = staff_client.post(
        reverse("admin:auth_user_add"), {"username": "sock", "password1": "pw-sock-12345!", "password2": "pw-sock-12345!"}
    )
    refused_and_unchanged(response, before)


def test_staff_cannot_add_groups(staff_client, staff_with_user_permissions, world):
    before = snapshot()
    response = staff_client.post(reverse("admin:auth_group_add"), {"name": "escalate"})
    refused_and_unchanged(response, before)


def test_staff_still_change_their_own_password(staff_client, staff_user):
    response = staff_client.post(
        reverse("admin:password_change"),
        {"old_password": "pw-staff-123", "new_password1": "a-new-long-pass-987", "new_password2": "a-new-long-pass-987"},
    )
    assert response.status_code == 302
    staff_user.refresh_from_db()
    assert staff_user.check_password("a-new-long-pass-987")
