from django.apps import AppConfig


class UnifiedConfig(AppConfig):
    name = "aiadmin.unified"
    label = "aiadmin_unified"
    verbose_name = "AI unified service"

    def ready(self) -> None:
        from . import routing  # noqa: F401  (cache invalidation signals, aiadmin's models only)
        from .outbound import outbound_configure, outbound_follow_settings

        outbound_configure()
        outbound_follow_settings()
