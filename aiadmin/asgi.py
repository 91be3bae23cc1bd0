"""ASGI entry point, served by uvicorn (static files come from ServeStatic's middleware)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiadmin.settings.dev")
django.setup(set_prefix=False)

from aiadmin.handler import ASGIHandler  # noqa: E402  (needs the app registry)

application = ASGIHandler()
