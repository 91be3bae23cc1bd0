"""The audio playground: text to speech stored and served to its owner, speech to text from an
upload, and clear errors for uploads it cannot take."""

from __future__ import annotations

import io
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from aiadmin.adapters.sandbox import synthesise_speech
from aiadmin.playground.models import GeneratedAudio
from aiadmin.providers.models import AIProvider
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:audio")
SPEECH_URL = reverse("aiadmin_console:speech")
TRANSCRIPTION_URL = reverse("aiadmin_console:transcription")
SANDBOX = "sandbox::sandbox-voice"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def sandbox(db) -> AIProvider:
    call_command("import_providers", verbosity=0)  # the sandbox, its audio model selected
    return AIProvider.objects.get(slug="sandbox")


def speak(client, **values):
    data = {"tts-model": SANDBOX, "tts-text": "Hello from the sandbox", "tts-voice": "", "tts-speed": "1", "tts-format": "wav", **values}
    return client.post(SPEECH_URL, data, **HTMX)


def transcribe(client, upload):
    return client.post(TRANSCRIPTION_URL, {"stt-model": SANDBOX, "stt-audio": upload}, **HTMX)


def test_anonymous_users_are_sent_to_login(client):
    for url in (URL, reverse("aiadmin_console:audio_file", args=[1])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_page_renders_both_forms_for_staff(staff_client, sandbox):
    html = staff_client.get(URL).content.decode()
    assert 'data-testid="speech-panel"' in html and 'data-testid="transcription-panel"' in html
    assert f'value="{SANDBOX}"' in html
    for name in ("mp3", "wav", "opus", "aac", "flac"):
        assert f'value="{name}"' in html
    assert 'accept="audio/*,' in html and 'enctype="multipart/form-data"' in html


def test_text_to_speech_on_the_sandbox_gives_a_playable_wav_served_to_the_owner(staff_client, staff_user, sandbox, media_root):
    html = speak(staff_client).content.decode()
    clip = GeneratedAudio.objects.get()
    assert clip.admin == staff_user and clip.mime_type == "audio/wav" and clip.text == "Hello from the sandbox"
    player_url = reverse("aiadmin_console:audio_file", args=[clip.pk])
    assert f'<audio controls preload="metadata" src="{player_url}"' in html
    assert "data:" not in html  # a strict CSP allows no data: media
    assert reverse("aiadmin_console:audio_download", args=[clip.pk]) in html
    response = staff_client.get(player_url)
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert wav.getnframes() > 0
    download = staff_client.get(reverse("aiadmin_console:audio_download", args=[clip.pk]))
    assert download["Content-Disposition"].startswith("attachment;")


def test_other_admins_cannot_play_my_audio(client, staff_client, other_staff_user, sandbox):
    speak(staff_client)
    clip = GeneratedAudio.objects.get()
    client.force_login(other_staff_user)
    assert client.get(reverse("aiadmin_console:audio_file", args=[clip.pk])).status_code == 404
    assert client.get(reverse("aiadmin_console:audio_download", args=[clip.pk])).status_code == 404


def test_speech_errors_are_clear_and_the_form_keeps_the_text(staff_client, sandbox):
    html = speak(staff_client, **{"tts-text": "Keep this", "tts-speed": "9"}).content.decode()
    assert "less than or equal to 4" in html and "Keep this</textarea>" in html
    assert not GeneratedAudio.objects.exists()


def test_uploading_the_sandbox_wav_shows_a_transcript(staff_client, sandbox):
    upload = SimpleUploadedFile("hello.wav", synthesise_speech("hello world"), content_type="audio/wav")
    html = transcribe(staff_client, upload).content.decode()
    assert 'data-testid="transcript"' in html
    assert "Sandbox transcript of a" in html and "WAV recording" in html


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("notes.txt", b"just text", content_type="text/plain"), "is not a supported audio file"),
        (SimpleUploadedFile("fake.wav", b"<html>not audio</html>", content_type="audio/wav"), "does not look like audio"),
        (SimpleUploadedFile("empty.wav", b"", content_type="audio/wav"), "is empty"),
    ],
    ids=["wrong-type", "not-audio-inside", "empty"],
)
def test_unusable_uploads_get_a_clear_error(staff_client, sandbox, upload, message):
    response = transcribe(staff_client, upload)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="transcription-error"' in html and message in html
    assert 'data-testid="transcript"' not in html


def test_an_oversized_upload_gets_a_clear_error(staff_client, sandbox, settings):
    aiadmin_set(settings, MAX_UPLOAD_BYTES=1024)
    upload = SimpleUploadedFile("long.wav", synthesise_speech("a rather long recording of many words"), content_type="audio/wav")
    html = transcribe(staff_client, upload).content.decode()
    assert 'data-testid="transcription-error"' in html and "the limit is 1 KB" in html
    assert 'data-testid="transcript"' not in html
    assert "at most 1 KB" in staff_client.get(URL).content.decode()  # the form says so too


def test_no_file_gets_a_clear_error(staff_client, sandbox):
    html = staff_client.post(TRANSCRIPTION_URL, {"stt-model": SANDBOX}, **HTMX).content.decode()
    assert "Choose an audio file to transcribe." in html
