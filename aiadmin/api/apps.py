from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "aiadmin.api"
    label = "aiadmin_api"
    verbose_name = "aiadmin HTTP API"

    def ready(self) -> None:
        from . import auth, checks  # noqa: F401  (the token cache's signals; the system checks)
