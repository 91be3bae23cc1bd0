"""The HTTP API's URLs; a host mounts them at ``/v1/``:
``path("v1/", include("aiadmin.api.urls"))``."""

from django.urls import path

from .views.chat import chat_completions
from .views.models import models_list

app_name = "aiadmin_api"

urlpatterns = [
    path("models", models_list, name="models"),
    path("chat/completions", chat_completions, name="chat_completions"),
]
