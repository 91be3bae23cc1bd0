"""System checks for the HTTP API's wiring: the apps it needs and its URLs."""

from __future__ import annotations

from django.core import checks

TAG = "aiadmin"
NEEDS = ("aiadmin.providers", "aiadmin.unified", "aiadmin.playground")
URLS_HINT = 'Add path("v1/", include("aiadmin.api.urls")), to the project\'s urlpatterns.'


@checks.register(TAG)
def check_api_apps(app_configs, **kwargs):
    from django.apps import apps

    missing = [name for name in NEEDS if not apps.is_installed(name)]
    if not missing:
        return []
    return [
        checks.Error(
            f"aiadmin.api needs {', '.join(missing)} in INSTALLED_APPS.",
            hint=f"Add {', '.join(repr(name) for name in missing)} to INSTALLED_APPS, before \"aiadmin.api\".",
            id="aiadmin.E040",
        )
    ]


@checks.register(checks.Tags.urls, TAG)
def check_api_urls(app_configs, **kwargs):
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import NoReverseMatch, reverse

    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    try:
        reverse("aiadmin_api:models")
    except NoReverseMatch:
        return [checks.Error("The HTTP API's URLs (namespace aiadmin_api) are not in the URLconf.", hint=URLS_HINT, id="aiadmin.E041")]
    except (ImportError, ImproperlyConfigured):
        return []  # a broken URLconf: Django's own URL checks report it
    return []
