"""The structured provider form of the admin (aiadmin/providers/forms.py AIProviderAdminForm):
structured fields <-> the two JSON fields, the Advanced JSON under the same schema, the
catalogue prefill and the default adapter."""

from __future__ import annotations

import json
import re

import pytest
from django import forms
from django.http import QueryDict
from django.urls import reverse

from aiadmin.providers.catalogue import catalogue_load
from aiadmin.providers.catalogue_prefill import catalogue_initial
from aiadmin.providers.form_fields import HeaderRowsField
from aiadmin.providers.forms import AIProviderAdminForm
from aiadmin.providers.models import AIProvider
from aiadmin.providers.structured_config import provider_json_from_structured, structured_values

pytestmark = pytest.mark.django_db

ADD_URL = "admin:aiadmin_providers_aiprovider_add"
CATALOGUE = catalogue_load()
COVERED_CONFIG_KEYS = ("auth", "extra_headers", "models_path", "capability_rules", "default_params", "allow_private_network")


def form_post_data(form) -> QueryDict:
    """What a browser posts for an unbound form as rendered (every field at its initial value,
    the hidden initial copies of the JSON fields included)."""
    data = QueryDict(mutable=True)
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        if isinstance(field, HeaderRowsField):
            rows = list(value or [])
            data.setlist(f"{name}_name", [row[0] for row in rows] + [""])
            data.setlist(f"{name}_value", [row[1] for row in rows] + [""])
            continue
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else str(value)
        if field.show_hidden_initial:
            data[form.add_initial_prefix(name)] = data[name]
    return data


def catalogue_form(entry: str, /, **changes) -> AIProviderAdminForm:
    """The add form started from the catalogue entry ``entry``, posted with ``changes``."""
    initial = catalogue_initial(slug=entry)
    if initial["config"].get("requires_base_url_edit"):  # {resource} and the like: the admin's to fill in
        initial["api_base_url"] = re.sub(r"\{[^}]+\}", "example", initial["api_base_url"])
    data = form_post_data(AIProviderAdminForm(initial=initial))
    for name, value in changes.items():
        if isinstance(value, list):
            data.setlist(name, value)
        elif value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return AIProviderAdminForm(data=data, instance=AIProvider())


# --- the mapping itself -------------------------------------------------------------------


@pytest.mark.parametrize("entry", CATALOGUE, ids=[entry["slug"] for entry in CATALOGUE])
def test_structured_fields_write_back_what_they_read_for_every_catalogue_entry(entry):
    values = structured_values(capabilities=entry["capabilities"], config=entry["config"])
    capabilities, config = provider_json_from_structured(values)
    assert capabilities == entry["capabilities"]
    expected = {key: entry["config"][key] for key in COVERED_CONFIG_KEYS if key in entry["config"]}
    if "capability_rules" in expected:
        expected["capability_rules"] = _without_empty_lists(expected["capability_rules"])
    # An empty models path or a false self-hosted mark is written as "not there".
    assert config == {key: value for key, value in expected.items() if value not in ("", False, None)}


def _without_empty_lists(rules: dict) -> dict:
    """An empty pattern list matches nothing, so it is the same rule as none
    (aiadmin/adapters/capabilities.py); the fields write none."""
    out = {}
    for key, rule in rules.items():
        if isinstance(rule, dict):
            rule = {kind: patterns for kind, patterns in rule.items() if patterns}
        if rule:
            out[key] = rule
    return out


@pytest.mark.parametrize("entry", CATALOGUE, ids=[entry["slug"] for entry in CATALOGUE])
def test_a_catalogue_entry_posted_as_shown_saves_its_json_unchanged(entry):
    form = catalogue_form(entry["slug"])
    assert form.is_valid(), form.errors
    assert form.cleaned_data["capabilities"] == entry["capabilities"]
    assert form.cleaned_data["config"] == entry["config"]


# --- structured fields -> saved JSON -------------------------------------------------------


