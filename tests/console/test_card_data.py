"""Card HTML is memoised on the card's content: an unchanged card is not rendered again, and
any change in what it shows renders it anew."""

from __future__ import annotations

import pytest

from aiadmin.console.card_data import CardUrls, _render_card, card_data, card_html
from aiadmin.console.selectors import provider_cards
from aiadmin.providers.models import AIProvider

pytestmark = pytest.mark.django_db


def rendered_cards(admin) -> list[str]:
    urls = CardUrls.build()
    return [card_html(card_data(card, urls, is_superuser=admin.is_superuser)) for card in provider_cards(admin=admin)]


def test_an_unchanged_card_is_served_from_the_memo_and_a_changed_one_is_rendered(superuser, make_provider):
    make_provider(slug="acme", name="Acme AI", adapter="sandbox")
    _render_card.cache_clear()
    first = rendered_cards(superuser)
    assert _render_card.cache_info().misses == 1
    assert rendered_cards(superuser) == first and _render_card.cache_info().hits == 1

    AIProvider.objects.filter(slug="acme").update(total_requests=5)
    changed = rendered_cards(superuser)
    assert _render_card.cache_info().misses == 2
    assert "5 requests" in changed[0] and "5 requests" not in first[0]
