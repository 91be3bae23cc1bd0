"""Request-specific state never lives on shared objects: one ModelAdmin instance serves every
request in every thread, so what it shows a staff admin must not depend on what it last
computed for a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory
from django.urls import reverse

from aiadmin.providers.forms import AdminProviderSettingsForm
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog

pytestmark = pytest.mark.django_db

SHARED = "sk-org-shared-key-000000000000wxyz"
HINT = "••••••••wxyz"


def admin_request(user, path: str):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_staff_list_rendered_after_a_superuser_request_shows_no_hint(make_provider, superuser, staff_user):
    make_provider(shared_api_key=SHARED)
    model_admin = admin.site.get_model_admin(AIProvider)
    path = reverse("admin:aiadmin_providers_aiprovider_changelist")
    # The order that leaked: the staff request starts, a superuser request runs on the same
    # instance, then the staff page renders (TemplateResponse renders lazily).
    staff_response = model_admin.changelist_view(admin_request(staff_user, path))
    superuser_response = model_admin.changelist_view(admin_request(superuser, path))
    staff_html = staff_response.render().content.decode()
    assert HINT not in staff_html and "wxyz" not in staff_html
    assert ">Set<" in staff_html or "Set\n" in staff_html
    assert HINT in superuser_response.render().content.decode()


def test_staff_change_form_rendered_after_a_superuser_request_shows_no_hint(make_provider, superuser, staff_user):
    provider = make_provider(shared_api_key=SHARED)
    model_admin = admin.site.get_model_admin(AIProvider)
    path = reverse("admin:aiadmin_providers_aiprovider_change", args=[provider.pk])
    staff_response = model_admin.changeform_view(admin_request(staff_user, path), str(provider.pk))
    model_admin.changelist_view(admin_request(superuser, reverse("admin:aiadmin_providers_aiprovider_changelist"))).render()
    model_admin.changeform_view(admin_request(superuser, path), str(provider.pk)).render()
    staff_html = staff_response.render().content.decode()
    assert "wxyz" not in staff_html


MODELS = (AIProvider, AIModel, AdminProviderSettings, AdminProviderLimit, AIRequestLog)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_admin_pages_leave_no_request_state_on_the_shared_instance(client, make_provider, superuser, staff_user, model):
    provider = make_provider(shared_api_key=SHARED)
    AIModel.objects.create(provider=provider, capability="chat", model_id="m", is_active=True)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=SHARED)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=3)
    AIRequestLog.objects.create(admin=staff_user, provider=provider, provider_slug=provider.slug, capability="chat")
    model_admin = admin.site.get_model_admin(model)
    name = model._meta.model_name
    obj = model.objects.first()
    before = dict(vars(model_admin))
    for user in (superuser, staff_user):
        client.force_login(user)
        for url in (
            reverse(f"admin:aiadmin_providers_{name}_changelist"),
            reverse(f"admin:aiadmin_providers_{name}_change", args=[obj.pk]),
            reverse(f"admin:aiadmin_providers_{name}_add"),
        ):
            assert client.get(url).status_code in (200, 403)
    assert dict(vars(model_admin)) == before


def test_the_settings_form_class_is_built_per_request(superuser, staff_user, other_staff_user):
    model_admin = admin.site.get_model_admin(AdminProviderSettings)
    path = reverse("admin:aiadmin_providers_adminprovidersettings_add")
    for_staff = model_admin.get_form(admin_request(staff_user, path))
    for_other = model_admin.get_form(admin_request(other_staff_user, path))
    for_superuser = model_admin.get_form(admin_request(superuser, path))
    assert (for_staff.current_user, for_other.current_user, for_superuser.current_user) == (staff_user, other_staff_user, None)
    assert AdminProviderSettingsForm.current_user is None
