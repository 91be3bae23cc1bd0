from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "aiadmin.console"
    label = "console"
    verbose_name = "AI console"
