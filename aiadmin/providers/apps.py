from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "aiadmin.providers"
    label = "aiadmin_providers"
    verbose_name = "AI providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aiadmin.adapters.registry import registry
        from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid

        from . import checks  # noqa: F401  (registers the system checks)
        from .configured_adapters import adapters_register_configured

        if not aiadmin_settings_valid("LOAD_ADAPTER_ENTRY_POINTS") or aiadmin_settings.LOAD_ADAPTER_ENTRY_POINTS:
            registry.discover()
        adapters_register_configured(registry=registry)
