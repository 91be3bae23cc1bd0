"""Admin JSON fields (provider capabilities/config, model config, preferred models) refuse a
hostile value with a form error that names the reason and keeps the typed text: never a 500
(RecursionError) and never a stored NaN, surrogate or null that fails later."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.urls import reverse

from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider

from .test_admin import change_url, provider_form_data

pytestmark = pytest.mark.django_db

SPELLINGS = {
    "deep_array": ("[" * 100_000, "nested more than"),
    "deep_object": ('{"a":' * 50_000 + "1" + "}" * 50_000, "nested more than"),
    "lone_surrogate": ('{"chat": "\\ud800"}', "lone surrogate"),
    "null_character": ('{"chat": "a\\u0000b"}', "null character"),
    "nan": ('{"timeout": NaN}', "NaN"),
    "infinity": ('{"timeout": -Infinity}', "Infinity"),
    "float_overflow": ('{"timeout": 1e999}', "out of range"),
    "long_integer": ('{"timeout": ' + "9" * 5000 + "}", "integer longer"),
}


def _assert_refused(response, text: str, reason: str) -> None:
    assert response.status_code == 200  # the form again, not a redirect and not a 500
    page = html.unescape(response.content.decode())
    assert f"Enter valid JSON: {reason}" in page or reason in page
    assert text[:2000] in page  # what the admin typed is still in the field


@pytest.mark.parametrize("field", ["config", "capabilities"])
@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_provider_json_fields_refuse_hostile_values(superuser_client, make_provider, field, name):
    provider = make_provider()
    text, reason = SPELLINGS[name]
    response = superuser_client.post(change_url(provider), provider_form_data(provider, **{field: text}))
    _assert_refused(response, text, reason)
    provider.refresh_from_db()
    assert getattr(provider, field) != text


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_settings_preferred_models_refuse_hostile_values(superuser_client, staff_user, make_provider, name):
    provider = make_provider()
    text, reason = SPELLINGS[name]
    response = superuser_client.post(
        reverse("admin:aiadmin_providers_adminprovidersettings_add"),
        {"admin": staff_user.pk, "provider": provider.pk, "preferred_models": text, "is_active": "on"},
    )
    _assert_refused(response, text, reason)
    assert not AdminProviderSettings.objects.exists()


def test_an_ordinary_syntax_error_names_where_it_is(superuser_client, make_provider):
    provider = make_provider()
    response = superuser_client.post(change_url(provider), provider_form_data(provider, config='{"a": }'))
    assert response.status_code == 200
    assert "Enter valid JSON: not valid JSON (Expecting value at line 1 column 7)" in html.unescape(response.content.decode())


def test_a_stored_value_the_decoder_refuses_loads_as_text_not_an_error(make_provider):
    # A row edited in SQL: it loads (as its raw text) instead of raising on every page.
    provider = make_provider()
    deep = "[" * 200 + "]" * 200
    with connection.cursor() as cursor:
        cursor.execute("UPDATE aiadmin_providers_aiprovider SET config = %s WHERE id = %s", [deep, provider.pk])
    assert AIProvider.objects.get(pk=provider.pk).config == deep


def test_model_config_refuses_hostile_values(superuser_client, make_provider):
    provider = make_provider()
    model = AIModel.objects.filter(provider=provider).first()
    if model is None:
        model = AIModel.objects.create(provider=provider, model_id="m-1", display_name="M 1", capability="chat")
    response = superuser_client.get(reverse("admin:aiadmin_providers_aimodel_change", args=[model.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("on" if value is True else value) for key, value in data.items() if value not in (None, False)}
    data["config"] = "[" * 100_000
    response = superuser_client.post(reverse("admin:aiadmin_providers_aimodel_change", args=[model.pk]), data)
    _assert_refused(response, "[" * 100_000, "nested more than")
