"""WSGI entry point, for tools that need one; the console itself is served over ASGI."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "standalone.settings.dev")

application = get_wsgi_application()
