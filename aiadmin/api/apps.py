from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "aiadmin.api"
    label = "aiadmin_api"
    verbose_name = "aiadmin HTTP API"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
