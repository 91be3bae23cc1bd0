"""ASGI entry point, served by uvicorn (static files come from ServeStatic's middleware)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiadmin.settings.dev")

application = get_asgi_application()
