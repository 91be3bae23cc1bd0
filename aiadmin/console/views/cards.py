"""The provider cards page (the console's dashboard). With HTMX it answers with the grid
partial only (filtering and search without a page load)."""

from __future__ import annotations

from django.shortcuts import render

from aiadmin.adapters.types import CAPABILITIES

from ..access import console_context, console_view
from ..card_data import CardUrls, card_data, card_html
from ..selectors import provider_cards


@console_view
def cards_view(request):
    capability = request.GET.get("capability", "")
    query = request.GET.get("q", "")[:100]
    urls = CardUrls.build()
    cards = [
        card_html(card_data(card, urls, is_superuser=request.user.is_superuser))
        for card in provider_cards(admin=request.user, capability=capability or None, query=query)
    ]
    context = console_context(
        request,
        title="AI providers",
        cards=cards,
        capabilities=CAPABILITIES,
        capability=capability if capability in CAPABILITIES else "",
        query=query,
    )
    template = "aiadmin/console/cards.html#provider-grid" if request.htmx else "aiadmin/console/cards.html"
    return render(request, template, context)