def test_structured_fields_are_saved_as_json_and_other_keys_are_kept(superuser_client):
    data = catalogue_form("openai").data.copy()
    data.pop("cap_image_supported")
    data["auth_style"], data["auth_header"], data["models_path"] = "header", "api-key", "/v2/models"
    data.setlist("extra_headers_name", ["X-Title", ""])
    data.setlist("extra_headers_value", ["aiadmin", ""])
    data["rules_chat_exclude"] = "^tts\nwhisper\n"
    data["default_params"] = '{"temperature": 0.5}'
    data["allow_private_network"] = "on"
    data["api_base_url"] = "http://10.0.0.5:8000/v1"  # allowed by the mark just ticked
    response = superuser_client.post(reverse(ADD_URL), dict(data.lists()))
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider = AIProvider.objects.get(slug="openai")
    assert provider.capabilities["image"] == {"supported": False, "dynamic_models": True}
    assert provider.config["auth"] == {"style": "header", "header": "api-key"}
    assert provider.config["extra_headers"] == {"X-Title": "aiadmin"}
    assert provider.config["models_path"] == "/v2/models"
    assert provider.config["capability_rules"]["chat"] == {"exclude": ["^tts", "whisper"]}
    assert provider.config["default_params"] == {"temperature": 0.5}
    assert provider.config["allow_private_network"] is True
    # Keys without a field of their own come through from the Advanced JSON.
    assert provider.config["max_tokens_param"] == "max_completion_tokens"
    assert provider.config["parameter_rules"] == next(e for e in CATALOGUE if e["slug"] == "openai")["config"]["parameter_rules"]


def test_an_edit_in_the_advanced_json_alone_is_saved_as_typed():
    config = dict(catalogue_initial(slug="groq")["config"], models_path="/openai/v1/models-x", max_tokens_param="max_tokens")
    form = catalogue_form("groq", config=json.dumps(config))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["config"] == config


def test_the_same_key_changed_differently_in_both_places_is_refused_and_both_are_kept():
    config = dict(catalogue_initial(slug="groq")["config"], models_path="/from-json")
    form = catalogue_form("groq", config=json.dumps(config), models_path="/from-field")
    assert not form.is_valid()
    assert "config.models_path was changed here and in the Advanced JSON" in form.errors["models_path"][0]
    assert form["models_path"].value() == "/from-field" and "/from-json" in form["config"].value()


def test_a_post_without_the_structured_fields_saves_the_json_as_posted(superuser_client):
    # Scripts (and the tests before this form) post the JSON fields alone.
    data = {
        "name": "Raw", "slug": "raw", "adapter": "sandbox", "sort_order": 1, "is_active": "on",
        "capabilities": '{"chat": {"supported": true}}', "config": '{"models_path": "/m"}',
    }
    assert superuser_client.post(reverse(ADD_URL), data).status_code == 302
    provider = AIProvider.objects.get(slug="raw")
    assert provider.capabilities == {"chat": {"supported": True}} and provider.config == {"models_path": "/m"}


# --- one schema, errors that name the field ------------------------------------------------


def test_advanced_json_is_checked_by_the_schema_with_the_path_on_the_json_field():
    config = dict(catalogue_initial(slug="groq")["config"], auth={"style": "header"}, allow_private_networks=True)
    form = catalogue_form("groq", config=json.dumps(config))
    assert not form.is_valid()
    messages = " ".join(form.errors["config"])
    assert "config.auth.header: required for auth style 'header'" in messages
    assert "config.allow_private_networks: unknown key" in messages


def test_a_bad_structured_value_is_reported_on_its_field_with_the_path():
    form = catalogue_form("groq", auth_style="header", auth_header="bad header")
    assert not form.is_valid()
    assert form.errors["auth_header"] == ["config.auth.header: must be a header name (letters, digits and - without spaces)"]
    assert "config" not in form.errors


def test_a_bad_capability_rule_is_reported_on_its_field_and_nothing_typed_is_lost(superuser_client):
    data = catalogue_form("groq").data.copy()
    data["rules_image_include"] = "^ok\n(unclosed"
    data.setlist("extra_headers_name", ["X-Keep", ""])
    data.setlist("extra_headers_value", ["kept value", ""])
    response = superuser_client.post(reverse(ADD_URL), dict(data.lists()))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "config.capability_rules.image.include" in form.errors["rules_image_include"][0]
    html = response.content.decode()
    assert "(unclosed" in html and 'value="X-Keep"' in html and 'value="kept value"' in html


