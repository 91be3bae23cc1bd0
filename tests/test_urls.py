"""Generated files are served only to their owner and superadmins, whatever the settings: with
DEBUG on, no route serves ``MEDIA_URL`` to anyone (Django's ``static()`` helper used to)."""

from __future__ import annotations

import importlib

import pytest
from django.core.files.base import ContentFile
from django.urls import clear_url_caches, reverse

import standalone.urls
from aiadmin.playground.models import GeneratedAudio, GeneratedImage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"owner-only-bytes"


@pytest.fixture
def debug_urls(settings, tmp_path):
    """The project's URLconf as it is built when DEBUG is on."""
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    importlib.reload(standalone.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(standalone.urls)
    clear_url_caches()


WAV = b"RIFF\x00\x00\x00\x00WAVEowner-only-bytes"
KINDS = {
    "image": (GeneratedImage, "aiadmin_console:image_file", PNG, {"prompt": "p", "mime_type": "image/png"}),
    "audio": (GeneratedAudio, "aiadmin_console:audio_file", WAV, {"text": "t", "mime_type": "audio/wav"}),
}


@pytest.fixture(params=sorted(KINDS))
def generated(request, staff_user, debug_urls):
    """A stored file of each kind, owned by ``staff_user``: (row, its console URL, its bytes)."""
    model, view, data, fields = KINDS[request.param]
    row = model(admin=staff_user, provider_slug="sandbox", model_id="m", **fields)
    row.file.save(f"owned.{request.param}", ContentFile(data), save=True)
    return row, reverse(view, args=[row.pk]), data


def media_url(settings, row) -> str:
    return "/" + settings.MEDIA_URL.strip("/") + "/" + row.file.name


def test_with_debug_on_no_one_gets_a_generated_file_from_its_media_url(client, settings, generated, staff_user, superuser):
    row, _, data = generated
    for user in (None, staff_user, superuser):
        if user is not None:
            client.force_login(user)
        response = client.get(media_url(settings, row))
        assert response.status_code == 404, user
        assert data not in response.content


def test_with_debug_on_only_the_owner_and_superadmins_get_it_through_the_playground_view(
    client, generated, staff_user, other_staff_user, superuser
):
    _, url, data = generated
    anonymous = client.get(url)
    assert anonymous.status_code in {302, 403, 404} and data not in anonymous.content
    client.force_login(other_staff_user)
    other = client.get(url)
    assert other.status_code == 404 and data not in other.content
    for user in (staff_user, superuser):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response.content == data, user
