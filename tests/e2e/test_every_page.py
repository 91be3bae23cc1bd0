"""Every console page, opened as a superadmin and as a staff admin, in a real browser: no
JavaScript error, no console error, no 5xx (page or sub-request), and the status each user
should get (a page staff may not open answers 403, and that page is checked for errors too).

The crawl is built from the URLconf: every pattern of the ``aiadmin_console`` namespace and the
changelist, add and change pages of every aiadmin model registered with the admin site, plus
``ADMIN_EXTRA``. A pattern needs an entry in ``CONSOLE`` (its arguments and expected statuses),
a model a row to open in ``CHANGE_ROWS`` and a ModelAdmin's own URL an ``ADMIN_EXTRA`` entry;
``test_every_console_url_is_in_the_crawl`` fails otherwise, so a new page cannot be left out.
POST-only endpoints are checked over HTTP with the same session (a GET is a 405, never 5xx).

The crawl also saves a screenshot of each page at 1440x900 and 390x844 into
``test-artifacts/screenshots/<viewport>/<user>-<page>.png`` (``AIADMIN_SCREENSHOTS=0`` skips
them); ``make screenshots`` (scripts/screenshots.sh) copies three into docs/screenshots/.

This file needs nothing newer than conftest's ``console_server``/``page``/``login``, so it can
be copied into an older checkout to take "before" screenshots.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import login

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORTS = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
USERS = ("admin", "staff")
MISSING_PK = 999_999  # a file that does not exist: the owner-checked views answer 404


# --------------------------------------------------------------------------- the crawl


@dataclass(frozen=True)
class Visit:
    name: str  # the page's label in reports and screenshot names
    route: str  # the URL name it covers
    args: tuple = ()  # "{placeholder}"s are filled from the seeded rows' ids
    query: str = ""
    status: dict = field(default_factory=lambda: {"admin": 200, "staff": 200})
    shot: bool = True  # a page worth a screenshot (not a bodiless 405 or a missing file)
    act: Callable | None = None  # something to do on the page once loaded; False: no screenshot


def both(code: int) -> dict:
    return {"admin": code, "staff": code}


STAFF_403 = {"admin": 200, "staff": 403}


def _settle(page) -> None:
    """Wait until no HTMX request is in flight (cheaper than "networkidle"'s 500 ms)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=10_000)


def open_model_browser(page) -> bool:
    """Click the fake provider's "Browse models" for chat, whatever the layout: the data-testid
    of today's card, else a button or link named "Browse" on its card. No control: nothing to do
    and no screenshot (the browser fragment is also opened by URL, below)."""
    control = page.locator("[data-testid='browse-fake-chat']")
    if not control.count():
        card = page.locator("[data-testid='card-fake']")
        control = card.get_by_role("button", name=re.compile("browse", re.I)).or_(
            card.get_by_role("link", name=re.compile("browse", re.I))
        )
    if not control.count():
        return False
    control.first.click()
    page.wait_for_load_state("networkidle")
    _settle(page)
    return True


def _choose_layout(page, layout: str) -> bool:
    """Press the cards page's layout toggle (stored per admin, so the crawl puts it back)."""
    toggle = page.locator(f"[data-testid='layout-{layout}']")
    if not toggle.count():
        return False
    toggle.click()
    page.wait_for_selector(f"[data-testid='provider-grid'][data-layout='{layout}']")
    _settle(page)
    return True


def pick_audio_file(page) -> bool:
    """Choose a file in the transcription upload, as an admin would before pressing Transcribe."""
    upload = page.locator("[data-testid='transcription-panel'] input[type=file]")
    if not upload.count():
        upload = page.locator("input[type=file]")
    wav = ROOT / "test-artifacts" / "crawl-pick.wav"
    wav.parent.mkdir(exist_ok=True)
    # A tiny valid WAV header with no samples: enough for a file input.
    wav.write_bytes(b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
    upload.first.set_input_files(str(wav))
    page.wait_for_timeout(150)  # let the change handlers run
    return True


def make_api_token(page) -> bool:
    """Fill in the API tokens form and make one: the page then shows it once (a screenshot of
    that is docs/screenshots/api-tokens.png)."""
    form = page.locator("[data-testid='token-form']")
    if not form.count():
        return False
    form.get_by_label("Name").fill("crawl: billing service")
    form.get_by_label("Expires in (days)").fill("30")
    form.get_by_label("Chat").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid='token-plaintext']")
    _settle(page)
    return True


# Every aiadmin_console pattern: how to open it and what each user gets. POST-only endpoints
# must answer a GET with 405 and the owner-checked file views a missing id with 404, never 5xx.
CONSOLE: dict[str, list[Visit]] = {
    "cards": [
        Visit("cards", "cards"),
        Visit("cards-capability-chat", "cards", query="capability=chat"),
        Visit("cards-capability-audio", "cards", query="capability=audio"),
        Visit("cards-search-fake", "cards", query="q=fake"),
        Visit("cards-search-nothing", "cards", query="q=no-provider-is-called-this"),
        Visit("cards-browse-fake-chat", "cards", act=open_model_browser),
        Visit("cards-table", "cards", act=lambda page: _choose_layout(page, "table")),
        Visit("cards-back-to-cards", "cards", act=lambda page: _choose_layout(page, "cards"), shot=False),
    ],
    # Any other console address: the console's own 404 page (a screenshot of it, too).
    "not_found": [Visit("not-found", "not_found", args=("no-such-page/",), status=both(404))],
    "cards_layout": [Visit("cards-layout-get", "cards_layout", status=both(405), shot=False)],
    # The browser fragment opened on its own, as a page: a live list, the "no key" state, 404.
    "browser": [
        Visit("browser-fake-chat", "browser", args=("fake", "chat")),
        Visit("browser-openai-chat-no-key", "browser", args=("openai", "chat")),
        Visit("browser-unknown-capability", "browser", args=("fake", "no-such-capability"), status=both(404)),
    ],
    "select": [Visit("select-get", "select", args=("fake", "chat"), status=both(405), shot=False)],
    "usage": [Visit("usage", "usage")],
    "chat": [Visit("chat", "chat")],
    "chat_stream": [Visit("chat-stream-get", "chat_stream", status=both(405), shot=False)],
    "content": [Visit("content", "content")],
    "content_stream": [Visit("content-stream-get", "content_stream", status=both(405), shot=False)],
    "content_render": [Visit("content-render-get", "content_render", status=both(405), shot=False)],
    "image": [Visit("image", "image")],
    "image_file": [Visit("image-file-missing", "image_file", args=(MISSING_PK,), status=both(404), shot=False)],
    "image_download": [Visit("image-download-missing", "image_download", args=(MISSING_PK,), status=both(404), shot=False)],
    "audio": [Visit("audio", "audio", act=pick_audio_file)],
    "speech": [Visit("speech-get", "speech", status=both(405), shot=False)],
    "transcription": [Visit("transcription-get", "transcription", status=both(405), shot=False)],
    "audio_file": [Visit("audio-file-missing", "audio_file", args=(MISSING_PK,), status=both(404), shot=False)],
    "audio_download": [Visit("audio-download-missing", "audio_download", args=(MISSING_PK,), status=both(404), shot=False)],
    "keys": [
        Visit("keys-fake", "keys", args=("fake",)),  # a shared key is set
        Visit("keys-openai", "keys", args=("openai",)),  # needs a key, none set
        Visit("keys-sandbox", "keys", args=("sandbox",)),  # needs no key
        Visit("keys-missing-provider", "keys", args=("no-such-provider",), status=both(404)),
    ],
    "shared_key": [Visit("shared-key", "shared_key", args=("fake",), status={"admin": 405, "staff": 403})],
    "personal_key": [Visit("personal-key-get", "personal_key", args=("fake",), status=both(405), shot=False)],
    "test_connection": [Visit("test-connection-get", "test_connection", args=("fake",), status=both(405), shot=False)],
    "tokens": [
        Visit("tokens", "tokens"),
        Visit("tokens-made", "tokens", act=make_api_token),  # a new token, shown once
        Visit("tokens-filtered", "tokens", query="admin={staff_user}"),  # the superadmin's filter (ignored for staff)
    ],
    # POST only; someone else's token is a 404 to staff (tests/console/test_tokens.py).
    "token_revoke": [Visit("token-revoke-get", "token_revoke", args=("{staff_token}",), status=both(405), shot=False)],
}

# The admin pages of each aiadmin model: the row its change form opens (seeded below; staff own
# it, so both users may open it) and who gets a 403 where. Keys are model names.
CHANGE_ROWS = {
    "aiprovider": "{provider}",
    "aimodel": "{model}",
    "adminprovidersettings": "{staff_settings}",
    "adminproviderlimit": "{staff_limit}",
    "airequestlog": "{staff_log}",
    "apitoken": "{staff_token}",
}
ADMIN_STATUS = {
    ("aiprovider", "add"): STAFF_403,
    ("aimodel", "add"): STAFF_403,
    ("adminproviderlimit", "add"): STAFF_403,
    ("airequestlog", "add"): both(403),  # the ledger is written by the service only
    # Superadmins only, read-only: tokens are made on the console's API tokens page.
    ("apitoken", "changelist"): STAFF_403,
    ("apitoken", "add"): both(403),
    ("apitoken", "change"): STAFF_403,
}
# Another admin's rows: staff get a 403, not the row and not "missing"; and the admin pages
# beyond each model's changelist, add and change form.
ADMIN_EXTRA = [
    Visit("adminprovidersettings-change-other", "admin:aiadmin_providers_adminprovidersettings_change", args=("{admin_settings}",), status=STAFF_403),
    Visit("airequestlog-change-other", "admin:aiadmin_providers_airequestlog_change", args=("{admin_log}",), status=STAFF_403),
    # Django's own history and delete pages, once (every model shares their templates).
    Visit("aiprovider-history", "admin:aiadmin_providers_aiprovider_history", args=("{provider}",)),
    Visit("aiprovider-delete", "admin:aiadmin_providers_aiprovider_delete", args=("{provider}",), status=STAFF_403),
    # The provider form's dry-run connection check: POST only, superadmins only.
    Visit("aiprovider-test-connection-get", "admin:aiadmin_providers_aiprovider_test_connection", status={"admin": 405, "staff": 403}, shot=False),
    Visit("aiprovider-change-test-connection-get", "admin:aiadmin_providers_aiprovider_test_connection", args=("{provider}",), status={"admin": 405, "staff": 403}, shot=False),
    Visit("admin-index", "admin:index"),
    Visit("admin-app-aiadmin-providers", "admin:app_list", args=("aiadmin_providers",)),
]


def console_routes() -> dict[str, tuple]:
    """{URL name: its argument names} for every pattern under the aiadmin_console namespace."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, tuple] = {}

    def walk(patterns, inside: bool) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, inside or pattern.namespace == "aiadmin_console")
            elif isinstance(pattern, URLPattern) and inside and pattern.name:
                found[pattern.name] = tuple(pattern.pattern.regex.groupindex)

    walk(get_resolver().url_patterns, False)
    return found


def admin_models() -> list[tuple[str, str]]:
    """(app label, model name) of every aiadmin model registered with the admin site."""
    from django.contrib import admin

    return sorted(
        (model._meta.app_label, model._meta.model_name)
        for model in admin.site._registry
        if model.__module__.startswith("aiadmin.")
    )


STOCK_ADMIN_VIEWS = ("changelist", "add", "change", "history", "delete")


def admin_custom_routes() -> list[str]:
    """Named URLs an aiadmin ModelAdmin adds to Django's stock ones (``get_urls``): each needs
    its own entry in ADMIN_EXTRA."""
    from django.contrib import admin

    return sorted(
        f"admin:{pattern.name}"
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith("aiadmin.")
        for pattern in model_admin.get_urls()
        if pattern.name and not pattern.name.endswith(tuple(f"_{view}" for view in STOCK_ADMIN_VIEWS))
    )


def crawl() -> list[Visit]:
    visits: list[Visit] = []
    for name, arguments in console_routes().items():
        # A new argument-free page is crawled even before it has an entry (the coverage test
        # still asks for one); a parametrised one cannot be guessed.
        visits += CONSOLE.get(name) or ([Visit(name.replace("_", "-"), name)] if not arguments else [])
    visits = [Visit(v.name, f"aiadmin_console:{v.route}", v.args, v.query, v.status, v.shot, v.act) for v in visits]
    for app, model in admin_models():
        prefix = f"admin:{app}_{model}"
        visits.append(Visit(f"{model}-changelist", f"{prefix}_changelist", status=ADMIN_STATUS.get((model, "changelist"), both(200))))
        visits.append(Visit(f"{model}-add", f"{prefix}_add", status=ADMIN_STATUS.get((model, "add"), both(200))))
        if model in CHANGE_ROWS:
            visits.append(Visit(f"{model}-change", f"{prefix}_change", args=(CHANGE_ROWS[model],), status=ADMIN_STATUS.get((model, "change"), both(200))))
    return visits + ADMIN_EXTRA


# --------------------------------------------------------------------------- seeded rows


# Rows the admin pages open, on "openai" (no key set, used by no other browser test) so the
# other tests' counts and access states are untouched. Idempotent; prints the ids.
SEED = """
import json
from django.contrib.auth.models import User
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog
admin, staff = User.objects.get(username="admin"), User.objects.get(username="staff")
openai = AIProvider.objects.get(slug="openai")
fake = AIProvider.objects.get(slug="fake")
rows = {"provider": fake.pk, "model": AIModel.objects.filter(provider=fake).order_by("pk").first().pk}
for who in (admin, staff):
    rows[who.username + "_settings"] = AdminProviderSettings.objects.get_or_create(admin=who, provider=openai)[0].pk
    log = AIRequestLog.objects.filter(admin=who, provider_slug="openai").first() or AIRequestLog.objects.create(
        admin=who, provider=openai, provider_slug="openai", model_name="gpt-4o-mini", capability="chat",
        status="ok", latency_ms=640, time_to_first_token_ms=210, input_tokens=12, output_tokens=48,
    )
    rows[who.username + "_log"] = log.pk
rows["staff_limit"] = AdminProviderLimit.objects.get_or_create(admin=staff, provider=openai, defaults={"monthly_limit": 100000})[0].pk
# An API token of staff's, made by the superadmin, scoped and used once through the API.
from aiadmin.providers.models import APIToken
from aiadmin.providers.tokens import token_create
token = APIToken.objects.filter(admin=staff, name="nightly report").first() or token_create(
    admin=staff, name="nightly report", created_by=admin, capabilities=["chat"], providers=["fake"],
).token
rows["staff_token"] = token.pk
rows["staff_user"] = staff.pk
log = AIRequestLog.objects.filter(api_token=token).first() or AIRequestLog.objects.create(
    admin=staff, provider=openai, provider_slug="openai", model_name="gpt-4o-mini", capability="chat", status="ok",
    latency_ms=420, input_tokens=9, output_tokens=30, api_token=token,
)
print("SEEDED " + json.dumps(rows))
"""


@pytest.fixture(scope="module")
def seeded(console_server, tmp_path_factory) -> dict[str, int]:
    """Seed the running console's own database with manage.py shell, as conftest seeds it.
    conftest's console_server keeps it in a temporary directory beside uvicorn.log, which
    names the server's address: that finds this session's server among any others."""
    databases = {
        log.resolve().parent / "db.sqlite3"
        for log in tmp_path_factory.getbasetemp().glob("*/uvicorn.log")
        if f"Uvicorn running on {console_server} " in log.read_text()
    }
    assert len(databases) == 1, f"cannot find the console server's database: {databases}"
    (database,) = databases
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="standalone.settings.dev", DATABASE_URL=f"sqlite:///{database}")
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.split("SEEDED ", 1)[1])


# --------------------------------------------------------------------------- the tests


def test_every_console_url_is_in_the_crawl():
    """A console URL pattern without an entry in CONSOLE, an aiadmin admin model without a row
    in CHANGE_ROWS, or a ModelAdmin's own URL without an entry in ADMIN_EXTRA fails here: the
    crawl must not silently skip a page."""
    routes = console_routes()
    assert routes, "no aiadmin_console URL patterns found"
    missing = sorted(set(routes) - set(CONSOLE))
    stale = sorted(set(CONSOLE) - set(routes))
    without_row = [model for _, model in admin_models() if model not in CHANGE_ROWS]
    custom = [route for route in admin_custom_routes() if route not in {visit.route for visit in ADMIN_EXTRA}]
    assert not (missing or stale or without_row or custom), (
        f"console URL names without a crawl entry: {missing}; crawl entries for no URL: {stale}; "
        f"admin models without a change-form row in CHANGE_ROWS: {without_row}; "
        f"admin URLs of aiadmin's ModelAdmins without an entry in ADMIN_EXTRA: {custom}"
    )


@pytest.mark.parametrize("user", USERS)
def test_every_console_page_opens_without_javascript_errors_or_5xx(page, console_server, seeded, user):
    """Opens every page of the crawl as this user and lists every offender: a JavaScript error,
    a console error, a 5xx (the page or any request it makes) or an unexpected status."""
    from django.urls import reverse

    login(page, console_server, user)
    shoot = os.environ.get("AIADMIN_SCREENSHOTS", "1") != "0"
    offenders: list[str] = []
    where = {"label": "login", "url": "", "status": 200}

    def on_page_error(error) -> None:
        frame = next((line.strip() for line in (error.stack or "").splitlines() if line.strip().startswith("at ")), "")
        offenders.append(f"{where['label']}: JavaScript error: {error.name}: {error.message} {frame}".rstrip())

    def on_console(message) -> None:
        if message.type != "error":
            return
        text = message.text
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # Chromium's own request on a page without an icon (a bare fragment)
        # The browser logs the page's own expected 403/404/405 as a failed load: not an offender.
        if text.startswith("Failed to load resource") and message.location.get("url") == where["url"] and where["status"] >= 400:
            return
        offenders.append(f"{where['label']}: console error: {text} ({message.location.get('url', '')})")

    def on_response(response) -> None:
        if response.status >= 500:
            offenders.append(f"{where['label']}: {response.status} from {response.request.method} {response.url}")

    page.on("pageerror", on_page_error)
    page.on("console", on_console)
    page.on("response", on_response)
    page.set_viewport_size(VIEWPORTS["1440x900"])

    for visit in crawl():
        args = [str(arg).format(**seeded) for arg in visit.args]
        url = console_server + reverse(visit.route, args=args) + (f"?{visit.query.format(**seeded)}" if visit.query else "")
        expected = visit.status[user]
        where.update(label=f"{user} {visit.name} ({url.removeprefix(console_server)})", url=url, status=expected)
        try:
            if expected == 405:
                # A POST-only endpoint: its bodiless 405 is checked over HTTP with the same
                # session (Chromium shows its own error page for it, nothing of ours to see).
                status = page.request.get(url, max_redirects=0).status
                if status != expected:
                    offenders.append(f"{where['label']}: status {status}, expected {expected}")
                continue
            response = page.goto(url)
            status = response.status if response else None
            if status != expected:
                offenders.append(f"{where['label']}: status {status}, expected {expected}")
            _settle(page)
            acted = visit.act(page) if visit.act is not None and status == expected == 200 else True
            if shoot and visit.shot and acted:
                for viewport, size in VIEWPORTS.items():
                    page.set_viewport_size(size)
                    target = SCREENSHOTS / viewport / f"{user}-{visit.name}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target), animations="disabled", caret="hide")
                page.set_viewport_size(VIEWPORTS["1440x900"])
        except Exception as error:  # a timeout or a crash on one page must not hide the others
            offenders.append(f"{where['label']}: {type(error).__name__}: {str(error).splitlines()[0]}")

    assert not offenders, f"{len(offenders)} problem(s) as {user}:\n" + "\n".join(offenders)
