"""A real host project (tests/host/project: its own user model that signs in by email, its own
admin models) installs the wheel built from this repository into a fresh virtual environment,
migrates, imports the catalogue and serves aiadmin with Django's stock ASGI application under
uvicorn, DEBUG off. Everything runs with the virtual environment's Python, from a copy of the
project, without PYTHONPATH: what is imported is what `pip install` put there."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import run

pytestmark = pytest.mark.host

PROJECT = Path(__file__).resolve().parent / "project"
EMAIL = "boss@example.com"
PASSWORD = "host-test-password-4711"
# Passed through to pip and the host: how this machine reaches the package index, its
# certificates, locale. Nothing that points Python at this repository.
PASSED_ON = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def clean_env(venv: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name in PASSED_ON or name.startswith("PIP_")}
    env.update({name: value for name, value in os.environ.items() if name.lower() in ("http_proxy", "https_proxy", "no_proxy")})
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(venv)
    env.update(extra)
    return env


@dataclass
class Host:
    venv: Path
    project: Path
    env: dict[str, str]
    base_url: str = ""
    server_log: Path | None = None

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def manage(self, *args: str, what: str, timeout: float = 120, **env: str) -> str:
        result = run([self.python, "manage.py", *args], what=what, timeout=timeout, cwd=self.project, env={**self.env, **env})
        return result.stdout

    def server_output(self) -> str:
        return self.server_log.read_text(errors="replace") if self.server_log and self.server_log.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(host: Host, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"The host's server exited with {server.returncode} before serving:\n{host.server_output()}")
        try:
            if httpx.get(f"{host.base_url}/admin/login/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"The host's server did not answer within {timeout:.0f} s:\n{host.server_output()}")


@pytest.fixture(scope="module")
def timings() -> dict[str, float]:
    return {}


@pytest.fixture(scope="module")
def host(aiadmin_wheel, tmp_path_factory, timings) -> Iterator[Host]:
    root = tmp_path_factory.mktemp("host")
    venv = root / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], what="Creating the host's virtual environment", timeout=120)
    env = clean_env(venv, HOSTSITE_DATA_DIR=str(root / "data"), DJANGO_SETTINGS_MODULE="hostsite.settings")
    (root / "data").mkdir()
    run(
        # The wheel, and what this host chose to serve it with (aiadmin requires neither).
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(aiadmin_wheel), "uvicorn", "servestatic"],
        what="Installing the aiadmin wheel (and its dependencies from the package index) into the host's venv",
        timeout=600,
        env=env,
        cwd=root,
    )
    timings["venv and pip install"] = time.monotonic() - started
    project = root / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    host = Host(venv=venv, project=project, env=env)

    started = time.monotonic()
    host.manage("migrate", "--noinput", "-v", "0", what="migrate")
    host.manage("import_providers", what="import_providers (the catalogue from the wheel)")
    # createsuperuser reads the login field (email here) and the password from the environment.
    host.manage("createsuperuser", "--noinput", what="createsuperuser", DJANGO_SUPERUSER_EMAIL=EMAIL, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    timings["migrate, import, superuser"] = time.monotonic() - started

    started = time.monotonic()
    host.base_url = f"http://127.0.0.1:{free_port()}"
    host.server_log = root / "server.log"
    with host.server_log.open("wb") as log:
        server = subprocess.Popen(
            [host.python, "-m", "uvicorn", "hostsite.asgi:application", "--host", "127.0.0.1",
             "--port", host.base_url.rsplit(":", 1)[1], "--no-access-log"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(host, server)
        timings["server start"] = time.monotonic() - started
        yield host
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        print("\nhost project timings (s): " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items()))


@pytest.fixture(scope="module")
def browser(host) -> Iterator[httpx.Client]:
    """A logged-in session, through the admin's own login form (email as the username)."""
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        page = client.get("/admin/login/")
        assert page.status_code == 200, host.server_output()
        response = client.post(
            "/admin/login/",
            data={"csrfmiddlewaretoken": csrf_token(page.text), "username": EMAIL, "password": PASSWORD, "next": "/admin/console/"},
        )
        assert response.status_code == 302 and response.headers["location"] == "/admin/console/", (
            f"Login failed ({response.status_code}):\n{response.text[:3000]}\n{host.server_output()}"
        )
        yield client


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, f"No CSRF token in the page:\n{html[:3000]}"
    return match.group(1)


def get_ok(client: httpx.Client, host: Host, path: str) -> httpx.Response:
    response = client.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code}\n{response.text[:3000]}\n{host.server_output()}"
    return response


