"""Django's stock ASGI entry point: the host serves aiadmin's streaming views with it."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")

application = get_asgi_application()
