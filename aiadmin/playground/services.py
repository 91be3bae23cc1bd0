"""What the image and audio playgrounds do, kept out of the views: call the unified service,
store what comes back in ``STORAGES[AIADMIN["STORAGE"]]``, check uploads, serve files safely.

Files go through the storage API only (``save``, ``open``, ``delete``; never ``path()`` or
``MEDIA_ROOT``), so any backend works: the local disk, or a shared store such as S3 when
several hosts serve the console (``standalone/settings/storage.py``)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header

from aiadmin.adapters.errors import AIAdminError
from aiadmin.conf import aiadmin_settings
from aiadmin.unified import UnifiedAIService
from aiadmin.unified.results import CallInfo

from .models import GeneratedAudio, GeneratedFile, GeneratedImage

logger = logging.getLogger(__name__)
service = UnifiedAIService()
F = TypeVar("F", bound=GeneratedFile)

GALLERY_SIZE = 12
UPLOAD_EXTENSIONS = ("wav", "mp3", "m4a", "ogg", "webm", "flac")

# Only these types are served inline; anything else a provider claims (text/html, SVG with
# script...) is sent as an opaque attachment so it can never run in the console's origin.
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/aac": "aac",
    "audio/flac": "flac",
    "audio/webm": "webm",
    "audio/mp4": "m4a",
}


@dataclass(slots=True)
class Outcome:
    """One playground call: the stored files and call facts, or a message for the admin."""

    error: str = ""
    info: CallInfo | None = None
    items: list = field(default_factory=list)
    text: str = ""


class UploadError(ValueError):
    """An upload the playground refuses; the message is shown to the admin as is."""


@dataclass(frozen=True, slots=True)
class AudioUpload:
    data: bytes
    filename: str
    mime_type: str


def _file_name(mime_type: str) -> str:
    # A random name: the prompt never ends up in paths, and names cannot be guessed.
    return f"{uuid.uuid4().hex}.{_EXTENSIONS.get(mime_type.lower(), 'bin')}"


# --- images ---------------------------------------------------------------------------------


def images_store(*, admin, info: CallInfo, images, prompt: str, size: str) -> list[GeneratedImage]:
    rows = []
    with transaction.atomic():
        for image in images:
            row = GeneratedImage(
                admin=admin, provider_slug=info.provider, model_id=info.model, prompt=prompt, size=size, mime_type=image.mime_type
            )
            row.file.save(_file_name(image.mime_type), ContentFile(image.data), save=False)
            row.save()
            rows.append(row)
    return rows


def images_recent(*, admin, limit: int = GALLERY_SIZE) -> list[GeneratedImage]:
    return list(GeneratedImage.objects.filter(admin=admin).order_by("-created_at", "-pk")[:limit])


async def images_generate(
    *, admin, provider_slug: str, model_id: str, prompt: str, size: str, quality: str, count: int
) -> Outcome:
    try:
        reply = await service.agenerate_image(
            prompt, admin, size=size, quality=quality or None, n=count, provider_slug=provider_slug, model_id=model_id
        )
    except AIAdminError as err:
        return Outcome(error=str(err))
    try:
        rows = await sync_to_async(images_store)(admin=admin, info=reply.info, images=reply.images, prompt=prompt, size=size)
    except Exception:  # whatever the storage backend raises (OSError, an S3 client error...)
        logger.exception("Could not store generated images")
        return Outcome(error="The images were generated but could not be stored. Check the media storage.", info=reply.info)
    return Outcome(info=reply.info, items=rows)


# --- audio ----------------------------------------------------------------------------------


def audio_store(*, admin, info: CallInfo, data: bytes, mime_type: str, text: str, voice: str) -> GeneratedAudio:
    row = GeneratedAudio(admin=admin, provider_slug=info.provider, model_id=info.model, text=text, voice=voice, mime_type=mime_type)
    row.file.save(_file_name(mime_type), ContentFile(data), save=False)
    row.save()
    return row


async def speech_generate(
    *, admin, provider_slug: str, model_id: str, text: str, voice: str, speed: float | None, format: str
) -> Outcome:
    try:
        reply = await service.atext_to_speech(
            text, admin, voice=voice or None, speed=speed, format=format, provider_slug=provider_slug, model_id=model_id
        )
    except AIAdminError as err:
        return Outcome(error=str(err))
    try:
        row = await sync_to_async(audio_store)(
            admin=admin, info=reply.info, data=reply.audio, mime_type=reply.mime_type, text=text, voice=voice
        )
    except Exception:  # whatever the storage backend raises
        logger.exception("Could not store generated speech")
        return Outcome(error="The speech was generated but could not be stored. Check the media storage.", info=reply.info)
    return Outcome(info=reply.info, items=[row])


def _sniff_audio(head: bytes) -> str | None:
    """The container by its first bytes: the browser's content type is only a claim."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


def upload_size_text(size: int) -> str:
    return f"{size / 2**20:.3g} MB" if size >= 2**20 else f"{size / 1024:.3g} KB"


def audio_upload_check(upload) -> AudioUpload:
    if upload is None:
        raise UploadError("Choose an audio file to transcribe.")
    name = upload.name or "audio"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = ", ".join(UPLOAD_EXTENSIONS)
    if extension not in UPLOAD_EXTENSIONS:
        raise UploadError(f"“{name}” is not a supported audio file. Upload one of: {allowed}.")
    if upload.size == 0:
        raise UploadError(f"“{name}” is empty. Upload a recording.")
    limit = aiadmin_settings.MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise UploadError(f"“{name}” is {upload_size_text(upload.size)}; the limit is {upload_size_text(limit)}.")
    data = upload.read()
    mime_type = _sniff_audio(data[:16])
    if mime_type is None:
        raise UploadError(f"“{name}” does not look like audio ({allowed}). Upload a recording in one of those formats.")
    return AudioUpload(data=data, filename=name, mime_type=mime_type)


async def speech_transcribe(*, admin, provider_slug: str, model_id: str, upload: AudioUpload) -> Outcome:
    try:
        reply = await service.aspeech_to_text(
            upload.data, admin, filename=upload.filename, mime_type=upload.mime_type, provider_slug=provider_slug, model_id=model_id
        )
    except AIAdminError as err:
        return Outcome(error=str(err))
    return Outcome(info=reply.info, text=reply.text)


# --- serving --------------------------------------------------------------------------------


def owned_file(model: type[F], *, pk: int, user) -> F:
    """The row if ``user`` owns it or is a superadmin; otherwise 404, so other admins cannot
    even learn that the file exists."""
    row = model.objects.filter(pk=pk).first()
    if row is None or not row.owned_by(user):
        raise Http404("No such file.")
    return row


def file_response(row: GeneratedFile, *, download: bool) -> HttpResponse:
    """The file's bytes in one response. Generated media is small, and a FileResponse would
    make Django's ASGI handler consume a sync iterator (with a warning on every download)."""
    mime_type = row.mime_type.lower()
    safe = mime_type in _EXTENSIONS
    try:
        with row.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError) as err:
        raise Http404("The file is no longer in storage.") from err
    except Exception:  # the store is unreachable or refused: say so, never a 500
        logger.exception("Could not read %s from the media storage", row.file.name)
        return HttpResponse(
            "The media storage cannot be reached; try again later.", status=503, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(data, content_type=mime_type if safe else "application/octet-stream")
    filename = f"{row._meta.model_name}-{row.pk}.{_EXTENSIONS.get(mime_type, 'bin')}"
    response["Content-Disposition"] = content_disposition_header(download or not safe, filename)
    response["Content-Length"] = str(len(data))
    # A document opened from here gets no scripts and no same-origin powers.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
