"""``POST /v1/audio/speech`` (JSON in, audio bytes out) and ``POST /v1/audio/transcriptions``
(a multipart upload in; ``{"text"}`` or plain text out)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpResponse

from ..audio import (
    speech_content_type,
    speech_format_choose,
    speech_formats_of,
    speech_params_read,
    transcription_params_read,
)
from ..body import json_body
from ..endpoint import api_endpoint
from ..model_ids import model_target, service
from ..responses import json_response


@api_endpoint("POST", capability="audio")
async def audio_speech(request, grant) -> HttpResponse:
    data = json_body(request)
    params = speech_params_read(data)
    target = await model_target(grant=grant, capability="audio", requested=data.get("model"))
    audio_format = speech_format_choose(requested=params.format, produced=speech_formats_of(target.model), target=target)
    reply = await service.atext_to_speech(
        params.text,
        grant.admin,
        voice=params.voice,
        speed=params.speed,
        format=audio_format,
        provider_slug=target.provider_slug,
        model_id=target.model_id,
        via_token=grant,
    )
    response = HttpResponse(reply.audio, content_type=speech_content_type(reply.mime_type))
    response["Content-Length"] = str(len(reply.audio))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'attachment; filename="speech.{audio_format}"'
    return response


@api_endpoint("POST", capability="audio")
async def audio_transcriptions(request, grant) -> HttpResponse:
    params = await sync_to_async(transcription_params_read)(request)
    target = await model_target(grant=grant, capability="audio", requested=params.model)
    reply = await service.aspeech_to_text(
        params.audio,
        grant.admin,
        filename=params.filename,
        mime_type=params.mime_type,
        language=params.language,
        provider_slug=target.provider_slug,
        model_id=target.model_id,
        via_token=grant,
    )
    if params.response_format == "text":
        return HttpResponse(reply.text, content_type="text/plain; charset=utf-8")
    return json_response({"text": reply.text})
