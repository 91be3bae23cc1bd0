"""Never a dead end, in the browser: styled 403 and 404 pages inside the console layout with a
way back, a keys page whose panels all follow a save without a reload, and a sidebar that
lights exactly the current page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import USERS, login

CONSOLE = "/admin/console"
# A catalogue provider nobody has a key for: this module's saves stay with it (and are undone).
KEYLESS_FOR_STAFF = "friendliai"


def script_errors(page: Page, status: int) -> list[str]:
    """The page's console errors, less the notes of the expected error status (the browser's
    for the document, htmx's for a request)."""
    notes = (f"the server responded with a status of {status}", f"Response Status Error Code {status}")
    return [error for error in page.console_errors if not any(note in error for note in notes)]


def mark_page(page: Page) -> None:
    """A flag in the window: it survives HTMX swaps and is gone after any reload."""
    page.evaluate("window.__deadEndsMark = 'still here'")


def page_was_not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__deadEndsMark") == "still here"


def test_staff_opening_the_provider_add_page_get_a_styled_403_with_a_way_back(page, console_server):
    login(page, console_server, "staff")
    response = page.goto(f"{console_server}/admin/aiadmin_providers/aiprovider/add/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("error-page")).to_be_visible()
    expect(page.get_by_test_id("error-sentence")).to_have_text("Only superadmins can add AI providers.")
    expect(page.locator("#nav-sidebar").get_by_role("link", name="Provider cards")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("403 Forbidden")
    page.get_by_test_id("error-back").click()
    expect(page).to_have_url(f"{console_server}{CONSOLE}/")
    assert not script_errors(page, 403)


def test_an_unknown_console_url_is_a_styled_404(page, console_server):
    login(page, console_server, "staff")
    response = page.goto(f"{console_server}{CONSOLE}/no/such/page/")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-title")).to_have_text("Page not found")
    expect(page.locator("#nav-sidebar").get_by_role("link", name="Provider cards")).to_be_visible()
    expect(page.locator("#nav-sidebar a.active")).to_have_count(0)
    expect(page.get_by_test_id("error-back")).to_have_attribute("href", f"{CONSOLE}/")
    assert not script_errors(page, 404)


def test_saving_a_personal_key_updates_the_whole_keys_page_without_a_reload(page, console_server):
    login(page, console_server, "staff")
    page.goto(f"{console_server}{CONSOLE}/providers/{KEYLESS_FOR_STAFF}/keys/")
    decision, status = page.get_by_test_id("key-decision"), page.get_by_test_id("keys-status")
    expect(decision).to_contain_text("add your personal key below")
    expect(decision).not_to_contain_text("My provider settings")
    expect(status).to_contain_text("yet")
    expect(page.get_by_test_id("test-personal")).to_have_count(0)
    mark_page(page)

    page.locator("#id_personal_api_key").fill("sk-e2e-dead-ends-00000000wxyz")
    page.get_by_test_id("personal-save").click()
    expect(page.get_by_test_id("personal-saved")).to_be_visible()
    expect(decision).to_have_text("Calls use your personal key.")
    expect(status).to_contain_text("use your personal key")
    expect(page.get_by_test_id("test-personal")).to_be_visible()
    expect(page.get_by_test_id("personal-panel").get_by_test_id("test-result")).to_have_text("Not checked yet.")
    expect(page.locator("#id_personal_api_key")).to_have_value("")  # the saved form starts empty
    assert page_was_not_reloaded(page)

    # Undo (clearing is explicit), which the page follows just as well.
    page.locator("#id_clear_personal_api_key").check()
    page.get_by_test_id("personal-save").click()
    expect(decision).to_contain_text("add your personal key below")
    expect(page.get_by_test_id("test-personal")).to_have_count(0)
    assert page_was_not_reloaded(page)
    assert not page.console_errors


def test_saving_the_shared_key_updates_the_personal_panel_keeping_what_was_typed(page, console_server):
    login(page, console_server, "admin")
    page.goto(f"{console_server}{CONSOLE}/providers/{KEYLESS_FOR_STAFF}/keys/")
    personal = page.get_by_test_id("personal-panel")
    expect(personal.locator("[name=use_shared_api]")).to_have_count(0)
    mark_page(page)
    page.locator("#id_personal_api_key").fill("typed-but-not-saved")

    page.locator("#id_shared_api_key").fill("sk-e2e-shared-000000000abcd")
    page.get_by_test_id("shared-save").click()
    expect(page.get_by_test_id("shared-saved")).to_be_visible()
    expect(page.get_by_test_id("key-decision")).to_contain_text("Calls use the organisation's shared key.")
    expect(page.get_by_test_id("keys-status")).to_contain_text("shared key")
    expect(personal.locator("[name=use_shared_api]")).to_have_count(1)  # now it can work
    expect(page.locator("#id_personal_api_key")).to_have_value("typed-but-not-saved")
    assert page_was_not_reloaded(page)

    page.locator("#id_clear_shared_api_key").check()
    page.get_by_test_id("shared-save").click()
    expect(personal.locator("[name=use_shared_api]")).to_have_count(0)
    expect(page.get_by_test_id("key-decision")).to_contain_text("No key yet")
    assert page_was_not_reloaded(page)
    assert not page.console_errors


# Each console page and the sidebar link that must be the only one lit there.
CONSOLE_PAGES = {
    f"{CONSOLE}/": f"{CONSOLE}/",
    f"{CONSOLE}/usage/": f"{CONSOLE}/usage/",
    f"{CONSOLE}/playground/chat/": f"{CONSOLE}/playground/chat/",
    f"{CONSOLE}/playground/content/": f"{CONSOLE}/playground/content/",
    f"{CONSOLE}/playground/image/": f"{CONSOLE}/playground/image/",
    f"{CONSOLE}/playground/audio/": f"{CONSOLE}/playground/audio/",
    f"{CONSOLE}/providers/fake/keys/": f"{CONSOLE}/",  # a provider's keys: reached from its card
}


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_the_sidebar_lights_exactly_the_current_page(page, console_server, who):
    login(page, console_server, who)
    for path, lit in CONSOLE_PAGES.items():
        page.goto(f"{console_server}{path}")
        active = page.locator("#nav-sidebar a.active")
        expect(active).to_have_count(1)
        expect(active).to_have_attribute("href", lit)


def test_a_refused_htmx_save_shows_why_instead_of_doing_nothing(page, console_server):
    login(page, console_server, "staff")
    page.goto(f"{console_server}{CONSOLE}/providers/{KEYLESS_FOR_STAFF}/keys/")
    mark_page(page)
    # Another tab logged in again (or the session rotated): the page's CSRF token is stale.
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": console_server}])
    page.locator("#id_personal_api_key").fill("sk-e2e-never-saved-0000000")
    page.get_by_test_id("personal-save").click()
    error = page.get_by_test_id("personal-panel").get_by_test_id("error-page")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Reload the page and try again.")
    expect(page.get_by_test_id("key-decision")).to_contain_text("add your personal key below")  # nothing saved
    expect(page.locator("#id_personal_api_key")).to_have_value("sk-e2e-never-saved-0000000")  # nothing lost
    assert page_was_not_reloaded(page)
    assert not script_errors(page, 403)


def test_a_save_after_the_session_ended_leads_to_the_login_and_back(page, console_server):
    login(page, console_server, "staff")
    keys_page = f"{CONSOLE}/providers/{KEYLESS_FOR_STAFF}/keys/"
    page.goto(f"{console_server}{keys_page}")
    page.context.clear_cookies(name="sessionid")
    page.get_by_test_id("personal-save").click()
    # The whole page goes to the login (not a login form inside the panel), then back.
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=" + re.escape(keys_page)))
    expect(page.get_by_test_id("personal-panel")).to_have_count(0)
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", USERS["staff"])
    page.click("button[type=submit], input[type=submit]")
    expect(page).to_have_url(f"{console_server}{keys_page}")


def test_a_staff_admins_preferred_chat_model_is_preselected_in_the_playground(page, console_server):
    # conftest gives "planner" a preference for fake's paced-200x50; the organisation's active
    # chat model there is paced-12x80, and the sandbox comes first for everyone else.
    login(page, console_server, "planner")
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    picker = page.get_by_test_id("chat-model")
    expect(picker).to_have_value("fake::paced-200x50")
    assert "my choice" in picker.locator("option:checked").inner_text()

    page.context.clear_cookies()
    login(page, console_server, "staff")  # no preference: not preselected for them
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    assert page.get_by_test_id("chat-model").input_value() != "fake::paced-200x50"


def test_staff_see_the_shared_key_option_only_where_they_may_use_it(page, console_server):
    login(page, console_server, "staff")
    page.goto(f"{console_server}{CONSOLE}/providers/openai/keys/")  # no shared key: nothing to choose
    expect(page.get_by_test_id("personal-panel")).to_be_visible()
    assert page.locator("input[name=use_shared_api]").count() == 0
    page.goto(f"{console_server}{CONSOLE}/providers/fake/keys/")  # a shared key staff may use
    assert page.locator("input[name=use_shared_api]").count() == 1


def test_cards_say_whose_request_counts_they_show(page, console_server):
    login(page, console_server, "planner")  # has a settings row on fake: their own count too
    card = page.get_by_test_id("card-fake")
    expect(card).to_contain_text(re.compile(r"organisation: \d+ requests?"))
    expect(card).to_contain_text(re.compile(r"you: \d+ requests?"))
