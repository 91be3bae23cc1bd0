"""Card HTML is memoised on the card's content: an unchanged card is not rendered again, and
any change in what it shows renders it anew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from aiadmin.console.card_data import CARD, TABLE_ROW, CardUrls, _render_card, card_data, card_html, relative_time
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


def test_the_memo_key_includes_the_layout(superuser, make_provider):
    make_provider(slug="acme", name="Acme AI", adapter="sandbox")
    _render_card.cache_clear()
    data = card_data(provider_cards(admin=superuser)[0], CardUrls.build(), is_superuser=True)
    as_card, as_row = card_html(data, CARD), card_html(data, TABLE_ROW)
    assert as_card.lstrip().startswith("<article") and as_row.lstrip().startswith("<tr")
    assert _render_card.cache_info().misses == 2
    assert card_html(data, TABLE_ROW) == as_row and _render_card.cache_info().hits == 1


def test_a_change_of_group_renders_anew(staff_user, make_provider):
    """The same provider, once it needs a key and once it has one: different data, new HTML."""
    from aiadmin.providers.models import AdminProviderSettings

    provider = make_provider(slug="keyed", adapter="openai")
    before = rendered_cards(staff_user)[0]
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key="sk-personal-000000000009")
    after = rendered_cards(staff_user)[0]
    assert ">personal key<" in after and ">personal key<" not in before


def test_own_request_counts_are_part_of_the_key(staff_user, make_provider):
    from aiadmin.providers.models import AdminProviderSettings

    provider = make_provider(slug="counted")
    settings = AdminProviderSettings.objects.create(admin=staff_user, provider=provider, total_requests=1)
    assert "you: 1 request<" in rendered_cards(staff_user)[0]
    settings.total_requests = 2
    settings.save()
    assert "you: 2 requests<" in rendered_cards(staff_user)[0]


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "words"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=5, seconds=30), "5 minutes ago"),
        (timedelta(hours=3, minutes=59), "3 hours ago"),
        (timedelta(days=1, hours=2), "1 day ago"),
        (timedelta(days=40), "1 month ago"),
    ],
)
def test_relative_time_is_one_unit_in_words(ago, words):
    assert relative_time(NOW - ago, now=NOW) == words


def test_relative_time_of_nothing_is_empty():
    assert relative_time(None) == ""


def test_last_used_reads_in_words(staff_user, make_provider):
    make_provider(slug="used", last_used_at=timezone.now() - timedelta(hours=3, minutes=5))
    assert "last used 3 hours ago" in rendered_cards(staff_user)[0]
