""""Test connection" on the provider form: a dry run of the values typed, against the fake
provider, through the same guard and adapter as real calls; nothing saved, no key shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aiadmin.providers.models import AIProvider
from tests.providers.test_provider_form import catalogue_form

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}
WRONG_KEY = "sk-wrong-0123456789abcdefWXYZ"


def add_url() -> str:
    return reverse("admin:aiadmin_providers_aiprovider_test_connection")


def change_url(provider: AIProvider) -> str:
    return reverse("admin:aiadmin_providers_aiprovider_test_connection", args=[provider.pk])


def typed(fake_provider, **changes) -> dict:
    """The add form as a browser posts it, started from the catalogue's OpenAI entry and
    pointed at the fake provider (on loopback, so marked self-hosted)."""
    values = {"api_base_url": fake_provider.openai_base_url, "allow_private_network": "on", "slug": "typed", **changes}
    data = catalogue_form("openai", **{k: v for k, v in values.items() if v is not None}).data.copy()
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
    return dict(data.lists())


def test_a_typed_key_is_checked_before_saving_and_nothing_is_saved(superuser_client, fake_provider):
    response = superuser_client.post(add_url(), typed(fake_provider, shared_api_key=fake_provider.api_key), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Connection works." in html and "Tested with the key you typed" in html
    assert fake_provider.api_key not in html
    assert not AIProvider.objects.exists()
    assert fake_provider.last_request.path.endswith("/models")


def test_a_wrong_key_fails_without_echoing_it(superuser_client, fake_provider):
    html = superuser_client.post(add_url(), typed(fake_provider, shared_api_key=WRONG_KEY), **HTMX).content.decode()
    assert "Connection failed." in html and WRONG_KEY not in html and WRONG_KEY[-6:] not in html
    assert not AIProvider.objects.exists()


def test_the_stored_key_is_used_while_the_url_is_unchanged_and_the_row_is_untouched(superuser_client, fake_provider, make_provider):
    provider = make_provider(
        adapter="openai", api_base_url=fake_provider.openai_base_url, shared_api_key=fake_provider.api_key,
        config={"auth": {"style": "bearer"}, "allow_private_network": True}, name="Stored",
    )
    before = AIProvider.objects.filter(pk=provider.pk).values().get()
    data = typed(fake_provider, slug=provider.slug, name="Renamed but not saved", shared_api_key="")
    html = superuser_client.post(change_url(provider), data, **HTMX).content.decode()
    assert "Connection works." in html and "Tested with the stored shared key" in html
    assert fake_provider.api_key not in html
    assert AIProvider.objects.filter(pk=provider.pk).values().get() == before  # not even the check result


def test_the_stored_key_is_not_sent_to_a_changed_url(superuser_client, fake_provider, make_provider):
    provider = make_provider(
        adapter="openai", api_base_url=fake_provider.openai_base_url, shared_api_key=fake_provider.api_key,
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
    )
    other = fake_provider.openai_base_url.replace("/v1", "/other/v1")
    html = superuser_client.post(change_url(provider), typed(fake_provider, slug=provider.slug, api_base_url=other), **HTMX).content.decode()
    assert "Tested with no key (the stored key is only sent to the URL it was saved with" in html
    assert all(fake_provider.api_key not in str(request.headers) for request in fake_provider.requests)


def test_a_private_url_without_the_self_hosted_mark_is_refused_before_any_request(superuser_client, fake_provider):
    data = typed(fake_provider, shared_api_key=fake_provider.api_key, allow_private_network=None)
    html = superuser_client.post(add_url(), data, **HTMX).content.decode()
    assert "Connection failed." in html and "loopback or private-network address" in html
    assert "Self-hosted on our network" in html
    assert fake_provider.requests == []


def test_a_form_error_is_named_instead_of_testing(superuser_client, fake_provider):
    html = superuser_client.post(add_url(), typed(fake_provider, auth_style="header", auth_header=""), **HTMX).content.decode()
    assert "Fix these first" in html and "config.auth.header" in html
    assert fake_provider.requests == []


def test_staff_get_403(staff_client, make_provider, fake_provider):
    provider = make_provider()
    assert staff_client.post(add_url(), typed(fake_provider, shared_api_key=fake_provider.api_key)).status_code == 403
    assert staff_client.post(change_url(provider), {"adapter": "openai"}).status_code == 403
    assert fake_provider.requests == []


def test_a_get_is_refused(superuser_client):
    assert superuser_client.get(add_url()).status_code == 405


def test_the_view_checks_the_csrf_token(superuser, fake_provider):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(add_url(), typed(fake_provider), **HTMX).status_code == 403
    assert fake_provider.requests == []


def test_a_provider_that_does_not_answer_in_time_is_reported(superuser_client, fake_provider, monkeypatch):
    monkeypatch.setattr("aiadmin.providers.connection_check.CHECK_TIMEOUT_SECONDS", 0.1)
    fake_provider.configure(latency_ms=600)
    html = superuser_client.post(add_url(), typed(fake_provider, shared_api_key=fake_provider.api_key), **HTMX).content.decode()
    assert "did not answer within 0.1 seconds" in html
