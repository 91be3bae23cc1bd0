"""ASGI entry point, served by uvicorn (static files come from ServeStatic's middleware)."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "standalone.settings.dev")
django.setup(set_prefix=False)

from aiadmin.handler import ASGIHandler  # noqa: E402  (needs the app registry)

application = ASGIHandler()

# What is loaded by now (Django, the apps, their modules) lives as long as the process. Frozen,
# it is left out of the cycle collector's full scans, which otherwise pause the event loop for
# up to ~100 ms under load (every stream waits that long for its next token).
gc.collect()
gc.freeze()
