"""Generated files go through Django's STORAGES: with an in-memory backend configured there
(no local paths: it has no ``path()``), the playgrounds store, serve and delete through it
and nothing lands on the local disk. A backend that cannot be loaded fails the system checks."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.management import call_command
from django.urls import reverse
from django.utils.deconstruct import deconstructible

from aiadmin.playground.checks import check_media_storage
from aiadmin.playground.models import GeneratedAudio, GeneratedImage
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


@deconstructible
class MemoryStorage(Storage):
    """A store with no file system behind it, like S3: bytes by name, nothing else."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.files: dict[str, bytes] = {}

    def _open(self, name, mode="rb"):
        if name not in self.files:
            raise FileNotFoundError(name)
        return ContentFile(self.files[name], name=name)

    def _save(self, name, content):
        self.files[name] = b"".join(content.chunks())
        return name

    def exists(self, name):
        return name in self.files

    def delete(self, name):
        self.files.pop(name, None)

    def size(self, name):
        return len(self.files[name])


class UnreachableStorage(MemoryStorage):
    def _open(self, name, mode="rb"):
        raise ConnectionError("the store is down")


@pytest.fixture
def memory_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # must stay empty
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.MemoryStorage", "OPTIONS": {"prefix": "media"}},
    }
    store = storages["default"]
    assert isinstance(store, MemoryStorage) and store.prefix == "media"
    return store


@pytest.fixture
def sandbox(db):
    call_command("import_providers", verbosity=0)


def test_images_are_stored_served_and_deleted_through_the_configured_storage(
    staff_client, staff_user, sandbox, memory_storage, tmp_path
):
    response = staff_client.post(
        reverse("aiadmin_console:image"),
        {"model": "sandbox::sandbox-image", "prompt": "A lighthouse", "size": "256x256", "quality": "", "count": 1},
        **HTMX,
    )
    assert response.status_code == 200
    image = GeneratedImage.objects.get()
    assert memory_storage.files[image.file.name].startswith(PNG)
    assert not any(tmp_path.iterdir())
    served = staff_client.get(reverse("aiadmin_console:image_file", args=[image.pk]))
    assert served.status_code == 200 and served.content == memory_storage.files[image.file.name]
    image.delete()
    assert memory_storage.files == {}


def test_speech_is_stored_and_served_through_the_configured_storage(staff_client, sandbox, memory_storage, tmp_path):
    response = staff_client.post(
        reverse("aiadmin_console:speech"),
        {"tts-model": "sandbox::sandbox-voice", "tts-text": "Hello there", "tts-voice": "", "tts-speed": "1", "tts-format": "wav"},
        **HTMX,
    )
    assert response.status_code == 200, response.content
    audio = GeneratedAudio.objects.get()
    assert memory_storage.files[audio.file.name].startswith(b"RIFF")
    assert not any(tmp_path.iterdir())
    served = staff_client.get(reverse("aiadmin_console:audio_file", args=[audio.pk]))
    assert served.status_code == 200 and served.content == memory_storage.files[audio.file.name]


def test_an_unreachable_store_answers_503_with_a_message_not_a_500(settings, staff_client, staff_user):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.UnreachableStorage"}}
    row = GeneratedImage(admin=staff_user, provider_slug="sandbox", model_id="m", prompt="p", mime_type="image/png")
    row.file.save("x.png", ContentFile(PNG), save=True)
    response = staff_client.get(reverse("aiadmin_console:image_file", args=[row.pk]))
    assert response.status_code == 503 and b"media storage cannot be reached" in response.content


def test_a_storage_backend_that_cannot_be_loaded_fails_the_checks(settings):
    assert check_media_storage(None) == []
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    errors = check_media_storage(None)
    assert [error.id for error in errors] == ["aiadmin.E010"]
    assert "storages.backends.s3.S3Storage" in errors[0].msg


def test_files_go_to_the_storage_aiadmin_names_not_the_default(settings, staff_client, staff_user, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the default store: must stay empty
    settings.STORAGES = {**settings.STORAGES, "aiadmin-media": {"BACKEND": f"{__name__}.MemoryStorage"}}
    aiadmin_set(settings, STORAGE="aiadmin-media")
    store = storages["aiadmin-media"]
    row = GeneratedImage(admin=staff_user, provider_slug="sandbox", model_id="m", prompt="p", mime_type="image/png")
    row.file.save("x.png", ContentFile(PNG), save=True)
    assert store.files == {row.file.name: PNG}
    assert not any(tmp_path.iterdir())
    served = staff_client.get(reverse("aiadmin_console:image_file", args=[row.pk]))
    assert served.status_code == 200 and served.content == PNG
    row.delete()
    assert store.files == {}


def test_the_check_loads_the_storage_aiadmin_names(settings):
    settings.STORAGES = {**settings.STORAGES, "aiadmin-media": {"BACKEND": "storages.backends.s3.S3Storage"}}
    assert check_media_storage(None) == []  # not aiadmin's store yet
    aiadmin_set(settings, STORAGE="aiadmin-media")
    errors = check_media_storage(None)
    assert [error.id for error in errors] == ["aiadmin.E010"]
    assert "'aiadmin-media'" in errors[0].msg
