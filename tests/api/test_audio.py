"""``POST /v1/audio/speech`` and ``POST /v1/audio/transcriptions``."""

from __future__ import annotations

import io
import wave

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from openai.types.audio import Transcription

from aiadmin.providers.models import AIRequestLog
from aiadmin.providers.tokens import token_create
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db(transaction=True)

SPEECH = "/v1/audio/speech"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
PLANTED = "sk-planted-0123456789abcdef0123456789abcdef"


def _rows(**filters):
    return sync_to_async(lambda: list(AIRequestLog.objects.filter(**filters).values()))()


def _wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x01" * int(seconds * rate))
    return buffer.getvalue()


def _upload(data: bytes | None = None, name: str = "clip.wav", **fields) -> dict:
    return {"file": SimpleUploadedFile(name, _wav() if data is None else data, content_type="audio/wav"), **fields}


async def _scoped_token(staff_user, capability: str) -> dict[str, str]:
    issued = await sync_to_async(token_create)(admin=staff_user, name=f"{capability} only", capabilities=[capability])
    return {"Authorization": f"Bearer {issued.plaintext}"}


# --- speech ---------------------------------------------------------------------------------


async def test_speech_answers_the_audio_bytes_and_records_the_token(api_call, issued):
    response = await api_call(SPEECH, {"input": "Hello there", "voice": "alloy", "speed": 1.5, "response_format": "wav"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"
    assert int(response["Content-Length"]) == len(response.content)
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["capability"] == "audio" and row["status"] == "ok"


async def test_speech_without_a_format_gets_the_models_own_when_it_makes_no_mp3(api_call):
    response = await api_call(SPEECH, {"input": "Hello", "model": "audio"})
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"


@pytest.mark.parametrize("audio_format", ["mp3", "opus", "pcm"])
async def test_speech_in_a_format_the_model_cannot_make_is_a_400_naming_what_it_makes(api_call, audio_format):
    response = await api_call(SPEECH, {"input": "Hello", "response_format": audio_format})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format"
    assert "wav only" in error["message"] and audio_format in error["message"]
    assert await _rows() == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "input"),
        ({"input": ""}, "input"),
        ({"input": "x" * 4097}, "input"),
        ({"input": "Hi", "speed": 0.1}, "speed"),
        ({"input": "Hi", "speed": 5}, "speed"),
        ({"input": "Hi", "speed": "fast"}, "speed"),
        ({"input": "Hi", "voice": 3}, "voice"),
        ({"input": "Hi", "voice": "v" * 65}, "voice"),
        ({"input": "Hi", "response_format": "ogg"}, "response_format"),
        ({"input": "Hi", "instructions": "Whisper it"}, "instructions"),
        ({"input": "Hi", "stream_format": "sse"}, "stream_format"),
    ],
)
async def test_speech_bad_input_is_a_400_naming_the_field(api_call, body, param):
    response = await api_call(SPEECH, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["param"] == param


async def test_speech_unknown_model_is_a_404_listing_the_ids(api_call):
    response = await api_call(SPEECH, {"input": "Hi", "model": "tts-1"})
    assert response.status_code == 404
    assert "sandbox/sandbox-voice" in response.json()["error"]["message"]


async def test_speech_needs_an_audio_token_and_a_valid_one(api_call, staff_user):
    response = await api_call(SPEECH, {"input": "Hi"}, headers=await _scoped_token(staff_user, "image"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "outside_token_scope"
    response = await api_call(SPEECH, {"input": "Hi"}, headers={"Authorization": "Bearer aia_wrong"})
    assert response.status_code == 401


async def test_speech_through_the_fake_openai_provider_in_mp3(api_call, fake_openai, fake_provider, issued):
    await sync_to_async(fake_openai)(audio="tts-1")
    response = await api_call(SPEECH, {"input": "Hello", "voice": "nova", "response_format": "mp3", "model": "fake-openai/tts-1"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "audio/mpeg"  # the adapter encodes on request: every format
    (sent,) = fake_provider.requests_to("/audio/speech")
    assert sent.json()["response_format"] == "mp3" and sent.json()["voice"] == "nova"
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["provider_slug"] == "fake-openai"


async def test_speech_keeps_a_planted_key_out_of_the_body(api_call, fake_openai):
    await sync_to_async(fake_openai)(key=PLANTED, audio="tts-1")
    response = await api_call(SPEECH, {"input": "Hello", "model": "fake-openai/tts-1"})
    assert response.status_code == 502
    assert PLANTED.encode() not in response.content and b"Traceback" not in response.content


# --- transcription ----------------------------------------------------------------------------


async def test_transcription_json_as_the_sdk_types_it_and_the_ledger_row(api_call, issued):
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(model="audio", language="en"))
    assert response.status_code == 200, response.content
    transcript = Transcription.model_validate(response.json())
    assert transcript.text.startswith("Sandbox transcript of a 0.5 second WAV recording")
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["capability"] == "audio" and row["status"] == "ok"


async def test_transcription_text_is_a_plain_text_body(api_call):
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(response_format="text"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("Sandbox transcript of a 0.5 second")


@pytest.mark.parametrize(
    ("multipart", "param"),
    [
        ({"model": "audio"}, "file"),
        (_upload(response_format="verbose_json"), "response_format"),
        (_upload(response_format="srt"), "response_format"),
        (_upload(language="english please"), "language"),
        (_upload(name="clip.exe"), "file"),
        (_upload(data=b"MZ not audio at all, just bytes"), "file"),
        (_upload(data=b""), "file"),
        (_upload(stream="true"), "stream"),
    ],
)
async def test_transcription_bad_input_is_a_400_naming_the_field(api_call, multipart, param):
    response = await api_call(TRANSCRIPTIONS, multipart=multipart)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["param"] == param
    assert await _rows() == []


async def test_transcription_wants_multipart(api_call):
    response = await api_call(TRANSCRIPTIONS, {"file": "aGVsbG8="})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"


async def test_transcription_over_the_upload_limit_is_a_413(api_call, settings):
    aiadmin_set(settings, MAX_UPLOAD_BYTES=1024)
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(_wav(seconds=1)))  # 16 KB, in one request under the slack
    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["param"] == "file" and "1 KB" in error["message"]
    assert await _rows() == []


async def test_transcription_far_over_the_limit_is_refused_from_its_length(api_call, settings):
    aiadmin_set(settings, MAX_UPLOAD_BYTES=1024)
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(_wav(seconds=10)))  # 160 KB: past the slack too
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


async def test_transcription_unknown_model_scope_and_token(api_call, staff_user):
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(model="whisper-9"))
    assert response.status_code == 404 and "sandbox/sandbox-voice" in response.json()["error"]["message"]
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(), headers=await _scoped_token(staff_user, "chat"))
    assert response.status_code == 403
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(), headers={})
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"


async def test_transcription_through_the_fake_openai_provider(api_call, fake_openai, fake_provider, issued):
    await sync_to_async(fake_openai)(audio="whisper-1")
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(model="fake-openai/whisper-1", language="fa"))
    assert response.status_code == 200, response.content
    assert response.json()["text"].startswith("Fake transcript of a")
    (sent,) = fake_provider.requests_to("/audio/transcriptions")
    assert b"clip.wav" in sent.body and b'name="language"' in sent.body
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["provider_slug"] == "fake-openai"


async def test_transcription_keeps_a_planted_key_out_of_the_body(api_call, fake_openai):
    await sync_to_async(fake_openai)(key=PLANTED, audio="whisper-1")
    response = await api_call(TRANSCRIPTIONS, multipart=_upload(model="fake-openai/whisper-1"))
    assert response.status_code == 502
    assert PLANTED.encode() not in response.content and b"Traceback" not in response.content


async def test_transcription_with_a_broken_multipart_body_is_a_400(async_client, auth):
    response = await async_client.post(TRANSCRIPTIONS, b"--x\r\nnot really", content_type="multipart/form-data", headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_multipart"
