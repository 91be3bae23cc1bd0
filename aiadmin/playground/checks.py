"""A system check for the media storage (``STORAGES["default"]``): a backend that cannot be
loaded (a typo in ``AIADMIN_STORAGE_BACKEND``, django-storages not installed, options the
class does not take) is an error at startup, not when the first image is stored."""

from __future__ import annotations

from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_media_storage(app_configs, **kwargs):
    from django.conf import settings
    from django.core.files.storage import storages

    config = settings.STORAGES.get("default", {})
    try:
        storages.create_storage(config)
    except Exception as err:  # any import or constructor failure is the same finding
        return [
            checks.Error(
                f"The media storage {config.get('BACKEND')!r} cannot be loaded: {err}",
                hint="Check AIADMIN_STORAGE_BACKEND and AIADMIN_STORAGE_OPTIONS (README, Production).",
                id="aiadmin.E010",
            )
        ]
    return []
