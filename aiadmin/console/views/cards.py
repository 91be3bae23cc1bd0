"""The provider cards page (the console's dashboard): the providers the admin can use first,
then those that need a key or setup, as cards or as a table (the admin's stored choice). With
HTMX it answers with the grid partial only (filtering and search without a page load)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from aiadmin.adapters.types import CAPABILITIES

from ..access import console_context, console_view
from ..card_data import CARD, SETUP_TILE, TABLE_ROW, CardUrls, card_data, card_html
from ..preferences import CardsLayout, cards_layout_get, cards_layout_set
from ..selectors import cards_grouped, provider_cards

GRID = "aiadmin/console/cards.html#provider-grid"


def _filters(params) -> tuple[str, str]:
    capability = params.get("capability", "")
    return (capability if capability in CAPABILITIES else ""), params.get("q", "")[:100]


def _grid_context(request, *, layout: str, capability: str, query: str) -> dict:
    urls = CardUrls.build()
    is_superuser = request.user.is_superuser
    ready, setup = cards_grouped(provider_cards(admin=request.user, capability=capability or None, query=query))
    ready_partial, setup_partial = (TABLE_ROW, TABLE_ROW) if layout == CardsLayout.TABLE else (CARD, SETUP_TILE)
    return {
        "layout": layout,
        "ready": [card_html(card_data(card, urls, is_superuser=is_superuser), ready_partial) for card in ready],
        "setup": [card_html(card_data(card, urls, is_superuser=is_superuser), setup_partial) for card in setup],
        "capabilities": CAPABILITIES,
        "capability": capability,
        "query": query,
    }


@console_view
def cards_view(request):
    capability, query = _filters(request.GET)
    context = _grid_context(request, layout=cards_layout_get(admin=request.user), capability=capability, query=query)
    if request.htmx:
        return render(request, GRID, context)
    return render(request, "aiadmin/console/cards.html", console_context(request, title="AI providers", **context))


@console_view
def cards_layout_view(request):
    """Stores the current admin's own layout choice (never anyone else's: the row is always
    ``request.user``'s), then answers with the grid in that layout and the toggle updated."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        layout = cards_layout_set(admin=request.user, layout=request.POST.get("layout", ""))
    except ValueError as err:
        return HttpResponseBadRequest(str(err), content_type="text/plain; charset=utf-8")
    capability, query = _filters(request.POST)
    if not request.htmx:
        filters = {key: value for key, value in (("q", query), ("capability", capability)) if value}
        return HttpResponseRedirect(reverse("aiadmin_console:cards") + (f"?{urlencode(filters)}" if filters else ""), status=303)
    context = _grid_context(request, layout=layout, capability=capability, query=query)
    return render(request, "aiadmin/console/cards.html#layout-response", context)
