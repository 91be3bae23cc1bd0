"""A hostile staff admin (``is_staff``, not superuser) against every console endpoint that
writes, and the services behind them.

Each test logs a staff user in with the real test client, posts what such a user would post,
and checks the database: active models, shared keys, sharing policy, providers and limits are
unchanged. Refusals are clean 403s, never 500s.

Routes audited (aiadmin/console/urls.py):

- ``providers/<slug>/models/<capability>/select/`` (POST): for staff a personal preference on
  their own settings row, never the organisation's active model (``selection_save``; and
  ``aimodel_select`` itself refuses anyone but a superadmin).
- ``providers/<slug>/models/<capability>/?refresh=1`` (GET): refreshes the cached model list
  for the key the admin may use; writes nothing in the database.
- ``providers/<slug>/keys/shared/`` (POST): 403 for staff (view), and ``shared_key_save``
  refuses them too.
- ``providers/<slug>/keys/personal/`` (POST): the poster's own row only; posted policy, limit,
  admin or provider fields are ignored.
- ``providers/<slug>/keys/test/`` (POST): testing the shared key is a 403; a staff check of a
  keyless provider or of their own key never writes the provider's key status.
- Read-only pages (cards, usage, keys, the playground pages) and the playground calls
  (chat/content streams, image, speech, transcription) write only the caller's own ledger rows
  and files, within their limits (tests/providers/test_limits_hold.py, tests/unified/test_limits.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from aiadmin.console import keys
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider
from aiadmin.providers.services import aimodel_select
from aiadmin.unified import UnifiedAIService
from tests.db_snapshot import snapshot

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}
SHARED = "sk-org-shared-key-000000000000wxyz"
STAFF_KEY = "sk-staff-personal-00000000000abcd"


@pytest.fixture
def sandbox(make_provider, staff_user) -> AIProvider:
    """An offline provider (no key needed) with an organisation model selected, and a limit."""
    provider = make_provider(slug="sandbox-x", adapter="sandbox", shared_api_key=SHARED)
    AIModel.objects.create(provider=provider, capability="chat", model_id="sandbox-chat", is_active=True)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=5)
    return provider


@pytest.fixture
def keyed(make_provider, staff_user) -> AIProvider:
    """A provider that needs a key; never called in these tests."""
    provider = make_provider(slug="keyed", adapter="openai", config={"auth": {"style": "bearer"}}, shared_api_key=SHARED)
    AIModel.objects.create(provider=provider, capability="chat", model_id="org-model", is_active=True)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=5)
    return provider


def url(name: str, provider: AIProvider, *args) -> str:
    return reverse(f"aiadmin_console:{name}", args=[provider.slug, *args])


def test_select_post_sets_a_preference_never_the_active_model(staff_client, staff_user, sandbox):
    before = snapshot(settings=False)
    response = staff_client.post(url("select", sandbox, "chat"), {"model_id": "sandbox-writer"}, **HTMX)
    assert response.status_code == 200
    assert snapshot(settings=False) == before
    assert AdminProviderSettings.objects.get(admin=staff_user).preferred_models == {"chat": "sandbox-writer"}


def test_model_list_refresh_writes_nothing(staff_client, sandbox):
    before = snapshot()
    response = staff_client.get(url("browser", sandbox, "chat"), {"refresh": "1"}, **HTMX)
    assert response.status_code == 200
    assert snapshot() == before


def test_shared_key_post_is_refused(staff_client, keyed):
    before = snapshot()
    response = staff_client.post(
        url("shared_key", keyed),
        {"shared_api_key": "sk-staff-typed-0000000000", "allow_shared_for_normal_admins": "on", "allow_personal_keys": ""},
        **HTMX,
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_clearing_the_shared_key_is_refused(staff_client, keyed):
    before = snapshot()
    response = staff_client.post(url("shared_key", keyed), {"clear_shared_api_key": "on", "allow_personal_keys": "on"})
    assert response.status_code == 403
    assert snapshot() == before


def test_personal_key_post_touches_only_my_own_key(staff_client, staff_user, other_staff_user, keyed):
    keyed.allow_shared_for_normal_admins = True  # so "use the shared key" is offered to staff
    keyed.save()
    theirs = AdminProviderSettings.objects.create(admin=other_staff_user, provider=keyed)
    before = snapshot(settings=False)
    theirs_before = list(AdminProviderSettings.objects.filter(pk=theirs.pk).values())
    response = staff_client.post(
        url("personal_key", keyed),
        {
            "personal_api_key": STAFF_KEY,
            "use_shared_api": "on",
            # What a hostile admin adds: policy, limit, someone else's row, another provider.
            "allow_shared_for_normal_admins": "on",
            "monthly_limit": "",
            "admin": other_staff_user.pk,
            "provider": AIProvider.objects.exclude(pk=keyed.pk).values_list("pk", flat=True).first() or 999,
            "is_active": "",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert snapshot(settings=False) == before
    assert list(AdminProviderSettings.objects.filter(pk=theirs.pk).values()) == theirs_before
    mine = AdminProviderSettings.objects.get(admin=staff_user)
    assert (mine.provider_id, mine.reveal_secret("personal_api_key"), mine.use_shared_api, mine.is_active) == (keyed.pk, STAFF_KEY, True, True)


def test_testing_the_shared_key_is_refused(staff_client, keyed):
    before = snapshot()
    response = staff_client.post(url("test_connection", keyed), {"key_source": "shared"}, **HTMX)
    assert response.status_code == 403
    assert snapshot() == before


def test_a_staff_check_of_a_keyless_provider_stores_nothing_on_the_provider(staff_client, sandbox):
    before = snapshot()
    response = staff_client.post(url("test_connection", sandbox), {"key_source": "none"}, **HTMX)
    assert response.status_code == 200
    assert snapshot() == before


def test_a_staff_check_without_a_personal_key_stores_nothing(staff_client, keyed):
    before = snapshot()
    response = staff_client.post(url("test_connection", keyed), {"key_source": "personal"}, **HTMX)
    assert response.status_code == 200 and "no personal key" in response.content.decode()
    assert snapshot() == before


# --- the services behind them ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "nobody"])
def test_aimodel_select_refuses_anyone_but_a_superadmin(staff_user, sandbox, who):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        aimodel_select(provider=sandbox, capability="chat", model_id="sandbox-writer", user=staff_user if who == "staff" else None)
    assert snapshot() == before


def test_select_model_for_staff_never_changes_the_active_model(staff_user, sandbox):
    before = snapshot(settings=False)
    selection = UnifiedAIService().select_model(sandbox.slug, "chat", "sandbox-writer", staff_user)
    assert selection.scope == "personal"
    assert snapshot(settings=False) == before


def test_shared_key_save_refuses_staff(staff_user, keyed):
    form = keys.SharedKeyForm({"clear_shared_api_key": "on", "allow_shared_for_normal_admins": "on"}, instance=keyed)
    assert form.is_valid(), form.errors
    before = snapshot()
    with pytest.raises(PermissionDenied):
        keys.shared_key_save(user=staff_user, form=form)
    assert snapshot() == before
