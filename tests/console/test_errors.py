"""The console's 403, 404 and 500 pages (aiadmin.console.views.errors, wired as the standalone
project's handler403/404/500): in the console layout for staff, simple with a login link for
anyone else, a way back, a 403 that says who can do it, and a 500 that answers without the
database or the cache and shows no traceback."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse

import standalone.urls
from aiadmin.console.views import errors

pytestmark = pytest.mark.django_db

CARDS = "/admin/console/"


def active_links(html: str) -> list[str]:
    """The hrefs of the sidebar links Unfold marks active."""
    return re.findall(r'<a href="([^"]*)" class="[^"]*\bactive"', html)


def sidebar_in(html: str) -> bool:
    # Unfold's sidebar: the console's navigation with its "Provider cards" link.
    return "Provider cards" in html and f'href="{CARDS}"' in html and "nav-sidebar" in html


def test_the_standalone_project_wires_the_console_error_pages():
    assert standalone.urls.handler403 == "aiadmin.console.views.errors.permission_denied"
    assert standalone.urls.handler404 == "aiadmin.console.views.errors.page_not_found"
    assert standalone.urls.handler500 == "aiadmin.console.views.errors.server_error"


def test_staff_opening_the_provider_add_page_get_a_styled_403_that_says_who_can(staff_client):
    response = staff_client.get(reverse("admin:aiadmin_providers_aiprovider_add"))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="error-page"' in html and sidebar_in(html)
    assert "Only superadmins can add AI providers." in html
    assert re.search(rf'href="{CARDS}" data-testid="error-back"', html)


def test_staff_deleting_a_provider_hear_who_can(staff_client, make_provider):
    provider = make_provider()
    response = staff_client.get(reverse("admin:aiadmin_providers_aiprovider_delete", args=[provider.pk]))
    assert response.status_code == 403 and "Only superadmins can delete AI providers." in response.content.decode()


def test_a_console_refusal_carries_aiadmins_own_reason(staff_client, keyed):
    response = staff_client.post(reverse("aiadmin_console:test_connection", args=[keyed.slug]), {"key_source": "shared"})
    html = response.content.decode()
    assert response.status_code == 403 and sidebar_in(html)
    assert "Only superadmins test the shared key." in html


def test_the_shared_key_form_tells_staff_who_sets_it(staff_client, keyed):
    response = staff_client.post(reverse("aiadmin_console:shared_key", args=[keyed.slug]), {"shared_api_key": "sk-x-000000000000"})
    html = response.content.decode()
    assert response.status_code == 403 and sidebar_in(html)
    assert "Only superadmins can set the shared key and the sharing policy." in html


def test_a_refusal_raised_outside_aiadmin_gets_the_generic_sentence(rf_staff):
    # Someone else's message may say anything (names, ids): not shown.
    exception = _raised_here(PermissionDenied("internal: user 42 lacks perm x.y"))
    response = errors.permission_denied(rf_staff, exception)
    html = response.content.decode()
    assert response.status_code == 403 and errors.GENERIC_REFUSAL in html and "user 42" not in html


def _raised_here(exception):
    try:
        raise exception
    except PermissionDenied as caught:
        return caught


@pytest.fixture
def rf_staff(staff_user):
    request = RequestFactory().get("/somewhere/")
    request.user = staff_user
    request.session = {}
    return request


def test_an_unknown_provider_slug_is_a_styled_404_for_staff(staff_client):
    response = staff_client.get(reverse("aiadmin_console:keys", args=["no-such-provider"]))
    html = response.content.decode()
    assert response.status_code == 404 and sidebar_in(html)
    assert errors.NOT_FOUND in html and "No AIProvider matches" not in html
    assert 'data-testid="error-back"' in html


def test_an_unknown_console_url_is_a_styled_404_with_no_active_sidebar_item(staff_client):
    response = staff_client.get("/admin/console/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404 and sidebar_in(html) and errors.NOT_FOUND in html
    assert active_links(html) == []


def test_an_htmx_request_gets_the_message_alone(staff_client):
    response = staff_client.get(reverse("aiadmin_console:keys", args=["no-such-provider"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 404 and errors.NOT_FOUND in html
    assert "<html" not in html and "nav-sidebar" not in html


def test_an_unknown_url_elsewhere_is_the_same_404(staff_client):
    response = staff_client.get("/nowhere-at-all/")
    assert response.status_code == 404 and errors.NOT_FOUND in response.content.decode()


def test_console_urls_without_the_slash_still_redirect(staff_client):
    response = staff_client.get("/admin/console/usage")
    assert response.status_code == 301 and response["Location"] == "/admin/console/usage/"


def test_anonymous_visitors_of_an_unknown_console_url_are_sent_to_login(client):
    response = client.get("/admin/console/no/such/page/")
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_anonymous_visitors_get_a_simple_404_with_a_login_link(client):
    response = client.get("/nowhere-at-all/")
    html = response.content.decode()
    assert response.status_code == 404 and errors.NOT_FOUND in html
    assert "nav-sidebar" not in html and "Provider cards" not in html
    assert f'href="{reverse("admin:login")}" data-testid="error-back"' in html


def test_a_server_error_is_the_500_page_without_a_traceback(staff_client, monkeypatch, settings):
    from aiadmin.console.views import cards

    def boom(*args, **kwargs):
        raise RuntimeError("secret-sauce-token sk-should-never-show")

    monkeypatch.setattr(cards, "render", boom)
    staff_client.raise_request_exception = False
    response = staff_client.get(reverse("aiadmin_console:cards"))
    html = response.content.decode()
    assert response.status_code == 500 and errors.SERVER_ERROR in html
    assert 'data-testid="error-back"' in html
    assert "Traceback" not in html and "RuntimeError" not in html and "sk-should-never-show" not in html


def test_the_500_page_answers_with_the_database_and_cache_down(monkeypatch):
    from django.core.cache import cache
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.utils.functional import SimpleLazyObject

    def down(*args, **kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", down)
    monkeypatch.setattr(cache, "get", down)
    request = RequestFactory().get("/admin/console/")
    request.user = SimpleLazyObject(down)  # the session and user tables are unreachable too
    response = errors.server_error(request)
    html = response.content.decode()
    # The styled page (not the plain fallback): rendering it made no query and no cache call.
    assert response.status_code == 500 and errors.SERVER_ERROR in html and 'data-testid="error-page"' in html


def test_the_500_page_falls_back_to_plain_html_when_templates_fail(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("template directory gone")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    response = errors.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500 and errors.SERVER_ERROR in html and "template directory" not in html


def test_403_and_404_still_answer_when_the_sidebar_cannot_be_built(rf_staff, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(errors, "console_context", down)
    for response, words in ((errors.page_not_found(rf_staff), errors.NOT_FOUND), (errors.permission_denied(rf_staff), errors.GENERIC_REFUSAL)):
        assert words in response.content.decode() and "database is down" not in response.content.decode()
    assert errors.page_not_found(rf_staff).status_code == 404


def test_an_expired_form_gets_the_styled_403_saying_to_reload(staff_user, make_provider):
    from django.test import Client

    provider = make_provider(slug="keyed", adapter="openai", config={"auth": {"style": "bearer"}})
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(reverse("aiadmin_console:personal_key", args=[provider.slug]), {"personal_api_key": "sk-x-000000000000"})
    html = response.content.decode()
    assert response.status_code == 403 and sidebar_in(html)
    assert errors.CSRF_REFUSAL in html and "CSRF cookie" not in html


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_login(client, make_provider):
    provider = make_provider(slug="keyed", adapter="openai", config={"auth": {"style": "bearer"}})
    page = reverse("aiadmin_console:keys", args=[provider.slug])
    response = client.post(
        reverse("aiadmin_console:personal_key", args=[provider.slug]),
        {"personal_api_key": "sk-x-000000000000"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )
    # Not a 302 that htmx would follow and swap the login form into the panel.
    assert response.status_code == 200 and response["HX-Redirect"] == f"{reverse('admin:login')}?next={page}"
