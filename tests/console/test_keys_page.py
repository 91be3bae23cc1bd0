"""The keys page is one coherent page: its sentences speak of what is on it ("below", "above",
never "go to My provider settings"), staff see no option they cannot use (and a hand-made post
of one is refused), and a save updates the status line and the other panel out of band."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from aiadmin.providers.models import AdminProviderSettings, AIProvider

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONAL_KEY = "sk-staff-personal-0000000000wxyz"
SHARED_KEY = "sk-org-shared-00000000000000abcd"



def url(name: str, provider: AIProvider) -> str:
    return reverse(f"aiadmin_console:{name}", args=[provider.slug])


def element(html: str, element_id: str) -> str:
    """The opening tag and content of the element with this id (sections and paragraphs)."""
    match = re.search(rf'<(section|p) id="{element_id}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"#{element_id} missing"
    return unescape(match.group(0))


@pytest.mark.parametrize("who", ["staff_client", "superuser_client"])
@pytest.mark.parametrize(
    "setup",
    [
        {},
        {"shared_api_key": SHARED_KEY},
        {"shared_api_key": SHARED_KEY, "allow_shared_for_normal_admins": True},
        {"allow_personal_keys": False},
        {"allow_personal_keys": False, "shared_api_key": SHARED_KEY},
    ],
)
def test_the_page_never_sends_the_admin_elsewhere_for_what_is_on_it(request, who, setup, keyed):
    for name, value in setup.items():
        setattr(keyed, name, value)
    keyed.save()
    html = request.getfixturevalue(who).get(url("keys", keyed)).content.decode()
    decision = element(html, "personal-panel")
    assert "My provider settings" not in decision and "provider page" not in decision
    assert 'data-testid="keys-status"' in html


def test_staff_without_a_key_are_told_to_add_it_below(staff_client, keyed):
    html = staff_client.get(url("keys", keyed)).content.decode()
    assert "No key yet: add your personal key below, or ask a superadmin to set a shared key." in html
    assert "You cannot call Keyed AI yet" in element(html, "keys-status")


def test_the_use_shared_key_option_is_offered_only_where_it_can_work(staff_client, staff_user, keyed):
    assert 'name="use_shared_api"' not in staff_client.get(url("keys", keyed)).content.decode()  # no shared key
    keyed.shared_api_key = SHARED_KEY
    keyed.save()
    assert 'name="use_shared_api"' not in staff_client.get(url("keys", keyed)).content.decode()  # not shared with staff
    keyed.allow_shared_for_normal_admins = True
    keyed.save()
    assert 'name="use_shared_api"' in staff_client.get(url("keys", keyed)).content.decode()


def test_a_posted_use_shared_key_is_refused_where_it_is_not_offered(staff_client, staff_user, keyed):
    keyed.shared_api_key = SHARED_KEY  # set, but not shared with normal admins
    keyed.save()
    html = staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY, "use_shared_api": "on"}, **HTMX).content.decode()
    assert "does not share its key with you" in html
    assert not AdminProviderSettings.objects.filter(admin=staff_user).exists()


def test_no_personal_key_field_where_the_provider_takes_none(staff_client, keyed):
    keyed.allow_personal_keys = False
    keyed.save()
    html = staff_client.get(url("keys", keyed)).content.decode()
    assert 'name="personal_api_key"' not in html and 'data-testid="personal-save"' not in html
    assert "takes no personal keys: ask a superadmin to share the organisation" in html


def test_saving_a_personal_key_updates_the_status_line_out_of_band(staff_client, keyed):
    html = staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX).content.decode()
    panel = element(html, "personal-panel")
    assert "hx-swap-oob" not in panel.split(">", 1)[0] and 'data-testid="test-personal"' in panel
    assert "Calls use your personal key." in panel and "Not checked yet." in panel
    status = element(html, "keys-status")
    assert 'hx-swap-oob="true"' in status and "Calls to Keyed AI use your personal key." in status
    assert 'data-testid="shared-panel"' not in html  # staff never get the shared panel


def test_a_superusers_personal_save_refreshes_the_shared_panel_keeping_what_was_typed_there(superuser_client, keyed):
    html = superuser_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX).content.decode()
    shared = element(html, "shared-panel")
    assert 'hx-swap-oob="true"' in shared.split(">", 1)[0]
    for name in ("shared_api_key", "allow_shared_for_normal_admins", "allow_personal_keys"):
        assert re.search(rf'<input [^>]*name="{name}"[^>]*hx-preserve="true"', shared), name
    assert "hx-preserve" not in element(html, "personal-panel")  # the saved form starts empty


def test_saving_the_shared_key_updates_the_personal_panel_and_status(superuser_client, keyed):
    before = superuser_client.get(url("keys", keyed)).content.decode()
    assert 'name="use_shared_api"' not in element(before, "personal-panel")
    html = superuser_client.post(url("shared_key", keyed), {"shared_api_key": SHARED_KEY, "allow_personal_keys": "on"}, **HTMX).content.decode()
    personal = element(html, "personal-panel")
    assert 'hx-swap-oob="true"' in personal.split(">", 1)[0]
    assert "Calls use the organisation's shared key." in personal and 'name="use_shared_api"' in personal
    assert "Calls to Keyed AI use the organisation's shared key." in element(html, "keys-status")


def test_switching_personal_keys_off_removes_the_personal_key_field_out_of_band(superuser_client, keyed):
    html = superuser_client.post(url("shared_key", keyed), {"shared_api_key": SHARED_KEY}, **HTMX).content.decode()
    personal = element(html, "personal-panel")
    assert 'name="personal_api_key"' not in personal and "takes no personal keys" not in personal
    assert "Calls use the organisation's shared key." in personal


def test_a_new_key_forgets_the_check_of_the_old_one(staff_client, staff_user, keyed):
    AdminProviderSettings.objects.create(
        admin=staff_user, provider=keyed, personal_api_key="sk-old-key-00000000000",
        key_validated_at=timezone.now(), key_validation_ok=True, key_validation_message="fine",
    )
    html = staff_client.post(url("personal_key", keyed), {"personal_api_key": PERSONAL_KEY}, **HTMX).content.decode()
    assert "Not checked yet." in html and "Works" not in html
    row = AdminProviderSettings.objects.get(admin=staff_user)
    assert row.key_validated_at is None and row.key_validation_ok is None and row.key_validation_message == ""


def test_the_keys_forms_write_their_labels_without_a_colon_as_the_playgrounds_do(superuser_client, keyed):
    html = unescape(superuser_client.get(url("keys", keyed)).content.decode())
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", html)
    assert "Personal API key" in labels and "Shared API key" in labels
    assert not [label for label in labels if label.rstrip().endswith(":")]


def test_the_personal_panel_links_to_where_the_provider_hands_out_keys(staff_client, keyed):
    keyed.key_url = "https://keys.example.com/new"
    keyed.save()
    panel = element(staff_client.get(url("keys", keyed)).content.decode(), "personal-panel")
    assert 'href="https://keys.example.com/new"' in panel and "Get a key from Keyed AI" in panel

    keyed.allow_personal_keys = False  # no personal key field: no link to get one
    keyed.save()
    panel = element(staff_client.get(url("keys", keyed)).content.decode(), "personal-panel")
    assert "keys.example.com" not in panel
