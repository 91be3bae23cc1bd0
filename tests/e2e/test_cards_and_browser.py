"""A new superadmin's first walk: log in, see the catalogue (what they can use first), browse
in the model drawer, search and select; and an admin's table layout that follows them."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import login


def group_count(page, name: str) -> int:
    title = page.get_by_test_id(f"group-{name}-title").inner_text()
    return int(re.search(r"\((\d+)\)", title).group(1))


def test_superadmin_browses_searches_and_selects_a_model(page, console_server):
    login(page, console_server, "admin")
    expect(page.get_by_test_id("provider-grid")).to_be_visible()
    assert page.locator("article.ai-card").count() >= 50  # the whole catalogue

    page.get_by_test_id("browse-fake-chat").click()
    drawer = page.get_by_test_id("model-drawer")
    expect(drawer).to_be_visible()
    browser_box = drawer.get_by_test_id("browser-fake-chat")
    expect(browser_box).to_be_visible()
    search = page.get_by_test_id("model-search-fake-chat")
    search.fill("echo")
    expect(page.locator("[data-testid^='model-']").filter(has_text="echo").first).to_be_visible()
    first = page.locator("#models-fake-chat tr.ai-model").filter(has=page.get_by_role("button", name="Select")).first
    model_id = first.locator("code").inner_text()
    first.get_by_role("button", name="Select").click()
    expect(drawer.get_by_test_id("selected-fake-chat")).to_contain_text(model_id)
    # the card behind the drawer changed in place (the OOB row), before any reload
    expect(page.get_by_test_id("active-fake-chat")).to_have_count(1)
    drawer.get_by_test_id("drawer-close").click()
    expect(drawer).to_be_hidden()
    expect(page.get_by_test_id("active-fake-chat")).not_to_contain_text("no model selected")
    expect(page.get_by_test_id("active-fake-chat")).to_contain_text(re.compile(r"\S"))

    page.reload()
    expect(page.get_by_test_id("active-fake-chat")).not_to_contain_text("no model selected")
    assert page.console_errors == []


def test_selecting_in_the_drawer_updates_the_card_in_place(page, console_server):
    login(page, console_server, "admin")
    active = page.get_by_test_id("active-fake-content")
    before = active.inner_text()
    page.get_by_test_id("browse-fake-content").click()
    row = page.locator("#models-fake-content tr.ai-model").filter(has=page.get_by_role("button", name="Select")).first
    chosen = row.locator(".ai-model__name").inner_text()
    row.get_by_role("button", name="Select").click()
    expect(page.get_by_test_id("selected-fake-content")).to_be_visible()
    assert chosen not in before
    expect(active).to_contain_text(chosen)  # no reload: the card row was swapped out of band
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("model-drawer")).to_be_hidden()


def test_provider_search_filters_the_cards(page, console_server):
    login(page, console_server, "admin")
    page.fill("input[name=q]", "anthropic")
    expect(page.locator("article.ai-card")).to_have_count(1)
    expect(page.get_by_test_id("card-anthropic")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=anthropic"))  # the search is in the address (hx-push-url)


def test_usable_providers_come_first_in_groups_with_counts(page, console_server):
    login(page, console_server, "staff")
    ready, setup = page.get_by_test_id("group-ready"), page.get_by_test_id("group-setup")
    expect(ready).to_be_visible()
    expect(setup).to_be_visible()
    # the fake provider (sort order 1, shared with normal admins) and the keyless ones are ready;
    # the catalogue's keyed providers wait below with one short reason each
    expect(ready.get_by_test_id("card-fake")).to_be_visible()
    expect(setup.get_by_test_id("card-anthropic")).to_be_visible()
    expect(setup.get_by_test_id("reason-anthropic")).to_have_text("Needs a key")
    assert group_count(page, "ready") == ready.locator("article.ai-card").count() >= 1
    assert group_count(page, "setup") == setup.locator("article.ai-card").count() >= 40
    # the ready group is above the other (the order inside each: tests/console/test_cards.py)
    boxes = [page.get_by_test_id(f"group-{name}").bounding_box() for name in ("ready", "setup")]
    assert boxes[0]["y"] < boxes[1]["y"]
    # tiles are compact: several fit in the height of one full card
    tile = setup.locator("article.ai-card").first.bounding_box()
    full = ready.locator("article.ai-card").first.bounding_box()
    assert tile["height"] * 2 < full["height"]

    # the capability filter narrows both groups and their counts
    page.select_option("select[name=capability]", "image")
    expect(page).to_have_url(re.compile(r"capability=image"))
    expect(page.get_by_test_id("card-anthropic")).to_have_count(0)  # it makes no images
    expect(page.get_by_test_id("card-fake")).to_be_visible()
    assert group_count(page, "ready") == page.get_by_test_id("group-ready").locator("article.ai-card").count()
    assert group_count(page, "setup") == page.get_by_test_id("group-setup").locator("article.ai-card").count()
    assert page.console_errors == []


def test_the_table_layout_survives_a_reload_and_a_new_browser(page, browser, console_server):
    login(page, console_server, "staff")
    try:
        page.get_by_test_id("layout-table").click()
        table = page.get_by_test_id("provider-table")
        expect(table).to_be_visible()
        expect(page.get_by_test_id("layout-table")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("article.ai-card")).to_have_count(0)
        rows = table.locator("tr.ai-provider-row")
        assert rows.count() >= 50  # one row per provider
        expect(table.get_by_test_id("group-ready-title")).to_contain_text("Ready to use (")
        expect(table.get_by_test_id("group-setup-title")).to_contain_text("Needs a key or setup (")
        # the table fits a laptop screen for 50+ providers: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        page.reload()
        expect(page.get_by_test_id("provider-table")).to_be_visible()

        other = browser.new_context(viewport={"width": 1280, "height": 900})  # another device
        try:
            second = other.new_page()
            login(second, console_server, "staff")
            expect(second.get_by_test_id("provider-table")).to_be_visible()
            expect(second.get_by_test_id("layout-table")).to_have_attribute("aria-pressed", "true")
        finally:
            other.close()

        # searching keeps the table, and browsing works from it
        page.fill("input[name=q]", "fake")
        expect(page.get_by_test_id("provider-table").locator("tr.ai-provider-row")).to_have_count(1)
        page.get_by_test_id("browse-fake-chat").click()
        expect(page.get_by_test_id("browser-fake-chat")).to_be_visible()
        page.keyboard.press("Escape")
    finally:
        page.goto(f"{console_server}/admin/console/")
        page.get_by_test_id("layout-cards").click()
        expect(page.get_by_test_id("layout-cards")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("group-ready").locator("article.ai-card").first).to_be_visible()
    assert page.console_errors == []


def test_the_model_drawer_is_wide_closes_on_esc_and_on_its_button(page, console_server):
    login(page, console_server, "admin")
    drawer = page.get_by_test_id("model-drawer")
    expect(drawer).to_be_hidden()

    page.get_by_test_id("browse-fake-chat").click()
    expect(drawer.get_by_test_id("browser-fake-chat")).to_be_visible()
    width = drawer.bounding_box()["width"]
    assert width >= 900, width  # not a 360 px card: most of a 1400 px window
    expect(page.locator("#model-drawer-title")).to_have_text("Fake OpenAI · chat models")

    # model ids stay on one line; the full id is in the title
    code = drawer.locator("code.ai-model__id").first
    assert code.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    line = code.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || e.getBoundingClientRect().height")
    assert code.bounding_box()["height"] <= line * 1.5
    assert code.get_attribute("title") == code.inner_text()
    # price and context are columns
    headers = drawer.locator("thead th").all_inner_texts()
    assert headers[:4] == ["Model", "Context (tokens)", "Input $ per M", "Output $ per M"]
    # when the list was fetched, in words
    expect(drawer.get_by_test_id("fetched-fake-chat")).to_have_text(re.compile(r"^(just now|\d+ (minute|hour|day)s? ago)$"))

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    page.get_by_test_id("browse-fake-image").click()
    expect(drawer.get_by_test_id("browser-fake-image")).to_be_visible()
    expect(page.locator("#model-drawer-title")).to_have_text("Fake OpenAI · image models")
    drawer.get_by_test_id("drawer-close").click()
    expect(drawer).to_be_hidden()
    assert page.console_errors == []
