"""One provider row with malformed JSON (edited in SQL, an old import) never breaks a page:
it shows as a broken card with the reason and, for superadmins, a link to fix it; every page
that lists providers renders. And the card shows the self-hosted mark."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aiadmin.providers.models import AIModel, AIProvider

pytestmark = pytest.mark.django_db

BROKEN_SHAPES = [
    {"config": {"auth": "oops"}, "capabilities": [1]},
    {"capabilities": [1]},
    {"capabilities": 5},
    {"capabilities": {"chat": "yes"}},
    {"config": {"auth": "oops"}},
    {"config": "oops"},
    {"config": [1, 2]},
]
IDS = ["both", "caps-list", "caps-number", "cap-text", "auth-text", "config-text", "config-list"]

# The usage page lists providers too and never read these fields (it rendered already).
PAGES = ["aiadmin_console:cards", "aiadmin_console:chat", "aiadmin_console:content", "aiadmin_console:image", "aiadmin_console:audio"]


@pytest.fixture
def broken_provider(make_provider):
    def make(shape: dict, slug: str = "broken") -> AIProvider:
        provider = make_provider(slug=slug, name=f"{slug.title()} AI", adapter="openai", api_base_url="https://api.broken.example/v1")
        for capability in ("chat", "content", "image", "audio"):
            AIModel.objects.create(provider=provider, capability=capability, model_id=f"m-{capability}", is_active=True)
        AIProvider.objects.filter(pk=provider.pk).update(**shape)
        return provider

    return make


@pytest.fixture
def healthy(make_provider):
    return make_provider(slug="healthy", name="Healthy AI", adapter="sandbox")


@pytest.fixture
def every_broken_shape(broken_provider) -> list[AIProvider]:
    return [broken_provider(shape, slug=f"broken-{name}") for shape, name in zip(BROKEN_SHAPES, IDS, strict=True)]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_listing_providers_renders_with_broken_rows(superuser_client, every_broken_shape, healthy, page):
    response = superuser_client.get(reverse(page))
    assert response.status_code == 200


def test_the_keys_page_of_a_broken_provider_renders(superuser_client, every_broken_shape):
    for provider in every_broken_shape:
        response = superuser_client.get(reverse("aiadmin_console:keys", args=[provider.slug]))
        assert response.status_code == 200 and str(provider) in response.content.decode(), provider.slug


@pytest.mark.parametrize("shape", BROKEN_SHAPES, ids=IDS)
def test_a_broken_row_is_a_broken_card_with_the_reason_and_a_fix_link(superuser_client, broken_provider, healthy, shape):
    provider = broken_provider(shape)
    html = superuser_client.get(reverse("aiadmin_console:cards")).content.decode()
    assert 'data-testid="card-healthy"' in html  # the other cards are there
    assert 'data-testid="reason-broken">Broken settings</span>' in html
    assert 'class="ai-card ai-card--compact ai-card--broken" id="card-broken"' in html
    assert 'title="Broken AI&#x27;s settings are broken: ' in html  # the whole reason, as a tooltip
    fix = reverse("admin:aiadmin_providers_aiprovider_change", args=[provider.pk])
    assert f'<a href="{fix}" data-testid="fix-broken">Fix the settings</a>' in html
    assert 'id="card-healthy"' in html and 'data-testid="reason-healthy"' not in html


def test_staff_see_the_broken_card_without_the_admin_link(staff_client, broken_provider):
    broken_provider({"config": {"auth": "oops"}})
    html = staff_client.get(reverse("aiadmin_console:cards")).content.decode()
    assert 'data-testid="reason-broken">Broken settings</span>' in html and "A superadmin can fix them" in html
    assert 'data-testid="fix-broken"' not in html


def test_the_model_browser_of_a_broken_provider_says_why(superuser_client, broken_provider):
    broken_provider({"config": {"auth": "oops"}})
    response = superuser_client.get(reverse("aiadmin_console:browser", args=["broken", "chat"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "settings are broken: config.auth" in response.content.decode()


def test_a_broken_provider_is_not_offered_as_usable_in_the_playground(superuser_client, broken_provider, healthy):
    broken_provider({"config": {"auth": "oops"}})
    html = superuser_client.get(reverse("aiadmin_console:chat")).content.decode()
    assert "Broken AI · m-chat (settings broken)</option>" in html
    assert 'value="broken::m-chat" data-remaining="" data-provider="Broken AI" disabled>' in html


def test_the_card_shows_the_self_hosted_mark(superuser_client, make_provider):
    make_provider(slug="home-llm", adapter="openai", api_base_url="http://localhost:11434/v1", config={"allow_private_network": True})
    make_provider(slug="cloud", adapter="openai", api_base_url="https://api.cloud.example/v1", config={})
    html = superuser_client.get(reverse("aiadmin_console:cards")).content.decode()
    assert 'data-testid="self-hosted-home-llm">Self-hosted</span>' in html
    assert 'data-testid="self-hosted-cloud"' not in html
