"""The provider cards page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:cards")


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_the_whole_catalogue_renders_as_cards(superuser_client):
    call_command("import_providers", verbosity=0)
    html = superuser_client.get(URL).content.decode()
    for provider in AIProvider.objects.all():
        assert f'data-testid="card-{provider.slug}"' in html
    assert html.count('<article class="ai-card') == AIProvider.objects.count() >= 50


def test_card_shows_status_access_state_and_active_models(staff_client, staff_user, make_provider):
    provider = make_provider(name="Acme AI", adapter="sandbox", capabilities={"chat": {"supported": True}, "image": {"supported": True}})
    AIModel.objects.create(provider=provider, capability="chat", model_id="acme-large", display_name="Acme Large", is_active=True)
    provider.total_requests = 7
    provider.save()
    html = staff_client.get(URL).content.decode()
    assert "Acme AI" in html and "AA" in html  # name and initials
    assert "Acme Large" in html and "no model selected" in html
    assert "7 requests" in html and "never used" in html
    assert "needs no key" in html  # the sandbox adapter: available without a key


def test_card_tells_which_key_a_call_would_use(staff_client, staff_user, make_provider):
    provider = make_provider(adapter="keyed", name="Keyed AI")
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key="sk-personal-000000000001")
    html = staff_client.get(URL).content.decode()
    assert "Calls use your personal key." in html
    assert "sk-personal" not in html and "0001" not in html


def test_missing_adapter_is_shown_not_a_crash(superuser_client, make_provider):
    make_provider(adapter="not-installed", name="Ghost")
    response = superuser_client.get(URL)
    assert response.status_code == 200 and "adapter missing" in response.content.decode()


def test_filter_by_capability_and_search_by_name(superuser_client, make_provider):
    make_provider(name="Painter", slug="painter", capabilities={"image": {"supported": True}})
    make_provider(name="Talker", slug="talker", capabilities={"chat": {"supported": True}})
    html = superuser_client.get(URL, {"capability": "image"}).content.decode()
    assert "card-painter" in html and "card-talker" not in html
    html = superuser_client.get(URL, {"q": "talk"}).content.decode()
    assert "card-talker" in html and "card-painter" not in html


def test_htmx_request_gets_only_the_grid(superuser_client, make_provider):
    make_provider(name="Talker")
    response = superuser_client.get(URL, {"q": "talk"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="provider-grid"') and "<html" not in html


@pytest.mark.parametrize("count", [10, 100])
def test_query_count_is_the_same_for_10_and_100_providers(superuser_client, staff_user, make_provider, django_assert_max_num_queries, count):
    for _ in range(count):
        provider = make_provider(capabilities={"chat": {"supported": True}, "image": {"supported": True}})
        AIModel.objects.create(provider=provider, capability="chat", model_id="m", is_active=True)
        AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    superuser_client.force_login(staff_user)
    with django_assert_max_num_queries(8):
        response = superuser_client.get(URL)
    assert response.content.decode().count('<article class="ai-card') == count


def test_model_names_from_the_database_render_inert(superuser_client, make_provider):
    provider = make_provider(name="<script>alert(1)</script>", capabilities={"chat": {"supported": True}})
    AIModel.objects.create(provider=provider, capability="chat", model_id="x", display_name='<img src=x onerror=alert(1)>', is_active=True)
    html = superuser_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html
