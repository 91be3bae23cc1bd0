"""The embedded default: SQLite and the local-memory cache unless DATABASE_URL / REDIS_URL say
otherwise, DEBUG on, loopback only."""

import os

from .base import *  # noqa: F403
from .base import AIADMIN, env_list

DEBUG = True
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "dev-insecure-aiadmin-secret-key-change-me-in-production-0123456789"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# Development may run without explicit Fernet keys; a system check warns about it.
AIADMIN = {**AIADMIN, "DERIVE_ENCRYPTION_KEY": True}
# Static files straight from the apps (no collectstatic), also when tests switch DEBUG off.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = True
