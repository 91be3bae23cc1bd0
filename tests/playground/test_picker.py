"""The playgrounds' model pickers preselect the admin's preferred model (My provider settings,
per capability) when they can use it; otherwise the first usable model."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

from aiadmin.playground.forms import ImageForm
from aiadmin.playground.picker import choice_default, choice_value, model_choices
from aiadmin.providers.models import AdminProviderSettings, AIModel
from aiadmin.unified.selection import available_models

pytestmark = pytest.mark.django_db

CAPS = {name: {"supported": True, "dynamic_models": True} for name in ("chat", "image")}


@pytest.fixture
def two_providers(make_provider):
    """Two keyless sandbox providers, each with a selected chat and image model."""
    first = make_provider(slug="first", name="First", capabilities=CAPS)
    second = make_provider(slug="second", name="Second", capabilities=CAPS)
    for provider in (first, second):
        for capability in ("chat", "image"):
            AIModel.objects.create(provider=provider, capability=capability, model_id=f"{provider.slug}-{capability}", is_active=True)
    return first, second


def prefer(admin, provider, **preferred) -> None:
    AdminProviderSettings.objects.create(admin=admin, provider=provider, preferred_models=preferred)


def default_value(admin, capability: str) -> str | None:
    choice = choice_default(async_to_sync(model_choices)(capability, admin))
    return choice.value if choice else None


def test_without_a_preference_the_first_usable_model_is_preselected(staff_user, two_providers):
    assert default_value(staff_user, "chat") == choice_value("first", "first-chat")


def test_a_preferred_model_of_a_later_provider_is_preselected(staff_user, two_providers):
    prefer(staff_user, two_providers[1], chat="second-custom")
    assert default_value(staff_user, "chat") == choice_value("second", "second-custom")


def test_preferring_the_selected_model_of_a_later_provider_preselects_it(staff_user, two_providers):
    prefer(staff_user, two_providers[1], chat="second-chat")
    assert default_value(staff_user, "chat") == choice_value("second", "second-chat")


def test_an_unusable_preference_falls_back_to_the_first_usable_model(staff_user, two_providers):
    AdminProviderSettings.objects.create(admin=staff_user, provider=two_providers[1], preferred_models={"chat": "second-chat"}, is_active=False)
    assert default_value(staff_user, "chat") == choice_value("first", "first-chat")


def test_the_chat_page_renders_the_preferred_option_selected(staff_client, staff_user, two_providers):
    prefer(staff_user, two_providers[1], chat="second-chat")
    html = staff_client.get(reverse("aiadmin_console:chat")).content.decode()
    assert f'<option value="{choice_value("second", "second-chat")}"' in html
    selected = html.split(f'value="{choice_value("second", "second-chat")}"', 1)[1].split(">", 1)[0]
    assert " selected" in selected


def test_the_image_form_starts_on_the_preferred_model(staff_user, two_providers):
    prefer(staff_user, two_providers[1], image="second-image")
    form = ImageForm(models=available_models(capability="image", admin=staff_user))
    assert form["model"].value() == choice_value("second", "second-image")
    assert f'value="{choice_value("second", "second-image")}" selected' in str(form["model"])


def test_the_image_page_renders_the_preferred_option_selected(staff_client, staff_user, two_providers):
    prefer(staff_user, two_providers[1], image="second-image")
    html = staff_client.get(reverse("aiadmin_console:image")).content.decode()
    assert f'value="{choice_value("second", "second-image")}" selected' in html
    assert f'value="{choice_value("first", "first-image")}" selected' not in html
