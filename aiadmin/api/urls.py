"""The HTTP API's URLs; a host mounts them at ``/v1/``:
``path("v1/", include("aiadmin.api.urls"))``."""

from django.urls import path, re_path

from .views.audio import audio_speech, audio_transcriptions
from .views.chat import chat_completions
from .views.content import content_generations
from .views.images import images_generations
from .views.models import models_list
from .views.unknown import endpoint_not_found

app_name = "aiadmin_api"

urlpatterns = [
    path("models", models_list, name="models"),
    path("chat/completions", chat_completions, name="chat_completions"),
    path("images/generations", images_generations, name="images_generations"),
    path("audio/speech", audio_speech, name="audio_speech"),
    path("audio/transcriptions", audio_transcriptions, name="audio_transcriptions"),
    path("content/generations", content_generations, name="content_generations"),
    # Last: anything else under the mount is an API 404, in OpenAI's body.
    re_path(r"^(?P<rest>.*)$", endpoint_not_found, name="not_found"),
]
