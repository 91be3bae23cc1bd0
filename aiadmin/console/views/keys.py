"""Keys per provider: superadmins set the shared key and sharing policy (separate URL, 403 for
everyone else), every admin sets their own personal key, and "Test connection" checks a key
through the adapter (the unified service stores the result)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from aiadmin.adapters.errors import AIAdminError
from aiadmin.providers.access import provider_needs_key
from aiadmin.providers.models import AIProvider
from aiadmin.unified import UnifiedAIService

from .. import keys
from ..access import console_context, console_view

service = UnifiedAIService()


def _context(request: HttpRequest, provider: AIProvider, **overrides) -> dict:
    row = keys.settings_row_for(admin=request.user, provider=provider)
    values = {
        "provider": provider,
        "settings_row": row,
        "state": keys.keys_state(admin=request.user, provider=provider, row=row),
        "personal_form": keys.personal_form(admin=request.user, row=row),
        "shared_form": keys.SharedKeyForm(instance=provider) if request.user.is_superuser else None,
    }
    values.update(overrides)
    return values


def _respond(request: HttpRequest, provider: AIProvider, partial: str, **overrides) -> HttpResponse:
    context = _context(request, provider, **overrides)
    if request.htmx:
        return render(request, f"aiadmin/console/keys.html#{partial}", context)
    return render(request, "aiadmin/console/keys.html", console_context(request, title=f"Keys · {provider}", **context))


def _respond_saved(request: HttpRequest, provider: AIProvider, saved: str, **overrides) -> HttpResponse:
    """After an HTMX save (a plain POST is redirected to the page): the saved panel, plus the status line and the other panel out of band,
    since the decision (and which options are offered) may have changed with it. The other
    panel's inputs keep what the admin typed there (hx-preserve), the saved one starts empty."""
    context = _context(request, provider, **overrides)
    other = context["personal_form"] if saved == "shared" else context["shared_form"]
    if other is not None:
        for field in other.fields.values():
            field.widget.attrs["hx-preserve"] = "true"
    return render(request, f"aiadmin/console/keys.html#{saved}-response", context)


@console_view
def keys_view(request: HttpRequest, slug: str) -> HttpResponse:
    provider = get_object_or_404(AIProvider, slug=slug)
    return render(request, "aiadmin/console/keys.html", console_context(request, title=f"Keys · {provider}", **_context(request, provider)))


@console_view(superuser=True, refusal="Only superadmins can set the shared key and the sharing policy.")
def shared_key_view(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    provider = get_object_or_404(AIProvider, slug=slug)
    form = keys.SharedKeyForm(request.POST, instance=provider)
    if not form.is_valid():
        return _respond(request, provider, "shared-panel", shared_form=form)
    provider = keys.shared_key_save(user=request.user, form=form)
    if not request.htmx:
        return redirect(reverse("aiadmin_console:keys", args=[provider.slug]))  # post/redirect/get
    # A fresh form: the input stays empty and the hint shows what is stored now.
    return _respond_saved(request, provider, "shared", shared_form=keys.SharedKeyForm(instance=provider), shared_saved=True)


@console_view
def personal_key_view(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    provider = get_object_or_404(AIProvider, slug=slug)
    row = keys.settings_row_for(admin=request.user, provider=provider)
    form = keys.personal_form(admin=request.user, row=row, data=request.POST)
    if not form.is_valid():
        return _respond(request, provider, "personal-panel", personal_form=form)
    added = row.pk is None  # the row is created on the first save
    row = form.save()
    keys.change_log(user=request.user, obj=row, form=form, secret="personal_api_key", label="personal key", added=added)
    if not request.htmx:
        return redirect(reverse("aiadmin_console:keys", args=[provider.slug]))
    return _respond_saved(request, provider, "personal", personal_saved=True)


@console_view
async def test_connection_view(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    key_source = request.POST.get("key_source", "")
    if key_source not in keys.KEY_SOURCES:
        return HttpResponseBadRequest("key_source must be shared, personal or none.")
    if key_source == "shared" and not request.user.is_superuser:
        raise PermissionDenied("Only superadmins test the shared key.")
    provider = await AIProvider.objects.filter(slug=slug).afirst()
    if provider is None:
        raise Http404("No such provider.")
    if provider_needs_key(provider) == (key_source == "none"):
        return HttpResponseBadRequest("Test the shared or your personal key; “none” is for providers that need no key.")
    try:
        result = await service.avalidate_key(slug, request.user, key_source=None if key_source == "none" else key_source)
    except AIAdminError as err:
        # No key to test, adapter missing...: shown, not stored (nothing was checked).
        ok, message = False, str(err)
    else:
        ok, message = result.ok, result.message
    if not request.htmx:
        return redirect(reverse("aiadmin_console:keys", args=[slug]))  # the page shows the stored result
    context = {"ok": ok, "message": message, "checked_at": timezone.now(), "fresh": True}
    return await sync_to_async(render)(request, "aiadmin/console/keys.html#test-result", context)
