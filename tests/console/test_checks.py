"""The wiring checks: each missing piece of a host's setup is named, with the line to add."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.checks import run_checks
from django.test.utils import override_settings
from django.urls import include, path

from aiadmin.console import checks

ROOT = Path(__file__).resolve().parents[2]
WIRING_IDS = tuple(f"aiadmin.{kind}02{n}" for kind in "EW" for n in range(10))


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def hints(messages) -> str:
    return "\n".join(message.hint for message in messages)


def wiring(messages) -> list[str]:
    return [message.id for message in messages if message.id in WIRING_IDS]


def apps_without(*names: str) -> list[str]:
    return [app for app in settings.INSTALLED_APPS if app not in names]


def middleware_without(*fragments: str) -> list[str]:
    return [entry for entry in settings.MIDDLEWARE if not any(fragment in entry for fragment in fragments)]


class AdminFirstURLs:
    urlpatterns = [path("admin/", admin.site.urls), path("admin/console/", include("aiadmin.console.urls"))]


class AdminOnlyURLs:
    urlpatterns = [path("admin/", admin.site.urls)]


# The standalone project's own wiring passes.


def test_the_standalone_settings_pass_every_wiring_check():
    with override_settings(DEBUG=True):  # pytest-django runs the tests with DEBUG off
        assert wiring(run_checks(tags=[checks.TAG], include_deployment_checks=True)) == []


def test_the_standalone_settings_without_debug_only_want_a_shared_cache():
    # The embedded default's cache, whatever REDIS_URL this run has (CI sets one).
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aiadmin"}}
    with override_settings(DEBUG=False, CACHES=local):
        assert wiring(run_checks(tags=[checks.TAG], include_deployment_checks=True)) == ["aiadmin.W023"]


def test_the_console_app_registers_the_checks():
    # A fresh process: importing this module here has registered them already.
    code = "import django; django.setup(); from django.core.checks import registry; print(registry.registry.tag_exists('aiadmin'))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "standalone.settings.test"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "True", result.stderr


# INSTALLED_APPS


@pytest.mark.parametrize("app", ["unfold", "django.contrib.sessions", "django_htmx", "template_partials"])
def test_a_missing_app_is_named(app):
    with override_settings(INSTALLED_APPS=apps_without(app)):
        problems = checks.check_installed_apps(None)
    assert ids(problems) == ["aiadmin.E020"]
    assert f'Add "{app}" to INSTALLED_APPS' in problems[0].hint


def test_a_missing_aiadmin_app_names_the_apps_that_need_it():
    with override_settings(INSTALLED_APPS=apps_without("aiadmin.unified")):
        problems = checks.check_installed_apps(None)
    assert ids(problems) == ["aiadmin.E020"]
    assert "aiadmin.console and aiadmin.playground need it" in problems[0].msg
    assert problems[0].hint == 'Add "aiadmin.unified" to INSTALLED_APPS.'


def test_unfold_after_the_admin_is_an_error():
    apps = apps_without("unfold")
    apps.insert(apps.index("django.contrib.admin") + 1, "unfold")
    with override_settings(INSTALLED_APPS=apps):
        problems = checks.check_installed_apps(None)
    assert ids(problems) == ["aiadmin.E021"]
    assert 'Move "unfold" before "django.contrib.admin" in INSTALLED_APPS.' in problems[0].hint


def test_unfold_csp_after_unfold_is_an_error():
    apps = [*apps_without("aiadmin.contrib.unfold_csp"), "aiadmin.contrib.unfold_csp"]
    with override_settings(INSTALLED_APPS=apps):
        problems = checks.check_installed_apps(None)
    assert ids(problems) == ["aiadmin.E021"]
    assert 'Move "aiadmin.contrib.unfold_csp" before "unfold"' in problems[0].hint


def test_apps_are_compared_by_their_app_configs_not_their_spelling():
    apps = [
        "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app
        for app in settings.INSTALLED_APPS
    ]
    apps.remove("unfold")
    apps.insert(apps.index("django.contrib.admin.apps.SimpleAdminConfig"), "unfold.apps.DefaultAppConfig")
    with override_settings(INSTALLED_APPS=apps):
        assert checks.check_installed_apps(None) == []


# MIDDLEWARE


@pytest.mark.parametrize(
    "fragment, line",
    [
        ("HtmxMiddleware", '"django_htmx.middleware.HtmxMiddleware"'),
        ("SessionMiddleware", '"django.contrib.sessions.middleware.SessionMiddleware" to MIDDLEWARE, before'),
        ("AuthenticationMiddleware", '"django.contrib.auth.middleware.AuthenticationMiddleware" to MIDDLEWARE, after'),
        ("MessageMiddleware", '"django.contrib.messages.middleware.MessageMiddleware"'),
        ("CsrfViewMiddleware", '"django.middleware.csrf.CsrfViewMiddleware"'),
    ],
)
def test_a_missing_middleware_is_named(fragment, line):
    with override_settings(MIDDLEWARE=middleware_without(fragment)):
        problems = checks.check_middleware(None)
    assert ids(problems) == ["aiadmin.E022"]
    assert f"Add {line}" in problems[0].hint


def test_djangos_own_middleware_paths_pass_too():
    django_paths = [entry.replace("aiadmin.middleware.", "django.contrib.sessions.middleware.") if "Session" in entry else entry for entry in settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=django_paths):
        assert checks.check_middleware(None) == []


# Content-Security-Policy


def test_without_the_csp_middleware_the_console_runs_without_a_policy():
    with override_settings(MIDDLEWARE=middleware_without("CSPMiddleware")):
        problems = checks.check_content_security_policy(None)
    assert ids(problems) == ["aiadmin.W020"]
    assert "without a Content-Security-Policy" in problems[0].msg
    assert 'Add "aiadmin.middleware.CSPMiddleware" to MIDDLEWARE' in problems[0].hint


def test_the_csp_middleware_without_a_policy_is_named():
    with override_settings(CONTENT_SECURITY_POLICY=None):
        problems = checks.check_content_security_policy(None)
    assert ids(problems) == ["aiadmin.W020"]
    assert "Set CONTENT_SECURITY_POLICY = " in problems[0].hint


def test_the_csp_middleware_wants_the_csp_app():
    with override_settings(INSTALLED_APPS=apps_without("csp")):
        problems = checks.check_content_security_policy(None)
    assert ids(problems) == ["aiadmin.W022"]
    assert problems[0].hint == 'Add "csp" to INSTALLED_APPS.'


@pytest.mark.parametrize(
    "directives",
    [{"script-src": ["'self'"]}, {"default-src": ["'self'"]}, {"default-src": ["'self'", "'unsafe-eval'"], "script-src": ["'self'"]}],
)
def test_a_policy_without_eval_needs_unfold_csp(directives):
    with override_settings(
        INSTALLED_APPS=apps_without("aiadmin.contrib.unfold_csp"), CONTENT_SECURITY_POLICY={"DIRECTIVES": directives}
    ):
        problems = checks.check_content_security_policy(None)
    assert ids(problems) == ["aiadmin.W021"]
    assert 'Add "aiadmin.contrib.unfold_csp" to INSTALLED_APPS, before "unfold"' in problems[0].hint


@pytest.mark.parametrize(
    "directives", [{"script-src": ["'self'", "'unsafe-eval'"]}, {"default-src": None}, {"default-src": "*", "script-src": "'unsafe-eval'"}]
)
def test_a_policy_that_allows_eval_runs_unfolds_own_alpine(directives):
    with override_settings(
        INSTALLED_APPS=apps_without("aiadmin.contrib.unfold_csp"), CONTENT_SECURITY_POLICY={"DIRECTIVES": directives}
    ):
        assert checks.check_content_security_policy(None) == []


# TEMPLATES


DJANGO_TEMPLATES = "django.template.backends.django.DjangoTemplates"
PROCESSORS = list(checks._CONTEXT_PROCESSORS)


def test_templates_that_do_not_load_from_the_apps_are_an_error():
    with override_settings(TEMPLATES=[{"BACKEND": DJANGO_TEMPLATES, "APP_DIRS": False, "OPTIONS": {"context_processors": PROCESSORS}}]):
        problems = checks.check_templates(None)
    assert ids(problems) == ["aiadmin.E023"]
    assert '"APP_DIRS": True' in problems[0].hint


def test_the_app_directories_loader_counts_as_app_dirs():
    loaders = [("django.template.loaders.cached.Loader", ["django.template.loaders.app_directories.Loader"])]
    with override_settings(TEMPLATES=[{"BACKEND": DJANGO_TEMPLATES, "OPTIONS": {"loaders": loaders, "context_processors": PROCESSORS}}]):
        assert checks.check_templates(None) == []


@pytest.mark.parametrize("processor", PROCESSORS)
def test_a_missing_context_processor_is_named(processor):
    options = {"context_processors": [each for each in PROCESSORS if each != processor]}
    with override_settings(TEMPLATES=[{"BACKEND": DJANGO_TEMPLATES, "APP_DIRS": True, "OPTIONS": options}]):
        problems = checks.check_templates(None)
    assert ids(problems) == ["aiadmin.E024"]
    assert f'Add "{processor}" to OPTIONS["context_processors"]' in problems[0].hint


# URLs


def test_a_urlconf_without_the_console_is_an_error():
    with override_settings(ROOT_URLCONF=AdminOnlyURLs):
        problems = run_checks(tags=["urls"])
    assert wiring(problems) == ["aiadmin.E025"]
    assert 'path("admin/console/", include("aiadmin.console.urls")),' in hints(problems)
    assert 'before path("admin/", admin.site.urls)' in hints(problems)


def test_the_console_behind_the_admins_catch_all_is_an_error():
    with override_settings(ROOT_URLCONF=AdminFirstURLs):
        problems = run_checks(tags=["urls"])
    assert wiring(problems) == ["aiadmin.E026"]
    assert "catch_all_view" in next(problem.msg for problem in problems if problem.id == "aiadmin.E026")
    assert 'Place path("admin/console/", include("aiadmin.console.urls")), before path("admin/", admin.site.urls)' in hints(problems)


# Cache


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_a_cache_that_workers_do_not_share_is_a_deploy_warning(backend, tmp_path):
    caches = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}
    with override_settings(DEBUG=False, CACHES=caches):
        problems = run_checks(tags=[checks.TAG], include_deployment_checks=True)
    assert wiring(problems) == ["aiadmin.W023"]
    assert 'CACHES["default"] = {"BACKEND": "django_redis.cache.RedisCache"' in hints(problems)
    with override_settings(DEBUG=False, CACHES=caches):
        assert wiring(run_checks(tags=[checks.TAG])) == []  # deploy only


def test_the_shared_cache_check_reads_aiadmins_cache_alias():
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "aiadmin": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"},
    }
    with override_settings(DEBUG=False, CACHES=caches, AIADMIN={"CACHE": "aiadmin"}):
        assert checks.check_shared_cache(None) == []
    with override_settings(DEBUG=False, CACHES=caches, AIADMIN={"CACHE": "default"}):
        assert ids(checks.check_shared_cache(None)) == ["aiadmin.W023"]


def test_a_cache_alias_missing_from_caches_is_left_to_the_settings_check():
    """aiadmin.E031 names it (aiadmin/conf.py); the shared-cache check does not repeat it or fail."""
    with override_settings(DEBUG=False, AIADMIN={"CACHE": "models"}):
        assert checks.check_shared_cache(None) == []


# User model


def test_a_user_model_without_the_access_flags_is_named():
    with override_settings(AUTH_USER_MODEL="aiadmin_providers.AIProvider"):
        problems = checks.check_user_model(None)
    assert ids(problems) == ["aiadmin.E027"]
    assert "has no is_staff, is_superuser" in problems[0].msg
    assert "is_active" not in problems[0].msg.split("has no")[1]
