from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "aiadmin.providers"
    label = "providers"
    verbose_name = "AI providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aiadmin.adapters.registry import registry

        from aiadmin.unified import routing  # noqa: F401  (cache invalidation signals)

        from . import checks  # noqa: F401  (registers the system checks)

        registry.discover()
