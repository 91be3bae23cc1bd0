"""The provider cards page."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from aiadmin.console.models import ConsolePreference
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:cards")
LAYOUT_URL = reverse("aiadmin_console:cards_layout")


def strip_titles(html: str) -> str:
    """The page without its tooltips: what an admin reads at a glance."""
    return re.sub(r'title="[^"]*"', "", html)


def group(html: str, name: str) -> str:
    found = re.search(rf'data-testid="group-{name}"(.*?)(?=data-testid="group-(?:ready|setup)"|\Z)', html, re.S)
    return found.group(1) if found else ""


def card(html: str, slug: str) -> str:
    return re.search(rf'<article[^>]*data-testid="card-{slug}".*?</article>', html, re.S).group(0)


def slugs_in(html: str) -> list[str]:
    return re.findall(r'data-testid="card-([^"]+)"', html)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_the_whole_catalogue_renders_as_cards(superuser_client):
    call_command("import_providers", verbosity=0)
    html = superuser_client.get(URL).content.decode()
    for provider in AIProvider.objects.all():
        assert f'data-testid="card-{provider.slug}"' in html
    assert html.count('<article class="ai-card') == AIProvider.objects.count() >= 50
    # a catalogue provider with no key is a compact tile with one short reason, not a paragraph
    assert "No key for" not in strip_titles(html)


def test_card_shows_status_access_state_and_active_models(staff_client, staff_user, make_provider):
    provider = make_provider(name="Acme AI", adapter="sandbox", capabilities={"chat": {"supported": True}, "image": {"supported": True}})
    AIModel.objects.create(provider=provider, capability="chat", model_id="acme-large", display_name="Acme Large", is_active=True)
    provider.total_requests = 7
    provider.save()
    html = staff_client.get(URL).content.decode()
    assert "Acme AI" in html and "AA" in html  # name and initials
    assert "Acme Large" in html and "no model selected" in html
    assert "organisation: 7 requests" in html and "never used" in html
    assert 'data-testid="access-provider-1">no key needed</span>' in html  # sandbox: no key


def test_card_tells_which_key_a_call_would_use(staff_client, staff_user, make_provider):
    provider = make_provider(adapter="openai", name="Keyed AI")
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key="sk-personal-000000000001")
    html = staff_client.get(URL).content.decode()
    assert f'data-testid="access-{provider.slug}">personal key</span>' in html
    assert 'title="Calls use your personal key."' in html
    assert "sk-personal" not in html and "0001" not in html


def test_missing_adapter_is_shown_not_a_crash(superuser_client, make_provider):
    make_provider(adapter="not-installed", name="Ghost")
    response = superuser_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="reason-provider-1">Adapter missing</span>' in html
    assert "The adapter “not-installed” is not installed." in html


def test_filter_by_capability_and_search_by_name(superuser_client, make_provider):
    make_provider(name="Painter", slug="painter", capabilities={"image": {"supported": True}})
    make_provider(name="Talker", slug="talker", capabilities={"chat": {"supported": True}})
    html = superuser_client.get(URL, {"capability": "image"}).content.decode()
    assert "card-painter" in html and "card-talker" not in html
    html = superuser_client.get(URL, {"q": "talk"}).content.decode()
    assert "card-talker" in html and "card-painter" not in html


def test_htmx_request_gets_only_the_grid(superuser_client, make_provider):
    make_provider(name="Talker")
    response = superuser_client.get(URL, {"q": "talk"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="provider-grid"') and "<html" not in html


@pytest.mark.parametrize("count", [10, 100])
def test_query_count_is_the_same_for_10_and_100_providers(superuser_client, staff_user, make_provider, django_assert_max_num_queries, count):
    for _ in range(count):
        provider = make_provider(capabilities={"chat": {"supported": True}, "image": {"supported": True}})
        AIModel.objects.create(provider=provider, capability="chat", model_id="m", is_active=True)
        AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    superuser_client.force_login(staff_user)
    with django_assert_max_num_queries(8):
        response = superuser_client.get(URL)
    assert response.content.decode().count('<article class="ai-card') == count


def test_model_names_from_the_database_render_inert(superuser_client, make_provider):
    provider = make_provider(name="<script>alert(1)</script>", capabilities={"chat": {"supported": True}})
    AIModel.objects.create(provider=provider, capability="chat", model_id="x", display_name='<img src=x onerror=alert(1)>', is_active=True)
    html = superuser_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html


# --- grouping: what the admin can use first, then what needs a key or setup ----------------


def test_usable_providers_come_first_whatever_their_sort_order(staff_client, make_provider):
    make_provider(slug="needs-key-a", name="Needs key A", adapter="openai", sort_order=1)
    make_provider(slug="needs-key-b", name="Needs key B", adapter="openai", sort_order=2)
    make_provider(slug="usable-late", name="Usable late", adapter="sandbox", sort_order=99)
    make_provider(slug="usable-early", name="Usable early", adapter="sandbox", sort_order=5)
    html = staff_client.get(URL).content.decode()
    assert slugs_in(html) == ["usable-early", "usable-late", "needs-key-a", "needs-key-b"]
    assert 'data-testid="group-ready-title">Ready to use (2)</h2>' in html
    assert 'data-testid="group-setup-title">Needs a key or setup (2)</h2>' in html
    assert slugs_in(group(html, "ready")) == ["usable-early", "usable-late"]
    # the second group is compact tiles: no capability rows, no browse buttons
    setup = group(html, "setup")
    assert setup.count('class="ai-card ai-card--compact') == 2 and "ai-cap-row" not in setup


def test_no_usable_provider_still_shows_the_ready_group_with_a_hint(staff_client, make_provider):
    make_provider(slug="locked", adapter="openai")
    html = staff_client.get(URL).content.decode()
    assert "Ready to use (0)" in html and "add a key to one of the providers below" in html
    assert "Needs a key or setup (1)" in html


def test_filter_and_search_apply_to_both_groups_and_their_counts(staff_client, make_provider):
    make_provider(slug="paint-ready", name="Paint ready", capabilities={"image": {"supported": True}})
    make_provider(slug="paint-locked", name="Paint locked", adapter="openai", capabilities={"image": {"supported": True}})
    make_provider(slug="talk-ready", name="Talk ready", capabilities={"chat": {"supported": True}})
    make_provider(slug="talk-locked", name="Talk locked", adapter="openai", capabilities={"chat": {"supported": True}})
    html = staff_client.get(URL, {"capability": "image"}, HTTP_HX_REQUEST="true").content.decode()
    assert slugs_in(html) == ["paint-ready", "paint-locked"]
    assert "Ready to use (1)" in html and "Needs a key or setup (1)" in html
    html = staff_client.get(URL, {"q": "talk"}, HTTP_HX_REQUEST="true").content.decode()
    assert slugs_in(html) == ["talk-ready", "talk-locked"]
    assert html.lstrip().startswith('<div id="provider-grid"')


def test_no_match_says_so(staff_client, make_provider):
    make_provider(name="Talker")
    html = staff_client.get(URL, {"q": "nothing-like-it"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No provider matches." in html and "Ready to use" not in html


@pytest.mark.parametrize(
    ("admin", "provider", "settings", "reason"),
    [
        ("staff", {"allow_personal_keys": True, "shared_api_key": "sk-shared-0000000000000000"}, None, "Sharing off: add your own key"),
        ("staff", {"allow_personal_keys": True}, None, "Needs a key"),
        ("superuser", {"allow_personal_keys": True}, None, "Needs a key"),
        ("superuser", {"allow_personal_keys": False}, None, "Needs a shared key"),
        ("staff", {"allow_personal_keys": False}, None, "Needs a shared key"),
        ("staff", {"allow_personal_keys": False, "shared_api_key": "sk-shared-0000000000000000"}, None, "Sharing off: ask a superadmin"),
        ("staff", {"is_active": False, "adapter": "sandbox"}, None, "Inactive"),
        ("staff", {"adapter": "sandbox"}, {"is_active": False}, "Your settings are off"),
        ("staff", {"adapter": "not-installed"}, None, "Adapter missing"),
        ("staff", {"config": {"auth": "oops"}}, None, "Broken settings"),
    ],
)
def test_each_provider_that_needs_setup_gets_one_short_reason(client, superuser, staff_user, make_provider, admin, provider, settings, reason):
    user = superuser if admin == "superuser" else staff_user
    values = {"slug": "target", "adapter": "openai", **provider}
    row = make_provider(**values)
    if settings is not None:
        AdminProviderSettings.objects.create(admin=user, provider=row, **settings)
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert f'data-testid="reason-target">{reason}</span>' in html
    assert slugs_in(group(html, "setup")) == ["target"]
    assert len(reason) <= 30  # a label, not a paragraph; the full sentence is the tooltip


def test_the_full_reason_stays_available_as_a_tooltip(staff_client, make_provider):
    make_provider(slug="target", name="Target AI", adapter="openai")
    html = staff_client.get(URL).content.decode()
    tile = card(html, "target")
    assert "No key for Target AI" in tile and "No key for" not in strip_titles(tile)


# --- badges never contradict each other ------------------------------------------------------


def test_a_keyless_provider_shows_no_key_badge(superuser_client, make_provider):
    make_provider(slug="sandboxed", adapter="sandbox")
    make_provider(slug="local", adapter="openai", api_base_url="http://localhost:11434/v1", config={"auth": {"style": "none"}, "allow_private_network": True})
    html = superuser_client.get(URL).content.decode()
    assert slugs_in(group(html, "ready")) == ["sandboxed", "local"]
    for slug in ("sandboxed", "local"):
        shown = card(html, slug)
        assert "shared key" not in strip_titles(shown) and "personal key" not in strip_titles(shown)
        assert f'data-testid="access-{slug}">no key needed</span>' in shown


def test_a_keyed_provider_shows_whose_key_is_used(superuser_client, make_provider):
    make_provider(slug="keyed", adapter="openai", shared_api_key="sk-shared-0000000000000000")
    html = superuser_client.get(URL).content.decode()
    assert 'data-testid="access-keyed">shared key</span>' in html


def test_active_is_not_repeated_and_inactive_is_said_once(superuser_client, make_provider):
    make_provider(slug="on", adapter="sandbox")
    make_provider(slug="off", adapter="sandbox", is_active=False)
    html = strip_titles(superuser_client.get(URL).content.decode())
    assert ">active<" not in html
    off = card(html, "off")
    assert off.count("Inactive") == 1 and "ai-card--inactive" in off


# --- whose counts ----------------------------------------------------------------------------


def test_cards_say_which_counts_are_the_organisations_and_which_the_admins_own(staff_client, staff_user, make_provider):
    provider = make_provider(slug="counted", total_requests=12)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, total_requests=3)
    make_provider(slug="unused", total_requests=1)
    html = staff_client.get(URL).content.decode()
    assert 'data-testid="org-requests-counted">organisation: 12 requests</span>' in html
    assert 'data-testid="own-requests-counted">you: 3 requests</span>' in html
    assert 'data-testid="org-requests-unused">organisation: 1 request</span>' in html
    assert 'data-testid="own-requests-unused"' not in html  # no settings row: nothing of the admin's own


# --- the table layout, remembered per admin ---------------------------------------------------


def test_the_layout_defaults_to_cards(staff_client, make_provider):
    make_provider()
    html = staff_client.get(URL).content.decode()
    assert 'data-layout="cards"' in html and 'data-testid="layout-cards" aria-pressed="true"' not in html
    assert 'value="cards" class="ai-segmented__option" aria-pressed="true"' in html


def test_choosing_the_table_is_stored_for_the_admin_and_renders_one_row_per_provider(staff_client, staff_user, make_provider):
    make_provider(slug="ready-one", adapter="sandbox", total_requests=4)
    make_provider(slug="locked-one", adapter="openai")
    response = staff_client.post(LAYOUT_URL, {"layout": "table"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="provider-grid"') and 'data-layout="table"' in html
    assert 'id="layout-toggle"' in html and 'hx-swap-oob="true"' in html  # the toggle follows
    assert ConsolePreference.objects.get(admin=staff_user).cards_layout == "table"

    page = staff_client.get(URL).content.decode()  # a fresh page (any worker, any device)
    assert 'data-testid="provider-table"' in page and "<article" not in page
    assert page.count('<tr class="ai-provider-row') == 2
    assert slugs_in(page) == ["ready-one", "locked-one"]
    assert "Ready to use (1)" in page and "Needs a key or setup (1)" in page
    assert "Requests (organisation)" in page and 'data-testid="org-requests-ready-one">4</span>' in page
    assert 'data-testid="reason-locked-one">Needs a key</span>' in page
    assert 'data-testid="browse-ready-one-chat"' in page  # the table browses and selects too


def test_the_layout_is_per_admin(client, staff_user, other_staff_user, make_provider):
    make_provider()
    client.force_login(staff_user)
    client.post(LAYOUT_URL, {"layout": "table"})
    client.force_login(other_staff_user)
    assert 'data-layout="cards"' in client.get(URL).content.decode()


def test_an_admin_sets_only_their_own_layout(staff_client, staff_user, other_staff_user, make_provider):
    from tests.db_snapshot import snapshot

    make_provider()
    ConsolePreference.objects.create(admin=other_staff_user, cards_layout="cards")
    before = snapshot()
    for name in ("admin", "admin_id", "user", "user_id", "pk", "is_superuser"):
        response = staff_client.post(LAYOUT_URL, {"layout": "table", name: other_staff_user.pk}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    assert snapshot() == before  # nothing but the poster's own preference row
    assert ConsolePreference.objects.get(admin=other_staff_user).cards_layout == "cards"
    assert ConsolePreference.objects.get(admin=staff_user).cards_layout == "table"
    assert ConsolePreference.objects.count() == 2


@pytest.mark.parametrize("value", ["", "grid", "TABLE", "table ", "x" * 500, "<script>"])
def test_a_bad_layout_is_a_400_and_changes_nothing(staff_client, staff_user, value):
    response = staff_client.post(LAYOUT_URL, {"layout": value}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert response.content.decode() == "Unknown layout: choose one of cards, table."  # the value is not echoed
    assert not ConsolePreference.objects.filter(admin=staff_user).exists()


def test_the_layout_needs_a_post_with_csrf_and_a_staff_login(client, staff_user):
    from django.test import Client

    assert client.post(LAYOUT_URL, {"layout": "table"}).status_code == 302  # anonymous: to the login
    client.force_login(staff_user)
    assert client.get(LAYOUT_URL).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    assert strict.post(LAYOUT_URL, {"layout": "table"}).status_code == 403
    assert not ConsolePreference.objects.exists()


def test_without_htmx_the_toggle_redirects_back_with_the_filters(staff_client):
    response = staff_client.post(LAYOUT_URL, {"layout": "table", "q": "open ai", "capability": "image"})
    assert response.status_code == 303 and response["Location"] == f"{URL}?q=open+ai&capability=image"


@pytest.mark.parametrize("layout", ["cards", "table"])
def test_query_count_is_constant_in_either_layout_with_both_groups(client, staff_user, make_provider, django_assert_num_queries, layout):
    counts = []
    client.force_login(staff_user)
    ConsolePreference.objects.create(admin=staff_user, cards_layout=layout)
    for total in (10, 60):
        while AIProvider.objects.count() < total:
            number = AIProvider.objects.count()
            provider = make_provider(adapter="sandbox" if number % 3 else "openai", capabilities={"chat": {"supported": True}, "image": {"supported": True}})
            AIModel.objects.create(provider=provider, capability="chat", model_id="m", is_active=True)
            AdminProviderSettings.objects.create(admin=staff_user, provider=provider, total_requests=number)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            html = client.get(URL).content.decode()
        counts.append(len(captured))
        assert len(slugs_in(html)) == total and f'data-layout="{layout}"' in html
    assert counts[0] == counts[1] <= 8, counts
