"""The provider form of the admin in the browser: start from the catalogue, extra header rows,
Test connection before saving, and the admin pages at 1280x800 without horizontal scrolling."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

ADD = "/admin/aiadmin_providers/aiprovider/add/"
LISTS = ("aiprovider", "aimodel", "adminprovidersettings", "adminproviderlimit", "airequestlog")
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# Tables scroll inside their own box too: none of those may need to either.
SCROLLING_BOXES = """() => [...document.querySelectorAll('*')].filter(el => {
    const overflow = getComputedStyle(el).overflowX;
    return (overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1;
}).map(el => el.tagName + '.' + el.className)"""


def start_from_catalogue(page, base_url: str, label: str) -> None:
    page.goto(base_url + ADD)
    page.select_option("#aiadmin-catalogue-select", label=label)
    page.click("text=Fill in the form")
    page.wait_for_url(re.compile(r"catalogue="))


def test_prefill_from_the_catalogue_then_save(page, console_server):
    login(page, console_server, "admin")
    start_from_catalogue(page, console_server, "Groq (added already)")
    assert page.input_value("select[name=adapter]") == "openai"
    assert page.input_value("input[name=api_base_url]") == "https://api.groq.com/openai/v1"
    assert page.input_value("input[name=models_path]") == "/models"
    page.fill("input[name=slug]", "groq-second")
    page.fill("input[name=name]", "Groq second")
    page.click("button[name=_save]")
    page.wait_for_url("**/aiprovider/")
    assert "was added successfully" in page.content()
    page.goto(console_server + "/admin/aiadmin_providers/aiprovider/?q=groq-second")
    assert page.locator("#result_list").get_by_text("groq-second", exact=True).count() == 1
    assert page.console_errors == []


def test_an_extra_header_row_is_added_and_saved(page, console_server):
    login(page, console_server, "admin")
    start_from_catalogue(page, console_server, "OpenRouter (added already)")
    rows = page.locator("[data-header-rows=extra_headers] [data-header-row]")
    assert rows.count() == 3  # the catalogue's two headers and one empty row
    page.click("[data-header-row-add]")
    assert rows.count() == 4
    rows.nth(3).locator("input[name=extra_headers_name]").fill("X-Team")
    rows.nth(3).locator("input[name=extra_headers_value]").fill("research")
    rows.nth(2).locator("input[name=extra_headers_name]").fill("X-Other")
    rows.nth(2).locator("input[name=extra_headers_value]").fill("one")
    page.fill("input[name=slug]", "openrouter-team")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/aiprovider/\d+/change/"))
    names = page.locator("input[name=extra_headers_name]").evaluate_all("els => els.map(el => el.value)")
    values = page.locator("input[name=extra_headers_value]").evaluate_all("els => els.map(el => el.value)")
    assert dict(zip(names, values, strict=True)) == {
        "HTTP-Referer": "https://github.com/aiadmin/aiadmin", "X-Title": "aiadmin", "X-Other": "one", "X-Team": "research", "": "",
    }
    assert page.console_errors == []


def test_test_connection_checks_the_typed_values_before_saving(page, console_server, fake_provider_server):
    login(page, console_server, "admin")
    start_from_catalogue(page, console_server, "OpenAI (added already)")
    page.fill("input[name=slug]", "never-saved")
    page.fill("input[name=api_base_url]", fake_provider_server.openai_base_url)
    page.fill("input[name=shared_api_key]", "test-key")
    result = page.locator("#aiadmin-test-connection-result")

    # On loopback without the self-hosted mark: the guard refuses, nothing is sent.
    page.click("[data-test-connection]")
    page.wait_for_selector("[data-connection-result=failed]")
    assert "loopback or private-network address" in result.inner_text()
    assert "Self-hosted on our network" in result.inner_text()

    page.check("input[name=allow_private_network]")
    page.click("[data-test-connection]")
    page.wait_for_selector("[data-connection-result=ok]")
    assert "Connection works." in result.inner_text()
    assert "test-key" not in page.content().replace('value="test-key"', "")  # only in the field typed
    assert page.url.endswith("catalogue=openai")  # still the unsaved add form

    page.goto(console_server + "/admin/aiadmin_providers/aiprovider/?q=never-saved")
    assert page.locator("#result_list").count() == 0
    assert page.console_errors == []


LONG_ID = "accounts/fireworks/models/llama-v3p1-405b-instruct-long-context-preview-2025"


def add_a_model_with_a_long_id(page, base_url: str) -> None:
    """A row whose id is one long word, the kind that used to widen the table."""
    page.goto(base_url + "/admin/aiadmin_providers/aimodel/?q=" + LONG_ID)
    if page.get_by_role("link", name=LONG_ID, exact=True).count():
        return
    page.goto(base_url + "/admin/aiadmin_providers/aimodel/add/")
    page.select_option("select[name=provider]", label="Fireworks AI")
    page.select_option("select[name=capability]", "chat")
    page.fill("input[name=model_id]", LONG_ID)
    page.fill("input[name=context_window]", "131072")
    page.click("button[name=_save]")
    page.wait_for_url("**/aimodel/")


@pytest.mark.parametrize("user", ["admin", "staff"])
def test_the_admin_pages_fit_1280_without_horizontal_scrolling(page, console_server, user):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, console_server, user)
    if user == "admin":
        add_a_model_with_a_long_id(page, console_server)
    pages = [f"/admin/aiadmin_providers/{name}/" for name in LISTS]
    pages.append("/admin/aiadmin_providers/aiprovider/?q=fake")  # the change form, via its row
    for path in pages[:-1]:
        page.goto(console_server + path)
        assert page.evaluate(NO_HORIZONTAL_SCROLL), path
        assert page.evaluate(SCROLLING_BOXES) == [], path
    page.goto(console_server + pages[-1])
    page.locator("#result_list a", has_text="Fake OpenAI").first.click()
    page.wait_for_url(re.compile(r"/aiprovider/\d+/(change/)?"))
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert page.evaluate(SCROLLING_BOXES) == []
    if user == "admin":
        page.goto(console_server + ADD + "?catalogue=azure-openai")  # the longest URLs
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        # The URL inputs get a usable width: at least half of the form column.
        widths = page.locator("input[name=api_base_url], input[name=website], input[name=docs_url], input[name=key_url]").evaluate_all(
            "els => els.map(el => el.getBoundingClientRect().width)"
        )
        assert min(widths) >= 300, widths
    assert page.console_errors == []
