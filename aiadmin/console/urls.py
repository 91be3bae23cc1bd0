from django.urls import path, re_path

from .views import browser, cards
from .views import chat as chat_views
from .views import content as content_views
from .views.usage import usage_view
from .views import audio as audio_views
from .views import image as image_views
from .views import keys as keys_views
from .views import tokens as tokens_views
from .views import errors as error_views

app_name = "aiadmin_console"

urlpatterns = [
    path("", cards.cards_view, name="cards"),
    path("layout/", cards.cards_layout_view, name="cards_layout"),
    path("providers/<slug:slug>/models/<str:capability>/", browser.browser_view, name="browser"),
    path("providers/<slug:slug>/models/<str:capability>/select/", browser.select_view, name="select"),
    path("usage/", usage_view, name="usage"),
    path("playground/chat/", chat_views.chat_view, name="chat"),
    path("playground/chat/stream/", chat_views.chat_stream_view, name="chat_stream"),
    path("playground/content/", content_views.content_view, name="content"),
    path("playground/content/stream/", content_views.content_stream_view, name="content_stream"),
    path("playground/content/render/", content_views.content_render_view, name="content_render"),
    path("playground/image/", image_views.image_view, name="image"),
    path("playground/image/<int:pk>/", image_views.image_file_view, name="image_file"),
    path("playground/image/<int:pk>/download/", image_views.image_download_view, name="image_download"),
    path("playground/audio/", audio_views.audio_view, name="audio"),
    path("playground/audio/speech/", audio_views.speech_view, name="speech"),
    path("playground/audio/transcription/", audio_views.transcription_view, name="transcription"),
    path("playground/audio/<int:pk>/", audio_views.audio_file_view, name="audio_file"),
    path("playground/audio/<int:pk>/download/", audio_views.audio_download_view, name="audio_download"),
    path("providers/<slug:slug>/keys/", keys_views.keys_view, name="keys"),
    path("providers/<slug:slug>/keys/shared/", keys_views.shared_key_view, name="shared_key"),
    path("providers/<slug:slug>/keys/personal/", keys_views.personal_key_view, name="personal_key"),
    path("providers/<slug:slug>/keys/test/", keys_views.test_connection_view, name="test_connection"),
    path("tokens/", tokens_views.tokens_view, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens_views.token_revoke_view, name="token_revoke"),
    # Last: any other console address ending in "/" is the console's 404 (without the slash the
    # admin's catch-all still appends it, so "usage" reaches "usage/").
    re_path(r"^(?P<rest>.*/)$", error_views.console_not_found, name="not_found"),
]
