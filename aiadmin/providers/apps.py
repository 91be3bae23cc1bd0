from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "aiadmin.providers"
    label = "aiadmin_providers"
    verbose_name = "AI providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aiadmin.adapters.registry import registry

        from . import checks  # noqa: F401  (registers the system checks)

        registry.discover()
