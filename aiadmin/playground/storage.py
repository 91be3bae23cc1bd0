"""The store generated images and audio go to: ``STORAGES[AIADMIN["STORAGE"]]`` (Django's
default storage unless the host names another alias), looked up on every use so a change to
either setting (a test's override) takes effect at once."""

from __future__ import annotations

from django.core.files.storage import Storage, storages
from django.utils.deconstruct import deconstructible

from aiadmin.conf import aiadmin_settings


def media_storage_get() -> Storage:
    return storages[aiadmin_settings.STORAGE]


@deconstructible(path="aiadmin.playground.storage.MediaStorage")
class MediaStorage:
    """Stands in for the configured storage on the file fields. Not a storage itself: every
    attribute (``save``, ``open``, ``delete``...) is the configured storage's. Migrations
    record only this class, never the backend the host chose."""

    def __getattr__(self, name: str):
        return getattr(media_storage_get(), name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MediaStorage)

    def __hash__(self) -> int:
        return hash(MediaStorage)


media_storage = MediaStorage()
