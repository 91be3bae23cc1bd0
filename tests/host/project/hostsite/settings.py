"""A small team's own Django project that installs aiadmin from its wheel, the way the README
tells a host to. The test (tests/host/test_host_project.py) copies this directory and runs it
with a fresh virtual environment; HOSTSITE_DATA_DIR says where its SQLite file goes."""

import os
from pathlib import Path

from django.urls import reverse_lazy

from aiadmin.console.navigation import aiadmin_navigation

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HOSTSITE_DATA_DIR", BASE_DIR))

SECRET_KEY = "hostsite-test-only-secret-key-not-for-production-0123456789"
# DEBUG off, as in production: static files come from ServeStatic (below), not from runserver.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "unfold",  # before django.contrib.admin: Unfold's templates win
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "aiadmin.providers",
    "aiadmin.unified",
    "aiadmin.playground",
    "aiadmin.console",
    # The host's own apps.
    "accounts",
    "library",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves static files (aiadmin's included) straight from the installed apps.
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hostsite.urls"
ASGI_APPLICATION = "hostsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "hostsite.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Member"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# No collectstatic step in this project: ServeStatic finds the files through the finders.
SERVESTATIC_USE_FINDERS = True

# This host keeps Unfold's own templates (it does not opt in to aiadmin.contrib.unfold_csp), so
# its policy lets Unfold's Alpine evaluate expressions.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
    },
}

AIADMIN = {
    # A test-only Fernet key. A real host reads its keys from the environment.
    "ENCRYPTION_KEYS": ["YKzV3G3yU2yU5cY2W3JdKk0f8nq1ZtXr4o9mUe6bV1E="],
}

UNFOLD = {
    "SITE_TITLE": "Host library",
    "SITE_HEADER": "Host library",
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": [
            *aiadmin_navigation(),
            {
                "title": "Library",
                "separator": True,
                "items": [
                    {"title": "Books", "icon": "book", "link": reverse_lazy("admin:library_book_changelist")},
                    {"title": "Members", "icon": "person", "link": reverse_lazy("admin:accounts_member_changelist")},
                ],
            },
        ],
    },
}
