"""Generated files are served only to their owner and superadmins, whatever the settings: with
DEBUG on, no route serves ``MEDIA_URL`` to anyone (Django's ``static()`` helper used to)."""

from __future__ import annotations

import importlib

import pytest
from django.core.files.base import ContentFile
from django.urls import clear_url_caches, reverse

import aiadmin.urls
from aiadmin.playground.models import GeneratedImage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"owner-only-bytes"


@pytest.fixture
def debug_urls(settings, tmp_path):
    """The project's URLconf as it is built when DEBUG is on."""
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    importlib.reload(aiadmin.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(aiadmin.urls)
    clear_url_caches()


@pytest.fixture
def image(staff_user, debug_urls) -> GeneratedImage:
    row = GeneratedImage(admin=staff_user, provider_slug="sandbox", model_id="sandbox-image", prompt="p", mime_type="image/png")
    row.file.save("owned.png", ContentFile(PNG), save=True)
    return row


def media_url(settings, row: GeneratedImage) -> str:
    return "/" + settings.MEDIA_URL.strip("/") + "/" + row.file.name


def test_with_debug_on_no_one_gets_a_generated_file_from_its_media_url(client, settings, image, staff_user, superuser):
    for user in (None, staff_user, superuser):
        if user is not None:
            client.force_login(user)
        response = client.get(media_url(settings, image))
        assert response.status_code == 404, user
        assert PNG not in response.content


def test_with_debug_on_only_the_owner_and_superadmins_get_it_through_the_playground_view(
    client, image, staff_user, other_staff_user, superuser
):
    url = reverse("console:image_file", args=[image.pk])
    anonymous = client.get(url)
    assert anonymous.status_code in {302, 403, 404} and PNG not in anonymous.content
    client.force_login(other_staff_user)
    other = client.get(url)
    assert other.status_code == 404 and PNG not in other.content
    for user in (staff_user, superuser):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response.content == PNG, user
