"""Model browser per provider and capability, loaded by HTMX when an admin opens it, and the
one-click selection. Both run async: the live list comes through the unified service."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse

from aiadmin.adapters import errors
from aiadmin.adapters.types import CAPABILITIES
from aiadmin.unified import UnifiedAIService
from aiadmin.unified.errors import NoAccessError

from ..access import console_view
from ..card_data import CardUrls, relative_time, row_data
from ..selectors import provider_card

PAGE_SIZE = 25
service = UnifiedAIService()

# Inline states (SPEC section 5): which errors mean what for the admin.
_STATES = (
    (NoAccessError, "no_key"),
    (errors.AuthenticationError, "key_rejected"),
    (errors.PermissionDeniedError, "key_rejected"),
    (errors.ProviderConnectionError, "unreachable"),
    (errors.ProviderTimeoutError, "unreachable"),
    (errors.UpstreamError, "unreachable"),
    (errors.RateLimitedError, "unreachable"),
    (errors.UnsupportedOperationError, "no_list"),
)


def _state_for(error: errors.AIAdminError) -> str:
    return next((state for kind, state in _STATES if isinstance(error, kind)), "error")


def _filtered(models, *, query: str, free_only: bool):
    term = query.strip().lower()
    return [
        model
        for model in models
        if (not free_only or model.is_free)
        and (not term or term in model.id.lower() or term in model.name.lower() or term in model.description.lower())
    ]


def _key_link(request, slug: str) -> str:
    return reverse("aiadmin_console:keys", args=[slug])


async def _render(request, template: str, context: dict):
    # Rendering may touch the session or permissions: keep it in a thread.
    return await sync_to_async(render)(request, template, context)


@console_view
async def browser_view(request, slug: str, capability: str):
    if capability not in CAPABILITIES:
        raise Http404("Unknown capability.")
    query = request.GET.get("q", "")[:100]
    free_only = request.GET.get("free") == "1"
    context = {"slug": slug, "capability": capability, "query": query, "free_only": free_only}
    try:
        result = await service.abrowse_models(slug, capability, request.user, refresh=request.GET.get("refresh") == "1")
    except errors.NotFoundError as err:
        raise Http404(str(err)) from err
    except errors.AIAdminError as err:
        context.update(state=_state_for(err), message=str(err), key_link=_key_link(request, slug))
        return await _render(request, "aiadmin/console/browser.html#browser-state", context)
    models = _filtered(result.models, query=query, free_only=free_only)
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        result=result, page=page, total=len(result.models), shown=len(models),
        fetched_ago=relative_time(result.fetched_at),  # "just now", "3 hours ago"
        select_url=reverse("aiadmin_console:select", args=[slug, capability]),  # once, not per row
    )
    template = "aiadmin/console/browser.html#model-list" if request.GET.get("part") == "list" else "aiadmin/console/browser.html#browser"
    return await _render(request, template, context)


@console_view
async def select_view(request, slug: str, capability: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if capability not in CAPABILITIES:
        raise Http404("Unknown capability.")
    model_id = request.POST.get("model_id", "")
    context = {"slug": slug, "capability": capability}
    try:
        selection = await service.aselect_model(slug, capability, model_id, request.user)
    except errors.NotFoundError as err:
        context.update(state="error", message=str(err))
        return await _render(request, "aiadmin/console/browser.html#browser-state", context)
    except errors.AIAdminError as err:
        context.update(state=_state_for(err), message=str(err), key_link=_key_link(request, slug))
        return await _render(request, "aiadmin/console/browser.html#browser-state", context)
    card = await sync_to_async(provider_card)(admin=request.user, slug=slug)
    row = row_data(card, card.row(capability), CardUrls.build())
    context.update(row=row, oob=True, selection=selection)
    return await _render(request, "aiadmin/console/browser.html#selected", context)
