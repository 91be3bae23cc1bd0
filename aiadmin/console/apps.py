from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "aiadmin.console"
    label = "aiadmin_console"
    verbose_name = "AI console"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks of a host's wiring)