def test_an_extra_header_without_a_name_is_an_error_on_the_rows():
    form = catalogue_form("groq", extra_headers_name=["", ""], extra_headers_value=["orphan", ""])
    assert not form.is_valid()
    assert form.errors["extra_headers"] == ["Every header with a value needs a name."]


def test_a_private_base_url_needs_the_self_hosted_mark_named_on_this_form():
    form = catalogue_form("groq", api_base_url="http://192.168.1.20:8000/v1")
    assert not form.is_valid()
    assert 'tick "Self-hosted on our network"' in form.errors["api_base_url"][0]
    assert catalogue_form("groq", api_base_url="http://192.168.1.20:8000/v1", allow_private_network="on").is_valid()


# --- add page: default adapter, catalogue -------------------------------------------------


def test_the_add_form_defaults_to_the_openai_compatible_adapter(superuser_client):
    form = superuser_client.get(reverse(ADD_URL)).context["adminform"].form
    assert form["adapter"].value() == "openai"


def test_start_from_the_catalogue_prefills_the_add_form(superuser_client):
    html = superuser_client.get(reverse(ADD_URL)).content.decode()
    assert html.count('name="catalogue"') == 1 and html.count("<option value=\"", html.index('name="catalogue"')) >= 59
    response = superuser_client.get(reverse(ADD_URL), {"catalogue": "anthropic"})
    form = response.context["adminform"].form
    assert form["adapter"].value() == "anthropic" and form["api_base_url"].value() == "https://api.anthropic.com"
    assert form["auth_style"].value() == "header" and form["auth_header"].value() == "x-api-key"
    assert 'value="anthropic-version"' in response.content.decode()
    assert not AIProvider.objects.exists()  # nothing saved


def test_a_prefilled_add_form_does_not_show_its_urls_as_if_saved(superuser_client):
    # Unfold's URL widget repeats a value as "Currently: <link>": on an add form that reads as saved.
    html = superuser_client.get(reverse(ADD_URL), {"catalogue": "groq"}).content.decode()
    assert 'value="https://api.groq.com/openai/v1"' in html and "Currently:" not in html


def test_an_unknown_catalogue_entry_says_so(superuser_client):
    response = superuser_client.get(reverse(ADD_URL), {"catalogue": "nope"}, follow=True)
    assert "The catalogue has no provider “nope”." in response.content.decode()


def test_staff_get_403_on_the_add_and_change_forms(staff_client, make_provider):
    provider = make_provider()
    assert staff_client.get(reverse(ADD_URL)).status_code == 403
    assert staff_client.post(reverse(ADD_URL), {"name": "x"}).status_code == 403
    change = reverse("admin:aiadmin_providers_aiprovider_change", args=[provider.pk])
    assert staff_client.post(change, {"name": "x", "auth_style": "none"}).status_code == 403
    provider.refresh_from_db()
    assert provider.name != "x"


def test_a_conflict_is_resolved_by_making_the_two_agree(superuser_client):
    data = catalogue_form("groq").data.copy()
    config = dict(catalogue_initial(slug="groq")["config"], models_path="/from-json")
    data["config"], data["models_path"], data["slug"] = json.dumps(config), "/from-field", "groq-2"
    first = superuser_client.post(reverse(ADD_URL), dict(data.lists()))
    assert "Make the two agree" in first.context["adminform"].form.errors["models_path"][0]
    # The page keeps both edits and the JSON it was first shown with (the hidden copy).
    html = first.content.decode()
    assert 'value="/from-field"' in html and "/from-json" in html
    data["models_path"] = "/from-json"
    assert superuser_client.post(reverse(ADD_URL), dict(data.lists())).status_code == 302
    assert AIProvider.objects.get(slug="groq-2").config["models_path"] == "/from-json"
