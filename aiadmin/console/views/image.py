"""The image playground: prompt, size, quality and count -> images stored through Django's
storage, a gallery of the admin's recent generations, and owner-only file views."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aiadmin.playground import services
from aiadmin.playground.forms import ImageForm
from aiadmin.playground.models import GeneratedImage
from aiadmin.unified.results import AvailableModel

from ..access import console_context, console_view


def _page(request: HttpRequest, form: ImageForm, outcome: services.Outcome | None) -> HttpResponse:
    """Sync: the sidebar context and the gallery query the database."""
    fresh_ids = {row.pk for row in outcome.items} if outcome else set()
    context = console_context(
        request,
        title="Image playground",
        form=form,
        outcome=outcome,
        gallery=services.images_recent(admin=request.user),
        fresh_ids=fresh_ids,
    )
    # HTMX posts swap the workspace only; a plain POST (no JavaScript) gets the whole page.
    template = "aiadmin/console/image.html#workspace" if request.htmx else "aiadmin/console/image.html"
    return render(request, template, context)


@console_view
async def image_view(request: HttpRequest) -> HttpResponse:
    models: list[AvailableModel] = await services.service.aget_available_models("image", request.user)
    if request.method != "POST":
        return await sync_to_async(_page)(request, ImageForm(models=models), None)
    form = ImageForm(request.POST, models=models)
    if not form.is_valid():
        return await sync_to_async(_page)(request, form, None)
    provider_slug, model_id = form.target()
    outcome = await services.images_generate(
        admin=request.user,
        provider_slug=provider_slug,
        model_id=model_id,
        prompt=form.cleaned_data["prompt"],
        size=form.cleaned_data["size"],
        quality=form.cleaned_data["quality"],
        count=form.cleaned_data["count"],
    )
    return await sync_to_async(_page)(request, form, outcome)


@console_view
def image_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The image inline, for the gallery's <img> tags."""
    return services.file_response(services.owned_file(GeneratedImage, pk=pk, user=request.user), download=False)


@console_view
def image_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    return services.file_response(services.owned_file(GeneratedImage, pk=pk, user=request.user), download=True)
