from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "aiadmin.console"
    label = "aiadmin_console"
    verbose_name = "AI console"
