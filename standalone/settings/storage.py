"""Where generated images and audio are stored: Django's ``STORAGES["default"]``, chosen from
the environment so several hosts can share one store.

``AIADMIN_STORAGE_BACKEND``
    the storage class, a dotted path (default: ``django.core.files.storage.FileSystemStorage``
    under ``MEDIA_ROOT``, right for one host). For S3 or an S3-compatible store install the
    ``storages`` extra and use ``storages.backends.s3.S3Storage``.
``AIADMIN_STORAGE_OPTIONS``
    a JSON object passed to that class as its options, e.g.
    ``{"bucket_name": "aiadmin-media", "region_name": "eu-central-1", "default_acl": "private"}``.
    Keep credentials out of it: S3 reads them from the usual ``AWS_*`` variables or the host's
    role.

Files are always served through the console's owner-checked views, never from the store's
own URL, so the bucket can (and should) stay private.
"""

from __future__ import annotations

import json
import os

from django.core.exceptions import ImproperlyConfigured

LOCAL_STORAGE = "django.core.files.storage.FileSystemStorage"


def storages_from_env(*, staticfiles_backend: str) -> dict[str, dict]:
    backend = os.environ.get("AIADMIN_STORAGE_BACKEND", "").strip() or LOCAL_STORAGE
    raw = os.environ.get("AIADMIN_STORAGE_OPTIONS", "").strip() or "{}"
    try:
        options = json.loads(raw)
    except ValueError as err:
        raise ImproperlyConfigured(f"AIADMIN_STORAGE_OPTIONS is not valid JSON: {err}.") from None
    if not isinstance(options, dict):
        raise ImproperlyConfigured('AIADMIN_STORAGE_OPTIONS must be a JSON object, e.g. {"bucket_name": "aiadmin-media"}.')
    return {
        "default": {"BACKEND": backend, "OPTIONS": options},
        "staticfiles": {"BACKEND": staticfiles_backend},
    }
