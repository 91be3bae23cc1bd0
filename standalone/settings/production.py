"""Production: everything secret or host-specific comes from the environment, and the process
refuses to start without it. Select with DJANGO_SETTINGS_MODULE=standalone.settings.production."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import AIADMIN, ALLOWED_HOSTS, SECRET_KEY, env_bool
from .storage import storages_from_env


def _require(name: str, value: object) -> None:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment for production.")


DEBUG = False
_require("DJANGO_SECRET_KEY", SECRET_KEY)
_require("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS)
_require("AIADMIN_ENCRYPTION_KEYS", AIADMIN["ENCRYPTION_KEYS"])
AIADMIN = {**AIADMIN, "DERIVE_ENCRYPTION_KEY": False}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

STATIC_ROOT = BASE_DIR / "staticfiles"  # noqa: F405  (filled by `manage.py collectstatic`)
# Generated media as the environment says (AIADMIN_STORAGE_BACKEND / _OPTIONS, see storage.py).
STORAGES = storages_from_env(staticfiles_backend="servestatic.storage.CompressedManifestStaticFilesStorage")