def test_aiadmin_is_imported_from_the_installed_wheel(host):
    where = run([host.python, "-c", "import aiadmin; print(aiadmin.__file__)"], what="import aiadmin", timeout=60,
                cwd=host.project, env=host.env).stdout.strip()
    assert Path(where).is_relative_to(host.venv), where


def test_system_checks_pass_without_a_warning(host):
    output = host.manage("check", "--fail-level", "WARNING", what="manage.py check --fail-level WARNING")
    assert "no issues" in output


def test_the_cards_page_shows_the_sandbox(host, browser):
    response = get_ok(browser, host, "/admin/console/")
    html = response.text
    assert 'data-testid="card-sandbox"' in html
    # The host's own policy, from its own CSP middleware.
    assert "'unsafe-eval'" in response.headers["content-security-policy"]
    # The host's own sidebar group sits beside aiadmin's.
    assert "/admin/library/book/" in html and "/admin/console/playground/chat/" in html


def test_the_console_static_files_are_served_from_the_wheel(host, browser):
    linked = set()
    for page in ("/admin/console/", "/admin/console/playground/chat/", "/admin/console/usage/"):
        linked.update(re.findall(r'(?:src|href)="(/static/aiadmin/[^"?]+)', get_ok(browser, host, page).text))
    assert {"/static/aiadmin/console.css", "/static/aiadmin/sse.js", "/static/aiadmin/chat.js"} <= linked, linked
    for path in sorted(linked):
        response = browser.get(path)
        assert response.status_code == 200 and response.content, f"GET {path}: {response.status_code}"


def test_a_sandbox_chat_streams(host, browser):
    page = get_ok(browser, host, "/admin/console/playground/chat/").text
    model = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', page)
    assert model and model.group(1).startswith("sandbox::"), "The chat page preselects no sandbox model"
    # What chat.js posts: the form's fields as JSON, the CSRF token in a header.
    payload = {"model": model.group(1), "system_prompt": "", "temperature": "", "max_tokens": "", "message": "Hello host", "history": []}
    headers = {"Accept": "text/event-stream", "X-CSRFToken": csrf_token(page)}
    events: list[tuple[str, dict, float]] = []
    started = time.monotonic()
    with browser.stream("POST", "/admin/console/playground/chat/stream/", json=payload, headers=headers) as response:
        assert response.status_code == 200, response.read().decode()[:3000]
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[len("data: "):]), time.monotonic() - started))
    names = [name for name, _, _ in events]
    assert names.count("token") >= 3 and names[-1] == "done", f"{events}\n{host.server_output()}"
    text = "".join(data["text"] for name, data, _ in events if name == "token")
    assert "Hello host" in text and "Hello host" in events[-1][1]["html"]
    # Streamed, not buffered: the first token came well before the end.
    first_token_at, done_at = events[0][2], events[-1][2]
    assert done_at - first_token_at > 0.05, events


def test_host_code_calls_the_unified_service(host):
    output = host.manage("ask_ai", "What is on shelf B12?", what="manage.py ask_ai (host code calling UnifiedAIService)")
    assert output.startswith("[sandbox/sandbox-chat]") and "What is on shelf B12?" in output, output


def test_the_hosts_own_admin_is_unchanged(host, browser):
    registered = host.manage(
        "shell", "-c",
        "from django.contrib import admin; from django.contrib.auth import get_user_model; from library.models import Book;"
        "Book.objects.get_or_create(title='The Hobbit', author='Tolkien', shelf='B12');"
        "print(type(admin.site._registry[get_user_model()]).__qualname__, type(admin.site._registry[Book]).__qualname__)",
        what="manage.py shell (the admin registry)",
    )
    assert registered.strip().splitlines()[-1].split() == ["MemberAdmin", "BookAdmin"], registered
    books = get_ok(browser, host, "/admin/library/book/").text
    assert "Shelf mark" in books and "B12/TOL" in books  # BookAdmin's own column
    members = get_ok(browser, host, "/admin/accounts/member/").text
    assert "Library card" in members and EMAIL in members  # MemberAdmin's own column
    # aiadmin's own pages about users work with a user model that has no username.
    get_ok(browser, host, f"/admin/aiadmin_providers/adminproviderlimit/?q={EMAIL}")
    get_ok(browser, host, "/admin/console/usage/")


def test_the_server_logged_no_error(host, browser):
    """Last in this module: nothing above made the host's server log a traceback."""
    output = host.server_output()
    assert "Traceback" not in output and "ERROR" not in output, output
