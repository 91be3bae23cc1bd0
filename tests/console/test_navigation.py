"""The sidebar marks exactly the current page: the console's items say which URL names are
theirs (Unfold's default prefix match lit "Provider cards", /admin/console/, on every console
page)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.console.test_errors import active_links

pytestmark = pytest.mark.django_db

CARDS = reverse("aiadmin_console:cards")



@pytest.mark.parametrize(
    ("page", "lit"),
    [
        ("aiadmin_console:cards", "aiadmin_console:cards"),
        ("aiadmin_console:usage", "aiadmin_console:usage"),
        ("aiadmin_console:chat", "aiadmin_console:chat"),
        ("aiadmin_console:content", "aiadmin_console:content"),
        ("aiadmin_console:image", "aiadmin_console:image"),
        ("aiadmin_console:audio", "aiadmin_console:audio"),
        ("admin:aiadmin_providers_aiprovider_changelist", "admin:aiadmin_providers_aiprovider_changelist"),
        ("admin:aiadmin_providers_adminprovidersettings_changelist", "admin:aiadmin_providers_adminprovidersettings_changelist"),
    ],
)
@pytest.mark.parametrize("who", ["superuser_client", "staff_client"])
def test_exactly_the_current_page_is_lit(request, who, page, lit):
    html = request.getfixturevalue(who).get(reverse(page)).content.decode()
    assert active_links(html) == [reverse(lit)]


def test_a_providers_keys_page_lights_the_provider_cards(staff_client, keyed):
    html = staff_client.get(reverse("aiadmin_console:keys", args=[keyed.slug])).content.decode()
    assert active_links(html) == [CARDS]
