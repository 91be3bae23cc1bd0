from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "aiadmin.playground"
    label = "playground"
    verbose_name = "AI playgrounds"
    default_auto_field = "django.db.models.BigAutoField"
