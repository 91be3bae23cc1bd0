from django.apps import AppConfig


class StandaloneConfig(AppConfig):
    name = "standalone"
    label = "standalone"
    verbose_name = "aiadmin standalone console"
