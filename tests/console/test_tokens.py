"""The console's API tokens page: who sees and revokes which tokens, the token shown once and
never again, the form keeping what was typed, and a query count that does not grow with the
number of tokens. The services' own permission checks are tested here too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aiadmin.conf import aiadmin_time_zone
from aiadmin.providers.models import APIToken
from aiadmin.providers.tokens import (
    TOKEN_PATTERN,
    token_create,
    token_create_for,
    token_grant,
    token_hash,
    token_revoke_by,
    tokens_visible,
)
from tests.console.test_errors import active_links

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:tokens")
HTMX = {"HX-Request": "true"}
PLAINTEXT = re.compile(r"aia_[A-Za-z0-9]{10}_[A-Za-z0-9]{40}")


def revoke_url(token: APIToken) -> str:
    return reverse("aiadmin_console:token_revoke", args=[token.pk])


def make(admin, name="billing", **kwargs) -> APIToken:
    return token_create(admin=admin, name=name, **kwargs).token


def shown_tokens(html: str) -> list[str]:
    return re.findall(r'data-testid="token-row" data-prefix="([A-Za-z0-9]+)"', html)


# --------------------------------------------------------------------------- the list


def test_staff_see_only_their_own_tokens(staff_client, staff_user, other_staff_user, superuser):
    mine = make(staff_user, "mine")
    theirs = make(other_staff_user, "their-secret-name")
    roots = make(superuser, "roots")

    response = staff_client.get(URL, {"admin": other_staff_user.pk})  # asking for another's changes nothing

    assert response.status_code == 200
    html = response.content.decode()
    assert shown_tokens(html) == [mine.prefix]
    assert "their-secret-name" not in html and theirs.prefix not in html and roots.prefix not in html
    assert 'name="admin"' not in html  # no admin picker or filter for staff
    assert '<label for=""' not in html and "For admin" not in html


def test_a_superadmin_sees_everyones_tokens_grouped_by_admin_and_can_filter(superuser_client, superuser, staff_user, other_staff_user):
    make(staff_user, "s1")
    make(staff_user, "s2")
    make(other_staff_user, "o1")
    make(superuser, "r1")

    html = superuser_client.get(URL).content.decode()

    groups = re.findall(r'data-testid="token-group" data-admin="(\d+)">\s*<tr class="ai-token-group"><th[^>]*>(\w+)<', html)
    assert [name for _, name in groups] == ["other", "root", "staff"]
    assert len(shown_tokens(html)) == 4

    only = superuser_client.get(URL, {"admin": staff_user.pk}, headers=HTMX)
    fragment = only.content.decode()
    assert fragment.lstrip().startswith('<section id="token-list"')
    assert "<html" not in fragment
    assert len(shown_tokens(fragment)) == 2 and "o1" not in fragment


def test_the_list_shows_prefix_scope_expiry_last_use_maker_and_state(superuser_client, superuser, staff_user, make_provider):
    make_provider(slug="groq", name="Groq", display_name="Groq Cloud")
    scoped = token_create_for(
        actor=superuser, admin=staff_user, name="scoped", capabilities=["chat"], providers=["groq"],
        expires_at=timezone.now() + dt.timedelta(days=3),
    ).token
    everything = make(staff_user, "everything")
    APIToken.objects.filter(pk=everything.pk).update(last_used_at=timezone.now() - dt.timedelta(hours=2))
    expired = make(staff_user, "expired")
    APIToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    revoked = make(staff_user, "revoked")
    token_revoke_by(actor=staff_user, token=revoked)

    html = superuser_client.get(URL).content.decode()

    def row(token):
        return re.search(rf'<tr id="token-{token.pk}".*?</tr>', html, flags=re.S).group(0)

    scoped_row = row(scoped)
    assert f"aia_{scoped.prefix}_…" in scoped_row
    assert "chat" in scoped_row and "Groq Cloud" in scoped_row
    assert "by root" in scoped_row  # a superadmin made it for staff
    assert 'data-testid="token-last-used"><span class="ai-muted">never<' in scoped_row
    assert 'data-state="active"' in scoped_row
    everything_row = row(everything)
    assert "everything staff can use" in everything_row and "by root" not in everything_row
    assert re.search(r"2\xa0hours ago|2 hours ago", everything_row)
    assert 'data-state="expired"' in row(expired)
    assert 'data-state="revoked"' in row(revoked) and "token-revoke-confirm" not in row(revoked)


def test_the_page_never_shows_more_of_a_token_than_its_prefix_and_no_hash(staff_client, staff_user):
    issued = token_create(admin=staff_user, name="ci")

    html = staff_client.get(URL).content.decode()

    assert issued.plaintext not in html
    assert issued.plaintext.split("_")[2] not in html  # the secret part
    assert issued.token.hash not in html
    assert PLAINTEXT.search(html) is None
    assert f"aia_{issued.token.prefix}_…" in html


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_the_list_costs_the_same_queries_for_3_and_for_30_tokens(client, request, who, staff_user, other_staff_user, make_provider, django_assert_num_queries):
    user = request.getfixturevalue("superuser" if who == "superuser" else "staff_user")
    client.force_login(user)
    make_provider(slug="groq")

    def add(count: int) -> None:
        for n in range(count):
            admin = (staff_user, other_staff_user)[n % 2]
            token = token_create(admin=admin, name=f"t{n}", capabilities=["chat"] if n % 3 else [], providers=["groq"] if n % 2 else []).token
            if n % 4 == 0:
                APIToken.objects.filter(pk=token.pk).update(created_by=user, last_used_at=timezone.now())

    add(3)
    with CaptureQueriesContext(connection) as three:
        response = client.get(URL)
    assert response.status_code == 200

    add(27)
    with django_assert_num_queries(len(three)):
        response = client.get(URL)
    expected = 30 if who == "superuser" else 16  # staff: the even-numbered tokens of each batch
    assert len(shown_tokens(response.content.decode())) == expected


def test_the_sidebar_lights_api_tokens_on_the_page(staff_client):
    assert active_links(staff_client.get(URL).content.decode()) == [URL]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert client.post(URL, {"name": "x"}).status_code == 302
    assert APIToken.objects.count() == 0


# --------------------------------------------------------------------------- making a token


def test_a_new_token_is_shown_once_then_only_its_prefix(staff_client, staff_user):
    response = staff_client.post(URL, {"name": "billing service"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    [plaintext] = set(PLAINTEXT.findall(html))
    assert html.count(plaintext) == 1  # once in the panel (the curl hint reads it from a variable)
    token = APIToken.objects.get()
    assert (token.admin, token.created_by, token.name, token.scopes, token.expires_at) == (staff_user, staff_user, "billing service", {}, None)
    assert token.hash == token_hash(plaintext) and plaintext.split("_")[1] == token.prefix
    assert token_grant(plaintext=plaintext).admin == staff_user
    assert "Store it now: it is not shown again" in html
    assert 'data-copy-target="#token-plaintext"' in html
    assert "http://testserver/v1/chat/completions" in html and "Authorization: Bearer $AIADMIN_API_TOKEN" in html
    assert 'hx-history="false"' in html
    assert 'id="token-list"' in html and 'hx-swap-oob="true"' in html  # the list, with it, out of band

    # Nowhere afterwards: not the page, not the session, not a message.
    again = staff_client.get(URL)
    assert plaintext not in again.content.decode() and PLAINTEXT.search(again.content.decode()) is None
    assert f"aia_{token.prefix}_…" in again.content.decode()
    session = staff_client.session
    assert all(plaintext not in str(value) for value in session.values())
    assert all(plaintext not in str(message) for message in get_messages(again.wsgi_request))
    assert plaintext not in str(LogEntry.objects.values_list("change_message", flat=True))


def test_without_javascript_the_post_answers_with_the_whole_page_and_the_token(staff_client):
    response = staff_client.post(URL, {"name": "cron"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and len(set(PLAINTEXT.findall(html))) == 1
    assert "Location" not in response  # no redirect that would carry it anywhere


def test_scopes_and_expiry_in_days_are_stored(staff_client, make_provider):
    make_provider(slug="groq")
    make_provider(slug="openai")
    before = timezone.now()

    response = staff_client.post(URL, {"name": "n", "expires_days": "7", "capabilities": ["chat", "image"], "providers": ["groq"]}, headers=HTMX)

    assert response.status_code == 200 and PLAINTEXT.search(response.content.decode())
    token = APIToken.objects.get()
    assert token.scopes == {"capabilities": ["chat", "image"], "providers": ["groq"]}
    assert before + dt.timedelta(days=7) <= token.expires_at <= timezone.now() + dt.timedelta(days=7)


def test_an_expiry_date_means_valid_through_that_day(staff_client):
    last_day = timezone.localdate(timezone=aiadmin_time_zone()) + dt.timedelta(days=10)

    staff_client.post(URL, {"name": "n", "expires_on": last_day.isoformat()}, headers=HTMX)

    expires_at = APIToken.objects.get().expires_at.astimezone(aiadmin_time_zone())
    assert (expires_at.date(), expires_at.time()) == (last_day + dt.timedelta(days=1), dt.time.min)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "  "}, "Give the token a name"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"name": "n", "expires_days": "0"}, "between 1 and 3650"),
        ({"name": "n", "expires_days": "soon"}, "between 1 and 3650"),
        ({"name": "n", "expires_days": "3", "expires_on": "2999-01-01"}, "not both"),
        ({"name": "n", "expires_on": "2001-01-01"}, "in the past"),
        ({"name": "n", "expires_on": "31/12/2030"}, "a date like"),
        ({"name": "n", "capabilities": ["chat", "telepathy"]}, "Choose capabilities from the list"),
        ({"name": "n", "providers": ["<script>"]}, "Choose providers from the list"),
    ],
)
def test_a_form_error_keeps_what_was_typed_and_makes_no_token(staff_client, make_provider, data, message):
    make_provider(slug="groq")
    data = {"capabilities": ["audio"], "providers": ["groq"], **data}

    response = staff_client.post(URL, data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="token-create"')
    assert message in html
    assert APIToken.objects.count() == 0 and PLAINTEXT.search(html) is None
    if data["name"].strip() and len(data["name"]) <= 100:
        assert f'value="{data["name"]}"' in html
    if "telepathy" not in data["capabilities"]:
        assert re.search(r'<input type="checkbox" name="capabilities" value="audio"[^>]*checked', html)
    if data["providers"] == ["groq"]:
        assert re.search(r'<option value="groq" selected>', html)
    # Without HTMX: the whole page, a 400.
    assert staff_client.post(URL, data).status_code == 400


def test_the_service_refusal_is_shown_on_the_form(staff_client, staff_user, monkeypatch):
    monkeypatch.setattr("aiadmin.providers.tokens.MAX_TOKENS_PER_ADMIN", 1)
    make(staff_user, "first")

    response = staff_client.post(URL, {"name": "second"}, headers=HTMX)

    html = response.content.decode()
    assert "already has 1 tokens: revoke one first" in html and 'value="second"' in html
    assert APIToken.objects.count() == 1


def test_staff_cannot_make_a_token_for_someone_else(staff_client, staff_user, other_staff_user):
    response = staff_client.post(URL, {"name": "sneaky", "admin": other_staff_user.pk}, headers=HTMX)

    # The posted admin is ignored: staff have no such field and get a token of their own.
    assert response.status_code == 200
    assert list(APIToken.objects.values_list("admin", flat=True)) == [staff_user.pk]
    with pytest.raises(PermissionDenied):
        token_create_for(actor=staff_user, admin=other_staff_user, name="sneaky")
    assert APIToken.objects.filter(admin=other_staff_user).count() == 0


def test_a_superadmin_makes_a_token_for_a_staff_admin(superuser_client, superuser, staff_user):
    response = superuser_client.post(URL, {"name": "their app", "admin": staff_user.pk}, headers=HTMX)

    html = response.content.decode()
    token = APIToken.objects.get()
    assert (token.admin, token.created_by) == (staff_user, superuser)
    assert "for staff" in html and PLAINTEXT.search(html)
    entry = LogEntry.objects.get(object_id=str(token.pk))
    assert entry.user == superuser and f"aia_{token.prefix}_…" in entry.change_message and "for staff" in entry.change_message


def test_a_superadmin_cannot_make_a_token_for_a_non_staff_user(superuser_client, django_user_model):
    customer = django_user_model.objects.create_user("customer", is_staff=False)

    response = superuser_client.post(URL, {"name": "x", "admin": customer.pk}, headers=HTMX)

    assert "Choose an admin from the list" in response.content.decode()
    assert APIToken.objects.count() == 0


# --------------------------------------------------------------------------- revoking


def test_staff_revoke_their_own_token(staff_client, staff_user):
    token = make(staff_user)

    response = staff_client.post(revoke_url(token), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="token-{token.pk}"') and 'data-state="revoked"' in html
    token.refresh_from_db()
    assert token.state() == "revoked"
    assert LogEntry.objects.filter(object_id=str(token.pk), user=staff_user, change_message__startswith="Revoked").exists()


def test_a_plain_revoke_post_redirects_back_to_the_page(staff_client, staff_user):
    token = make(staff_user)

    response = staff_client.post(revoke_url(token))

    assert response.status_code == 302 and response.url == URL
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_staff_cannot_revoke_another_admins_token(staff_client, staff_user, other_staff_user, superuser):
    theirs = make(other_staff_user)
    roots = make(superuser)

    for token in (theirs, roots):
        assert staff_client.post(revoke_url(token), headers=HTMX).status_code == 404
        assert staff_client.post(revoke_url(token)).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
    # And the service refuses it whichever view asks.
    with pytest.raises(PermissionDenied):
        token_revoke_by(actor=staff_user, token=theirs)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_superadmin_revokes_anyones_token(superuser_client, staff_user):
    token = make(staff_user)

    assert superuser_client.post(revoke_url(token), headers=HTMX).status_code == 200

    token.refresh_from_db()
    assert token.state() == "revoked"


def test_revoke_needs_post_and_the_csrf_token(client, staff_user):
    token = make(staff_user)
    checked = client.__class__(enforce_csrf_checks=True)
    checked.force_login(staff_user)

    assert checked.get(revoke_url(token)).status_code == 405
    assert checked.post(revoke_url(token)).status_code == 403  # no CSRF token
    assert checked.post(URL, {"name": "x"}).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None and APIToken.objects.count() == 1


def test_revoking_twice_is_harmless_and_unknown_ids_are_404(staff_client, staff_user):
    token = make(staff_user)
    staff_client.post(revoke_url(token))
    first = APIToken.objects.get().revoked_at

    assert staff_client.post(revoke_url(token)).status_code == 302
    assert APIToken.objects.get().revoked_at == first
    assert staff_client.post(reverse("aiadmin_console:token_revoke", args=[999_999])).status_code == 404


def test_the_services_refuse_inactive_or_non_staff_actors(staff_user, django_user_model):
    token = make(staff_user)
    customer = django_user_model.objects.create_user("customer")
    staff_user.is_active = False

    assert list(tokens_visible(actor=customer)) == []
    assert list(tokens_visible(actor=staff_user)) == []
    with pytest.raises(PermissionDenied):
        token_revoke_by(actor=customer, token=token)
    with pytest.raises(PermissionDenied):
        token_create_for(actor=staff_user, admin=staff_user, name="x")


def test_tokens_visible_scopes_staff_whatever_they_ask(staff_user, other_staff_user, superuser):
    mine, theirs = make(staff_user), make(other_staff_user)

    assert list(tokens_visible(actor=staff_user, admin_id=other_staff_user.pk)) == [mine]
    assert set(tokens_visible(actor=superuser)) == {mine, theirs}
    assert list(tokens_visible(actor=superuser, admin_id=other_staff_user.pk)) == [theirs]


def test_a_made_token_matches_the_public_pattern(staff_user):
    issued = token_create_for(actor=staff_user, admin=staff_user, name="x")
    assert TOKEN_PATTERN.match(issued.plaintext)


# --------------------------------------------------------------------------- the Django admin
# (APIToken's ModelAdmin lives in aiadmin/providers/admin.py; tested beside the page that makes
# the tokens.)

ADMIN_LIST = reverse("admin:aiadmin_providers_apitoken_changelist")


def test_superadmins_see_tokens_read_only_in_the_admin_without_the_hash(superuser_client, staff_user):
    issued = token_create(admin=staff_user, name="admin-listed")
    token_revoke_by(actor=staff_user, token=make(staff_user, "gone"))

    listing = superuser_client.get(ADMIN_LIST)
    change = superuser_client.get(reverse("admin:aiadmin_providers_apitoken_change", args=[issued.token.pk]))

    assert listing.status_code == 200 and change.status_code == 200
    for html in (listing.content.decode(), change.content.decode()):
        assert "admin-listed" in html and f"aia_{issued.token.prefix}_…" in html
        assert issued.token.hash not in html and issued.plaintext not in html
    assert "revoked" in listing.content.decode()
    assert 'name="name"' not in change.content.decode()  # read-only: no input
    assert superuser_client.get(reverse("admin:aiadmin_providers_apitoken_add")).status_code == 403
    assert superuser_client.post(reverse("admin:aiadmin_providers_apitoken_change", args=[issued.token.pk]), {"name": "renamed"}).status_code == 403
    assert superuser_client.post(reverse("admin:aiadmin_providers_apitoken_delete", args=[issued.token.pk]), {"post": "yes"}).status_code == 403
    assert APIToken.objects.get(pk=issued.token.pk).name == "admin-listed"


def test_staff_get_no_token_admin(staff_client, staff_user):
    token = make(staff_user)

    assert staff_client.get(ADMIN_LIST).status_code == 403
    assert staff_client.get(reverse("admin:aiadmin_providers_apitoken_change", args=[token.pk])).status_code == 403


def test_the_usage_log_names_the_token_a_call_came_through(superuser_client, staff_user, make_provider):
    from aiadmin.providers.models import AIRequestLog

    provider = make_provider()
    token = make(staff_user, "via-token")
    AIRequestLog.objects.create(admin=staff_user, provider=provider, provider_slug=provider.slug, capability="chat", api_token=token)
    AIRequestLog.objects.create(admin=staff_user, provider=provider, provider_slug=provider.slug, capability="chat")

    html = superuser_client.get(reverse("admin:aiadmin_providers_airequestlog_changelist")).content.decode()

    assert f"via-token (aia_{token.prefix}_…)" in html and "console / host code" in html
    assert token.hash not in html


@pytest.mark.parametrize(
    ("ago", "shown"),
    [(None, "never"), (dt.timedelta(seconds=20), "just now"), (dt.timedelta(minutes=5), "5\xa0minutes ago"), (dt.timedelta(days=3, hours=2), "3\xa0days ago")],
)
def test_last_used_reads_as_a_relative_time(staff_client, staff_user, ago, shown):
    token = make(staff_user)
    if ago is not None:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - ago)

    html = staff_client.get(URL).content.decode()

    cell = re.search(r'data-testid="token-last-used">(.*?)</td>', html, flags=re.S).group(1)
    assert re.sub(r"<[^>]+>", "", cell).strip() == shown


def test_hostile_ids_are_a_clean_answer_never_a_500(superuser_client, staff_user):
    token = make(staff_user)
    huge = "9" * 30

    assert superuser_client.get(URL, {"admin": huge}).status_code == 200
    assert superuser_client.get(URL, {"admin": "-1"}).status_code == 200
    assert superuser_client.post(f"{URL}{huge}/revoke/").status_code == 404
    response = superuser_client.post(URL, {"name": "x", "admin": huge}, headers=HTMX)
    assert "Choose an admin from the list" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None and APIToken.objects.count() == 1


def test_the_page_and_the_new_token_panel_need_no_inline_script(staff_client):
    """The Copy button works from a static file: the policy forbids inline script."""
    response = staff_client.post(URL, {"name": "csp"})
    html = response.content.decode()

    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'data-testid="token-copy"' in html
    scripts = re.findall(r"<script\b([^>]*)>", html, flags=re.IGNORECASE)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert '/static/aiadmin/tokens.js"' in html
    body = html.split('data-testid="tokens-page"', 1)[1]
    assert re.search(r"\son[a-z]+\s*=", body) is None and "javascript:" not in body
