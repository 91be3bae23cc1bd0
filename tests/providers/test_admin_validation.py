"""The provider admin form checks the JSON fields against the schema and the base URL when
they are saved, with each error on its field; a row broken anyway still lists and opens."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from aiadmin.providers.models import AIProvider

from .test_admin import change_url, provider_form_data

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:aiadmin_providers_aiprovider_add")


def template(**overrides) -> AIProvider:
    values = {"slug": "acme", "name": "Acme AI", "adapter": "openai", "api_base_url": "https://api.acme.example/v1", "sort_order": 5}
    values.update(overrides)
    return AIProvider(**values)


def post_add(client, *, config: dict | str | None = None, **overrides):
    data = provider_form_data(template(), **overrides)
    if config is not None:
        data["config"] = config if isinstance(config, str) else json.dumps(config)
    return client.post(ADD_URL, data)


def field_errors(response, field: str) -> list[str]:
    form = response.context["adminform"].form
    return [str(message) for message in form.errors.get(field, [])]


@pytest.mark.parametrize(
    "url", ["ftp://files.example.com/v1", "http://127.0.0.1:11434", "http://[::1]/", "http://10.0.0.5/v1", "http://localhost:8000"]
)
def test_the_form_refuses_a_private_or_non_http_base_url_without_the_mark(superuser_client, url):
    response = post_add(superuser_client, api_base_url=url)
    assert response.status_code == 200
    errors = field_errors(response, "api_base_url")
    assert errors, response.context["adminform"].form.errors
    assert not AIProvider.objects.filter(slug="acme").exists()
    if not url.startswith("ftp"):
        assert any('"allow_private_network": true' in message for message in errors)


@pytest.mark.parametrize("url", ["http://127.0.0.1:11434", "http://[::1]/", "http://10.0.0.5/v1", "http://localhost:8000"])
def test_the_form_accepts_a_private_base_url_marked_self_hosted(superuser_client, url):
    response = post_add(superuser_client, api_base_url=url, config={"allow_private_network": True})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AIProvider.objects.get(slug="acme").api_base_url.startswith(url.rstrip("/"))


def test_the_mark_does_not_allow_another_scheme(superuser_client):
    response = post_add(superuser_client, api_base_url="ftp://files.example.com/v1", config={"allow_private_network": True})
    assert response.status_code == 200 and field_errors(response, "api_base_url")


def test_an_edit_that_points_a_provider_at_a_private_address_is_refused(superuser_client, make_provider):
    provider = make_provider(adapter="openai", config={"auth": {"style": "bearer"}})
    response = superuser_client.post(change_url(provider), provider_form_data(provider, api_base_url="http://192.168.1.5/v1"))
    assert response.status_code == 200 and field_errors(response, "api_base_url")
    provider.refresh_from_db()
    assert provider.api_base_url.startswith("https://")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("config", {"auth": "oops"}, "config.auth: must be an object"),
        ("config", {"auth": {"style": "basic"}}, "config.auth.style: must be one of bearer, header, query, none"),
        ("config", {"allow_private_networks": True}, "config.allow_private_networks: unknown key"),
        ("config", [1, 2], "config: must be an object"),
        ("capabilities", [1], "capabilities: must be an object"),
        ("capabilities", {"chat": {"supported": "yes"}}, "capabilities.chat.supported: must be true or false"),
    ],
)
def test_json_field_errors_name_the_field_path_on_the_right_field(superuser_client, field, value, expected):
    response = post_add(superuser_client, **{field: json.dumps(value)})
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert any(message.startswith(expected) for message in errors), errors
    assert not AIProvider.objects.filter(slug="acme").exists()


def test_every_problem_of_a_field_is_listed(superuser_client):
    response = post_add(superuser_client, config={"auth": {"style": "basic"}, "extra_headers": "x"})
    errors = field_errors(response, "config")
    assert len(errors) == 2 and errors[0].startswith("config.auth.style") and errors[1].startswith("config.extra_headers")


def test_a_well_formed_config_saves(superuser_client):
    config = {"auth": {"style": "header", "header": "x-api-key"}, "extra_headers": {"X-Title": "aiadmin"}, "models_path": None}
    response = post_add(superuser_client, config=config)
    assert response.status_code == 302
    assert AIProvider.objects.get(slug="acme").config == config


@pytest.mark.parametrize("broken", [{"config": {"auth": "oops"}, "capabilities": [1]}, {"config": "oops"}, {"capabilities": {"chat": "yes"}}])
def test_a_row_broken_in_sql_lists_opens_and_can_be_fixed_in_the_admin(superuser_client, make_provider, broken):
    provider = make_provider(adapter="openai", name="Broken AI")
    AIProvider.objects.filter(pk=provider.pk).update(**broken)
    listing = superuser_client.get(reverse("admin:aiadmin_providers_aiprovider_changelist"))
    assert listing.status_code == 200 and "Broken AI" in listing.content.decode()
    assert superuser_client.get(change_url(provider)).status_code == 200
    response = superuser_client.post(change_url(provider), provider_form_data(provider, config='{"auth": {"style": "bearer"}}'))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.broken_reason == ""


def test_an_emptied_json_field_is_a_form_error_not_a_500(superuser_client):
    """Today an empty textarea reached the database as NULL (IntegrityError, HTTP 500)."""
    superuser_client.raise_request_exception = False
    response = post_add(superuser_client, config="", capabilities="")
    assert response.status_code == 200
    assert field_errors(response, "config") == ["config: must be an object ({} for none)"]
    assert field_errors(response, "capabilities")[0].startswith("capabilities: must be an object")



def test_an_adapter_from_another_package_declares_its_own_config_keys(superuser_client):
    from aiadmin.adapters.base import BaseAdapter
    from aiadmin.adapters.registry import registry

    class RegionalAdapter(BaseAdapter):
        key = "regional"
        label = "Regional (tests)"
        extra_config_keys = frozenset({"region"})

    registry.register(RegionalAdapter, replace=True)
    try:
        refused = post_add(superuser_client, config={"region": "eu"})  # the openai adapter reads no "region"
        assert field_errors(refused, "config")[0].startswith("config.region: unknown key")
        accepted = post_add(superuser_client, adapter="regional", config={"region": "eu"})
        assert accepted.status_code == 302
        assert AIProvider.objects.get(slug="acme").config == {"region": "eu"}
    finally:
        registry.unregister("regional")


# A docker-compose service name (one label, no dot) is how a self-hosted Ollama or vLLM next
# to this app is reached. Django's URLField refused it as "Enter a valid URL." whatever the mark.
SERVICE_URLS = ["http://ollama:11434/v1", "http://vllm:8000/v1"]
DJANGO_URL_ERROR = "Enter a valid URL."


@pytest.mark.parametrize("url", SERVICE_URLS)
def test_a_service_name_without_the_mark_gets_the_self_hosted_message(superuser_client, url):
    response = post_add(superuser_client, api_base_url=url)
    errors = field_errors(response, "api_base_url")
    assert len(errors) == 1 and "a name that only exists on a local machine or network" in errors[0], errors
    assert '"allow_private_network": true' in errors[0]
    assert not AIProvider.objects.filter(slug="acme").exists()


@pytest.mark.parametrize("url", SERVICE_URLS)
def test_a_service_name_marked_self_hosted_saves_and_public_urls_save_as_before(superuser_client, url):
    response = post_add(superuser_client, api_base_url=url, config={"allow_private_network": True})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AIProvider.objects.get(slug="acme").api_base_url == url
    # A public URL needs no mark, and one typed without a scheme still gets https://.
    for slug, typed, stored in [("openai-x", "https://api.openai.com/v1", "https://api.openai.com/v1"), ("openai-y", "api.openai.com/v1", "https://api.openai.com/v1")]:
        response = post_add(superuser_client, slug=slug, api_base_url=typed)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert AIProvider.objects.get(slug=slug).api_base_url == stored


@pytest.mark.parametrize(
    ("junk", "expected"),
    [
        ("http://exa mple.com", DJANGO_URL_ERROR),
        ("http://-bad-:80", DJANGO_URL_ERROR),
        ("http://bad-/v1", DJANGO_URL_ERROR),
        ("http://1234/v1", DJANGO_URL_ERROR),  # an address spelling, not a name
        ("ftp://x", "Enter an http:// or https:// address."),
    ],
)
def test_the_mark_adds_service_names_and_nothing_else_to_the_url_syntax(superuser_client, junk, expected):
    refused = post_add(superuser_client, api_base_url=junk, config={"allow_private_network": True})
    assert field_errors(refused, "api_base_url") == [expected]
    assert not AIProvider.objects.filter(slug="acme").exists()
    saved = post_add(superuser_client, api_base_url="http://ollama:11434/v1", config={"allow_private_network": True})
    assert saved.status_code == 302, saved.context["adminform"].form.errors


def test_the_card_links_accept_a_service_name_too(superuser_client):
    """A self-hosted provider's links may point at the same network (an internal wiki)."""
    links = {"website": "http://ollama:11434", "docs_url": "http://wiki/ollama", "key_url": "http://wiki/keys"}
    response = post_add(superuser_client, api_base_url="http://ollama:11434/v1", config={"allow_private_network": True}, **links)
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider = AIProvider.objects.get(slug="acme")
    assert {name: getattr(provider, name) for name in links} == links


def test_a_service_name_base_url_passes_model_validation():
    """The model field's own validators run in ModelForm._post_clean and in full_clean."""
    provider = template(api_base_url="http://ollama:11434/v1", config={"allow_private_network": True})
    provider.full_clean()
