from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "aiadmin.playground"
    label = "aiadmin_playground"
    verbose_name = "AI playgrounds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
