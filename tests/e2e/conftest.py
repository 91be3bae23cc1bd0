"""End-to-end fixtures: the console under uvicorn in its own process (own SQLite database),
the fake provider on loopback, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
USERS = {"admin": "e2e-admin-pass-123", "staff": "e2e-staff-pass-123", "planner": "e2e-planner-pass-123"}

SETUP = """
from django.contrib.auth.models import User
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider
User.objects.create_superuser("admin", "admin@example.com", "{admin}")
User.objects.create_user("staff", "staff@example.com", "{staff}", is_staff=True)
# A staff admin with a preferred chat model of their own (the playgrounds preselect it).
planner = User.objects.create_user("planner", "planner@example.com", "{planner}", is_staff=True)
caps = {{c: {{"supported": True, "dynamic_models": True}} for c in ("chat", "content", "image", "audio")}}
fake = AIProvider.objects.create(
    slug="fake", name="Fake OpenAI", adapter="openai", api_base_url="{openai}", sort_order=1,
    capabilities=caps, config={{"auth": {{"style": "bearer"}}, "allow_private_network": True}},
    shared_api_key="test-key", allow_shared_for_normal_admins=True,
)
# Fake models the playground tests use (the first of each capability active; the others are
# made active by the tests through the AI models admin, see test_playgrounds.use_model).
for capability, model_id in (
    ("chat", "paced-12x80"), ("chat", "paced-200x50"), ("chat", "fake-xss"),
    ("content", "fake-echo"), ("image", "gpt-image-1-slow-1500ms"), ("audio", "tts-1"),
):
    AIModel.objects.get_or_create(
        provider=fake, capability=capability, model_id=model_id,
        defaults={{"is_active": not AIModel.objects.filter(provider=fake, capability=capability).exists()}},
    )
AdminProviderSettings.objects.create(admin=planner, provider=fake, preferred_models={{"chat": "paced-200x50"}})
"""


def pytest_collection_modifyitems(config, items):
    """Mark the browser tests and run them last: Playwright's sync API keeps an event loop on
    the main thread while the session browser lives, which later asyncio tests must not meet."""
    browser_tests = [item for item in items if "tests/e2e/" in str(item.fspath)]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    items[:] = [item for item in items if item not in browser_tests] + browser_tests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: the test command installs Debian's chromium package.")
        pytest.skip("Debian's chromium is not installed (the test command installs it).")
    return CHROMIUM


@pytest.fixture(scope="session")
def console_server(tmp_path_factory, fake_provider_server):
    """The console as `make run` serves it, with a fake-provider row and two users."""
    home = tmp_path_factory.mktemp("console")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="standalone.settings.dev",
        DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}",
        AIADMIN_MEDIA_ROOT=str(home / "media"),
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "import_providers", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = SETUP.format(openai=fake_provider_server.openai_base_url, **USERS)
    subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True)
    port = _free_port()
    log = open(home / "uvicorn.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "standalone.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base_url}/admin/login/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError((home / "uvicorn.log").read_text()[-3000:])
            time.sleep(0.2)
    yield base_url
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", USERS[username])
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/admin/console/**")


