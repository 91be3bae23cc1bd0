"""The Content-Security-Policy: no inline script and no eval, and pages that live with that.

The browser side (no violation reported, Alpine components working) is the e2e suite's job;
these tests pin the header and what the rendered HTML asks of the browser.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

ALPINE_CSP_BUILD = "/static/aiadmin/vendor/alpinejs-csp/cdn.min.js"
ALPINE_COMPONENTS = "/static/aiadmin/alpine-components.js"


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script_bodies: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value)
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        elif tag == "meta":
            self.metas.append(attributes)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script_bodies.append(data.strip())


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def catalogue():
    call_command("import_providers", verbosity=0)


# (name, url name, args) — "sandbox" is the catalogue's offline provider; None args on the change
# form are filled in with its id.
FULL_PAGES = [
    ("admin index", "admin:index", ()),
    ("provider cards", "aiadmin_console:cards", ()),
    ("usage", "aiadmin_console:usage", ()),
    ("chat playground", "aiadmin_console:chat", ()),
    ("content playground", "aiadmin_console:content", ()),
    ("image playground", "aiadmin_console:image", ()),
    ("audio playground", "aiadmin_console:audio", ()),
    ("provider keys", "aiadmin_console:keys", ("sandbox",)),
    ("provider changelist", "admin:aiadmin_providers_aiprovider_changelist", ()),
    ("provider change form", "admin:aiadmin_providers_aiprovider_change", None),
]
# htmx fragments swapped into a full page: same header, and no script of their own.
FRAGMENTS = [
    ("model browser", "aiadmin_console:browser", ("sandbox", "chat")),
]


def _get(client, url_name, args):
    from aiadmin.providers.models import AIProvider

    if args is None:
        args = (AIProvider.objects.get(slug="sandbox").pk,)
    try:
        url = reverse(url_name, args=args)
    except NoReverseMatch:
        pytest.skip(f"{url_name} is not routed")
    headers = {"HX-Request": "true"} if (url_name, tuple(args)) in {(name, args) for _, name, args in FRAGMENTS} else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url_name, response.status_code)
    return response


@pytest.fixture(params=FULL_PAGES, ids=lambda page: page[0])
def page_response(request, catalogue, superuser_client):
    return _get(superuser_client, *request.param[1:])


@pytest.fixture(params=FULL_PAGES + FRAGMENTS, ids=lambda page: page[0])
def any_response(request, catalogue, superuser_client):
    return _get(superuser_client, *request.param[1:])


def test_policy_header_forbids_inline_script_and_eval(any_response):
    header = any_response["Content-Security-Policy"]
    directives = _directives(header)
    assert directives["script-src"] == ["'self'"]
    for directive in ("script-src", "default-src"):
        assert "'unsafe-inline'" not in directives[directive]
        assert "'unsafe-eval'" not in directives[directive]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]


def test_login_page_has_the_policy_too(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_pages_carry_no_inline_script(any_response):
    page = _parse(any_response.content.decode())
    without_src = [script for script in page.scripts if not script.get("src")]
    assert without_src == [] and page.inline_script_bodies == []
    handlers = [(tag, name) for tag, name, _ in page.attributes if name.startswith("on")]
    assert handlers == [], f"inline event handlers are blocked by the policy: {handlers}"
    javascript_urls = [(tag, name) for tag, name, value in page.attributes if value.strip().lower().startswith("javascript:")]
    assert javascript_urls == []


def test_pages_load_alpines_csp_build_after_our_components(page_response):
    sources = [script["src"] for script in _parse(page_response.content.decode()).scripts]
    assert not any(src.endswith("unfold/js/alpine/alpine.js") for src in sources), "Unfold's eval-based Alpine build"
    assert sources.count(ALPINE_CSP_BUILD) == 1
    assert sources.count(ALPINE_COMPONENTS) == 1
    assert sources.index(ALPINE_COMPONENTS) < sources.index(ALPINE_CSP_BUILD)
    scripts = {script["src"]: script for script in _parse(page_response.content.decode()).scripts}
    # Both deferred: executed in document order, the alpine:init listener first.
    assert "defer" in scripts[ALPINE_COMPONENTS] and "defer" in scripts[ALPINE_CSP_BUILD]
    assert sum(src.endswith("/htmx.js") or src.endswith("/htmx.min.js") for src in sources) == 1


def test_htmx_config_disables_eval_and_script_tags(page_response):
    metas = [meta for meta in _parse(page_response.content.decode()).metas if meta.get("name") == "htmx-config"]
    assert len(metas) == 1
    config = json.loads(metas[0]["content"])
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False


def test_alpine_attributes_stay_within_the_csp_parser(any_response):
    """The CSP build parses one expression: no arrow functions and no globals. (Only a guard
    against re-introducing Unfold's original inline code; the browser test is the real check.)"""
    offending = []
    for tag, name, value in _parse(any_response.content.decode()).attributes:
        if not (name.startswith("x-") or name.startswith("@") or name.startswith(":")):
            continue
        if "=>" in value or any(word in value for word in ("window.", "document.", "localStorage", "getCurrentTab(")):
            offending.append((tag, name, value.strip()[:80]))
    assert offending == []


def test_body_uses_the_registered_page_component(page_response):
    html = page_response.content.decode()
    assert 'x-data="unfoldPage(' in html
    assert "x-init=" not in html.split("<body", 1)[1].split(">", 1)[0]
