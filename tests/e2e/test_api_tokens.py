"""API tokens in the browser: a staff admin makes a token, sees it once (with a working Copy
button), loses it on reload, then revokes it; and the token they saw works against the API
until then."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from .conftest import login

TOKENS = "/admin/console/tokens/"
# The page with a token just made, whole (docs/screenshots/api-tokens.png is a copy of it).
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "api-tokens.png"
PLAINTEXT = re.compile(r"^aia_[A-Za-z0-9]{10}_[A-Za-z0-9]{40}$")


def row_named(page: Page, name: str):
    return page.get_by_test_id("token-row").filter(has=page.locator(".ai-token-row__name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_staff_make_a_token_see_it_once_and_revoke_it(page, console_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, console_server, "staff")
    page.locator("#nav-sidebar").get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{console_server}{TOKENS}")
    expect(page.get_by_test_id("token-issued")).to_have_count(0)
    page.evaluate("window.__tokensMark = 'no reload'")

    form = page.get_by_test_id("token-form")
    expect(form.get_by_label("For admin")).to_have_count(0)  # staff make tokens for themselves
    form.get_by_label("Name").fill("e2e: invoicing")
    form.get_by_label("Expires in (days)").fill("7")
    form.get_by_label("Chat").check()
    form.get_by_test_id("token-create").click()

    # Shown once, in place (an HTMX swap, not a new page), with a copy button and the hint.
    issued = page.get_by_test_id("token-issued")
    expect(issued).to_be_visible()
    expect(issued).to_contain_text("store it now: it is not shown again", ignore_case=True)
    plaintext = page.get_by_test_id("token-plaintext").inner_text().strip()
    assert PLAINTEXT.match(plaintext), plaintext
    expect(page.get_by_test_id("token-usage")).to_contain_text("/v1/chat/completions")
    assert page.evaluate("window.__tokensMark") == "no reload"
    copy = page.get_by_test_id("token-copy")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    # The form starts afresh under it, and the list already has the new row (prefix only).
    expect(page.get_by_test_id("token-form").get_by_label("Name")).to_have_value("")
    prefix = plaintext.split("_")[1]
    row = row_named(page, "e2e: invoicing")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"aia_{prefix}_…")
    expect(row.get_by_test_id("token-state")).to_have_text("active")
    expect(row.get_by_test_id("token-last-used")).to_have_text("never")

    # The token works against the HTTP API (as staff, within its chat scope).
    answer = httpx.get(f"{console_server}/v1/models", headers={"Authorization": f"Bearer {plaintext}"}, timeout=10)
    assert answer.status_code == 200, answer.text[:300]

    # Reload: gone for good; only the prefix remains, and the last use shows.
    page.reload()
    expect(page.get_by_test_id("token-issued")).to_have_count(0)
    assert plaintext not in page.content()
    row = row_named(page, "e2e: invoicing")
    expect(row).to_contain_text(f"aia_{prefix}_…")
    expect(row.get_by_test_id("token-last-used")).to_have_text("just now")

    # Revoke, with a confirm step first.
    row.get_by_text("Revoke…").click()
    confirm = row.get_by_test_id("token-revoke-confirm")
    expect(confirm).to_be_visible()
    confirm.click()
    row = row_named(page, "e2e: invoicing")
    expect(row.get_by_test_id("token-state")).to_have_text("revoked")
    expect(row.get_by_test_id("token-revoke-confirm")).to_have_count(0)
    refused = httpx.get(f"{console_server}/v1/models", headers={"Authorization": f"Bearer {plaintext}"}, timeout=10)
    assert refused.status_code == 401, refused.text[:300]

    page.reload()
    expect(row_named(page, "e2e: invoicing").get_by_test_id("token-state")).to_have_text("revoked")
    assert not page.console_errors, page.console_errors


def test_a_form_error_keeps_what_was_typed(page, console_server):
    login(page, console_server, "staff")
    page.goto(f"{console_server}{TOKENS}")
    form = page.get_by_test_id("token-form")
    form.get_by_label("Name").fill("e2e: both expiries")
    form.get_by_label("Expires in (days)").fill("5")
    form.get_by_label("or valid until").fill("2099-01-01")
    form.get_by_label("Audio").check()
    form.get_by_test_id("token-create").click()

    expect(page.get_by_text("Give the expiry in days or as a date, not both.")).to_be_visible()
    form = page.get_by_test_id("token-form")
    expect(form.get_by_label("Name")).to_have_value("e2e: both expiries")
    expect(form.get_by_label("Audio")).to_be_checked()
    expect(page.get_by_test_id("token-issued")).to_have_count(0)
    expect(row_named(page, "e2e: both expiries")).to_have_count(0)


def test_a_superadmin_makes_a_token_for_staff_and_sees_it_under_their_name(page, console_server):
    login(page, console_server, "admin")
    page.goto(f"{console_server}{TOKENS}")
    form = page.get_by_test_id("token-form")
    form.get_by_label("For admin").select_option(label="planner")
    form.get_by_label("Name").fill("e2e: planner's sync")
    form.get_by_test_id("token-create").click()

    expect(page.get_by_test_id("token-issued")).to_contain_text("for planner")
    group = page.get_by_test_id("token-group").filter(has=page.locator("th", has_text=re.compile("^planner$")))
    row = group.get_by_test_id("token-row").filter(has_text="e2e: planner's sync")
    expect(row).to_contain_text("by admin")
    if os.environ.get("AIADMIN_SCREENSHOTS", "1") != "0":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.screenshot(path=str(SCREENSHOT), full_page=True, animations="disabled", caret="hide")

    # The filter narrows the list to one admin, in place.
    page.get_by_test_id("token-filter").get_by_label("Admin").select_option(label="planner")
    expect(page.get_by_test_id("token-group")).to_have_count(1)
    expect(page.get_by_test_id("token-group").locator("th")).to_have_text("planner")
