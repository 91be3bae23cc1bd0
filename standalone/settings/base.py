"""Settings shared by every environment. Environment variables select the services:
``DATABASE_URL`` (else SQLite), ``REDIS_URL`` (else the local-memory cache)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from django.templatetags.static import static
from django.urls import reverse_lazy

from aiadmin.console.navigation import aiadmin_navigation
from django.utils.translation import gettext_lazy as _

from .storage import storages_from_env

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# A refused form post gets the console's 403 page with what to do (standalone/urls.py has the other error pages).
CSRF_FAILURE_VIEW = "aiadmin.console.views.errors.csrf_failure"

INSTALLED_APPS = [
    # Opt-in, before "unfold": Unfold's pages under this project's strict CSP (script-src 'self').
    "aiadmin.contrib.unfold_csp",
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "template_partials",
    "aiadmin.providers",
    "aiadmin.unified",
    "aiadmin.playground",
    "aiadmin.console",
    "aiadmin.api",
    # This project's own user admin (standalone/admin.py).
    "standalone",
]

# Django's own middleware through aiadmin.middleware: the same classes, minus a thread hop per
# hook under ASGI (see that module).
MIDDLEWARE = [
    "aiadmin.middleware.SecurityMiddleware",
    "aiadmin.middleware.CSPMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "aiadmin.middleware.SessionMiddleware",
    "aiadmin.middleware.CommonMiddleware",
    "aiadmin.middleware.CsrfViewMiddleware",
    "aiadmin.middleware.AuthenticationMiddleware",
    "aiadmin.middleware.MessageMiddleware",
    "aiadmin.middleware.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Those deploy checks match dotted paths; aiadmin.W002 checks the same, subclasses included.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

# Content-Security-Policy (django-csp 4). Scripts only from our own origin: no inline scripts,
# no eval. Unfold runs on Alpine's CSP build (the opt-in app aiadmin.contrib.unfold_csp) and htmx
# has eval and script tags switched off (its htmx-config meta). Styles allow inline because
# Unfold writes style attributes and its theme colours as inline CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "data:", "blob:"],
        "media-src": [CSP_SELF, "blob:"],
        "connect-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
        "base-uri": [CSP_SELF],
        "object-src": [CSP_NONE],
    },
}

ROOT_URLCONF = "standalone.urls"
ASGI_APPLICATION = "standalone.asgi.application"
WSGI_APPLICATION = "standalone.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Reused by the ASGI handler's long-lived threads (aiadmin/handler.py), health-checked.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under load: WAL lets readers run beside the single writer, NORMAL
    # sync is durable enough with WAL, IMMEDIATE transactions take the write lock up front
    # (no lock-upgrade deadlocks), and a busy timeout waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=5000",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "aiadmin",
            "OPTIONS": {
                "PARSER_CLASS": "redis.connection._HiredisParser",
                # A cache outage must not take pages or calls down: errors are logged instead.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aiadmin"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("AIADMIN_MEDIA_ROOT", BASE_DIR / "media"))
# Generated images and audio: MEDIA_ROOT, or a shared store from the environment (storage.py).
STORAGES = storages_from_env(staticfiles_backend="django.contrib.staticfiles.storage.StaticFilesStorage")

LOGIN_URL = "admin:login"
# Unfold's login form carries no "next": land on the provider cards.
LOGIN_REDIRECT_URL = "aiadmin_console:cards"

# aiadmin's settings (every key and its default: aiadmin/conf.py), from the environment.
_sync_threads = os.environ.get("AIADMIN_ASGI_SYNC_THREADS", "").strip()
AIADMIN = {
    # Fernet keys, newest first. Empty: dev settings derive one from SECRET_KEY (with a
    # warning), production settings refuse to start.
    "ENCRYPTION_KEYS": env_list("AIADMIN_ENCRYPTION_KEYS"),
    "DERIVE_ENCRYPTION_KEY": False,
    # Monthly limits roll over at midnight on the first of the month in this zone.
    "TIME_ZONE": os.environ.get("AIADMIN_TIME_ZONE", "").strip() or None,
    # Threads for the sync work of ASGI requests (aiadmin/handler.py); unset: 1 on SQLite (its
    # work is CPU in this process, a second thread only competes for the GIL), else 4.
    "ASGI_SYNC_THREADS": int(_sync_threads) if _sync_threads else None,
}
# Pages show times in the zone limits roll over in.
TIME_ZONE = AIADMIN["TIME_ZONE"] or "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler carries this filter, so no key reaches the output whichever logger emitted
    # the record (httpcore prints raw response headers at DEBUG). aiadmin/logging.py.
    "filters": {"redact_secrets": {"()": "aiadmin.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("AIADMIN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request line at INFO: too much on the hot path.
        "httpx": {"level": "WARNING"},
        # Django's default configuration (applied before this one) and uvicorn's (applied
        # before the app loads) give these loggers handlers of their own, without the filter;
        # naming them here replaces those handlers, so their records reach ours. Levels set by
        # uvicorn's --log-level are kept. uvicorn.access keeps its own handler: its request
        # lines carry no key, and --no-access-log keeps working.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
        "uvicorn.asgi": {"handlers": ["console"], "propagate": False},
    },
}

UNFOLD = {
    "SITE_TITLE": "aiadmin",
    "SITE_HEADER": "aiadmin",
    "SITE_SUBHEADER": _("AI providers console"),
    "SITE_SYMBOL": "hub",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("aiadmin/favicon.svg")},
    ],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": [
            *aiadmin_navigation(),
            {
                "title": _("Access"),
                "separator": True,
                "items": [
                    {
                        "title": _("Users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                        "permission": lambda request: request.user.is_superuser,
                    },
                    {
                        "title": _("Groups"),
                        "icon": "group",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": lambda request: request.user.is_superuser,
                    },
                ],
            },
        ],
    },
}
