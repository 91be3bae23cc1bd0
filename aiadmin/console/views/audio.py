"""The audio playground: text to speech (stored, then played and downloaded from owner-only
views, since a strict CSP forbids data: URLs) and speech to text (upload -> transcript)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

from aiadmin.playground import services
from aiadmin.playground.forms import SpeechForm, TranscriptionForm
from aiadmin.playground.models import GeneratedAudio

from ..access import console_context, console_view

TTS_PREFIX = "tts"
STT_PREFIX = "stt"


def _page(request: HttpRequest, partial: str | None, **values) -> HttpResponse:
    """Sync (the sidebar context queries the database). HTMX swaps one panel; a plain POST
    (no JavaScript) gets the whole page with both forms."""
    if request.htmx and partial:
        return render(request, f"aiadmin/console/audio.html#{partial}", values)
    return render(request, "aiadmin/console/audio.html", console_context(request, title="Audio playground", **values))


@console_view
async def audio_view(request: HttpRequest) -> HttpResponse:
    models = await services.service.aget_available_models("audio", request.user)
    return await sync_to_async(_page)(
        request,
        None,
        speech_form=SpeechForm(models=models, prefix=TTS_PREFIX),
        transcription_form=TranscriptionForm(models=models, prefix=STT_PREFIX),
    )


@console_view
async def speech_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    models = await services.service.aget_available_models("audio", request.user)
    form = SpeechForm(request.POST, models=models, prefix=TTS_PREFIX)
    outcome = None
    if form.is_valid():
        provider_slug, model_id = form.target()
        speed = form.cleaned_data["speed"]
        outcome = await services.speech_generate(
            admin=request.user,
            provider_slug=provider_slug,
            model_id=model_id,
            text=form.cleaned_data["text"],
            voice=form.cleaned_data["voice"],
            speed=float(speed) if speed is not None else None,
            format=form.cleaned_data["format"],
        )
    return await sync_to_async(_page)(
        request,
        "speech-panel",
        speech_form=form,
        speech=outcome,
        transcription_form=TranscriptionForm(models=models, prefix=STT_PREFIX),
    )


@console_view
async def transcription_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    models = await services.service.aget_available_models("audio", request.user)
    outcome = None
    form = TranscriptionForm(request.POST, request.FILES, models=models, prefix=STT_PREFIX)
    if form.is_valid():
        try:
            upload = services.audio_upload_check(form.cleaned_data["audio"])
        except services.UploadError as err:
            form.add_error("audio", str(err))
            outcome = services.Outcome(error=str(err))
        else:
            provider_slug, model_id = form.target()
            outcome = await services.speech_transcribe(admin=request.user, provider_slug=provider_slug, model_id=model_id, upload=upload)
    return await sync_to_async(_page)(
        request,
        "transcription-panel",
        transcription_form=form,
        transcript=outcome,
        speech_form=SpeechForm(models=models, prefix=TTS_PREFIX),
    )


@console_view
def audio_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The audio inline, for the <audio> player."""
    return services.file_response(services.owned_file(GeneratedAudio, pk=pk, user=request.user), download=False)


@console_view
def audio_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    return services.file_response(services.owned_file(GeneratedAudio, pk=pk, user=request.user), download=True)
