"""A new superadmin's first walk: log in, see the catalogue, browse, search and select."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import login


def test_superadmin_browses_searches_and_selects_a_model(page, console_server):
    login(page, console_server, "admin")
    expect(page.get_by_test_id("provider-grid")).to_be_visible()
    assert page.locator("article.ai-card").count() >= 50  # the whole catalogue

    page.get_by_test_id("browse-fake-chat").click()
    browser_box = page.get_by_test_id("browser-fake-chat")
    expect(browser_box).to_be_visible()
    search = page.get_by_test_id("model-search-fake-chat")
    search.fill("echo")
    expect(page.locator("[data-testid^='model-']").filter(has_text="echo").first).to_be_visible()
    first = page.locator("#models-fake-chat li.ai-model").first
    model_id = first.locator("code").inner_text()
    first.get_by_role("button", name="Select").click()
    expect(page.get_by_test_id("selected-fake-chat")).to_be_visible()
    expect(page.get_by_test_id("active-fake-chat")).to_contain_text(re.compile(r"\S"))

    page.reload()
    expect(page.get_by_test_id("active-fake-chat")).not_to_contain_text("no model selected")
    assert model_id


def test_provider_search_filters_the_cards(page, console_server):
    login(page, console_server, "admin")
    page.fill("input[name=q]", "anthropic")
    expect(page.locator("article.ai-card")).to_have_count(1)
    expect(page.get_by_test_id("card-anthropic")).to_be_visible()
