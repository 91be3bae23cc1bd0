"""OpenAI's speech and transcription requests, read into the unified service's terms.

Speech: the formats a model can answer in are its adapter's ``speech_formats`` (the sandbox
and Gemini make WAV only; an adapter that declares none has the provider encode what is asked
for). Transcription: a multipart upload, bounded by ``AIADMIN["MAX_UPLOAD_BYTES"]`` (413 over
it, checked from ``Content-Length`` before the body is parsed and again while it is), and
checked like the console's upload (:func:`aiadmin.playground.services.audio_upload_check`:
the extension, then the container sniffed from the first bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParserError

from aiadmin.adapters.registry import registry
from aiadmin.conf import aiadmin_settings
from aiadmin.playground.services import UploadError, audio_upload_check, upload_size_text
from aiadmin.unified import AvailableModel

from .body import number_field, text_field
from .errors import NO_RETRY, APIError, bad_request
from .model_ids import ModelTarget

MAX_SPEECH_CHARS = 4096
MAX_VOICE_CHARS = 64
# OpenAI's speech formats, in its order; mp3 is its default.
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
DEFAULT_SPEECH_FORMAT = "mp3"
SPEECH_UNSUPPORTED = {
    "instructions": "“instructions” is not supported: aiadmin's speech call takes the text, voice, speed and format.",
}
TRANSCRIPT_FORMATS = ("json", "text")
# The multipart envelope around the file (boundaries, headers, the other fields).
MULTIPART_SLACK_BYTES = 64 * 1024
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")


# --- speech ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeechParams:
    text: str
    voice: str | None
    speed: float | None
    format: str | None  # None: the model's default


def speech_params_read(data: dict[str, Any]) -> SpeechParams:
    for name, why in SPEECH_UNSUPPORTED.items():
        if data.get(name):
            raise bad_request(why, param=name, code="unsupported_parameter")
    if data.get("stream_format") not in (None, "audio"):
        raise bad_request("Only “stream_format”: “audio” is supported.", param="stream_format", code="unsupported_parameter")
    response_format = data.get("response_format")
    if response_format is not None and response_format not in SPEECH_FORMATS:
        raise bad_request(f"“response_format” must be one of: {', '.join(SPEECH_FORMATS)}.", param="response_format")
    voice = text_field(data, "voice", max_length=MAX_VOICE_CHARS)
    return SpeechParams(
        text=text_field(data, "input", required=True, max_length=MAX_SPEECH_CHARS),
        voice=(voice or "").strip() or None,
        speed=number_field(data, "speed", minimum=0.25, maximum=4),
        format=response_format,
    )


def speech_formats_of(model: AvailableModel) -> tuple[str, ...]:
    """The formats ``model``'s adapter really produces (all of OpenAI's for one that has the
    provider encode what is asked for)."""
    adapter = registry.get(str(model.extra.get("adapter") or ""))
    produced = getattr(adapter, "speech_formats", None)
    if produced is None:
        return SPEECH_FORMATS
    return tuple(name for name in SPEECH_FORMATS if name in produced)


def speech_format_choose(*, requested: str | None, produced: tuple[str, ...], target: ModelTarget) -> str:
    """The format to ask for: the requested one if the model makes it (else a 400 naming those
    it makes); omitted, mp3 as OpenAI, or the model's first when it makes no mp3."""
    if requested is None:
        return DEFAULT_SPEECH_FORMAT if DEFAULT_SPEECH_FORMAT in produced or not produced else produced[0]
    if requested not in produced:
        makes = f"it produces {', '.join(produced)} only" if produced else "it produces none of OpenAI's formats"
        raise bad_request(
            f"{target.public_id} cannot produce {requested}; {makes}.",
            param="response_format", code="unsupported_value",
        )
    return requested


def speech_content_type(mime_type: str) -> str:
    # An audio type as the adapter names it; anything else the provider claimed is opaque bytes.
    mime_type = (mime_type or "").split(";")[0].strip().lower()
    return mime_type if re.fullmatch(r"audio/[a-z0-9.+-]+", mime_type) else "application/octet-stream"


# --- transcription ----------------------------------------------------------------------------


class _UploadTooLarge(Exception):
    pass


class _UploadLimitHandler(FileUploadHandler):
    """Stops the parse as soon as a file passes the limit, before it is all spooled to disk.
    It passes every chunk on to the next handler, which keeps the file."""

    def __init__(self, request, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            raise _UploadTooLarge
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@dataclass(frozen=True, slots=True)
class TranscriptionParams:
    audio: bytes
    filename: str
    mime_type: str
    model: str | None
    language: str | None
    response_format: str


def upload_too_large(limit: int) -> APIError:
    return APIError(
        413, f"The audio file is larger than {upload_size_text(limit)}, the most this server accepts.",
        code="file_too_large", param="file", headers=dict(NO_RETRY),
    )


def transcription_params_read(request) -> TranscriptionParams:
    """Sync (a thread): parses the multipart body, reads the file and checks it."""
    if request.content_type != "multipart/form-data":
        raise bad_request(
            "Send the audio as multipart/form-data with a “file” part, as OpenAI's transcription API takes it.",
            code="invalid_content_type",
        )
    limit = aiadmin_settings.MAX_UPLOAD_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + MULTIPART_SLACK_BYTES:
        raise upload_too_large(limit)
    request.upload_handlers = [_UploadLimitHandler(request, limit=limit), *request.upload_handlers]
    try:
        fields, files = request.POST, request.FILES
    except _UploadTooLarge:
        raise upload_too_large(limit) from None
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        raise APIError(413, "The request has too many or too large form fields.", code="request_too_large", headers=dict(NO_RETRY)) from None
    except MultiPartParserError:
        raise bad_request("The multipart body could not be read.", code="invalid_multipart") from None
    data = {name: fields.get(name) for name in ("model", "language", "response_format", "stream", "prompt")}
    if data["stream"] not in (None, "", "false", "False"):
        raise bad_request("Streamed transcription is not supported.", param="stream", code="unsupported_parameter")
    if fields.get("timestamp_granularities[]") or fields.get("timestamp_granularities"):
        raise bad_request("Timestamps are not supported.", param="timestamp_granularities", code="unsupported_parameter")
    response_format = data["response_format"] or "json"
    if response_format not in TRANSCRIPT_FORMATS:
        raise bad_request(
            f"“response_format” must be json or text ({response_format} is not supported: aiadmin's providers "
            "do not all give segments or timestamps).",
            param="response_format", code="unsupported_value",
        )
    language = (text_field(data, "language", max_length=16) or "").strip() or None
    if language is not None and not _LANGUAGE.match(language):
        raise bad_request("“language” must be an ISO-639-1 code such as en or fa.", param="language")
    upload = files.get("file")
    if upload is None:
        raise bad_request("“file” is required: the audio to transcribe, as a multipart file part.", param="file", code="missing_required_parameter")
    if upload.size > limit:
        raise upload_too_large(limit)
    try:
        checked = audio_upload_check(upload)
    except UploadError as err:
        raise bad_request(str(err), param="file", code="invalid_file") from None
    return TranscriptionParams(
        audio=checked.data,
        filename=checked.filename,
        mime_type=checked.mime_type,
        model=text_field(data, "model", max_length=600),
        language=language,
        response_format=response_format,
    )

