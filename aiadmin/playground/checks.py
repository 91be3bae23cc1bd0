"""A system check for the media storage (``STORAGES[AIADMIN["STORAGE"]]``, ``"default"``
unless the host names another alias): a backend that cannot be loaded (a typo in its dotted
path, django-storages not installed, options the class does not take) is an error at startup,
not when the first image is stored."""

from __future__ import annotations

from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_media_storage(app_configs, **kwargs):
    from django.conf import settings
    from django.core.files.storage import storages

    from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid

    if not aiadmin_settings_valid("STORAGE"):
        return []  # aiadmin.E031 names the alias that is not in STORAGES
    alias = aiadmin_settings.STORAGE
    config = settings.STORAGES[alias]
    try:
        storages.create_storage(config)
    except Exception as err:  # any import or constructor failure is the same finding
        return [
            checks.Error(
                f"The media storage STORAGES[{alias!r}] ({config.get('BACKEND')!r}) cannot be loaded: {err}",
                hint="Check its BACKEND and OPTIONS (in the standalone project: AIADMIN_STORAGE_BACKEND and "
                "AIADMIN_STORAGE_OPTIONS, README, Production).",
                id="aiadmin.E010",
            )
        ]
    return []
