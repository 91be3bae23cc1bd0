"""System checks for a host project's wiring: every app, middleware, template setting, URL and
cache the console relies on, each finding with the line to add as its hint.

The apps are compared by their resolved app configs (an entry may be a dotted AppConfig path)
and the middleware by class (aiadmin.middleware's subclasses of Django's count). Run them
alone with ``manage.py check --tag aiadmin`` (``--deploy`` adds the cache check).
"""

from __future__ import annotations

from django.core import checks

from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid

TAG = "aiadmin"

ADMIN = "django.contrib.admin"
UNFOLD = "unfold"
UNFOLD_CSP = "aiadmin.contrib.unfold_csp"

# Where each required app goes, said in the hint.
_REQUIRED_APPS = {
    UNFOLD: f', before "{ADMIN}"',
    ADMIN: "",
    "django.contrib.auth": "",
    "django.contrib.contenttypes": "",
    "django.contrib.sessions": "",
    "django.contrib.messages": "",
    "django.contrib.staticfiles": "",
    "django_htmx": " (aiadmin's views read request.htmx)",
    "template_partials": " (aiadmin's templates use {% partialdef %})",
}

# Each aiadmin app and the aiadmin apps it imports (the layers import downwards only).
_AIADMIN_APP_NEEDS = {
    "aiadmin.console": ("aiadmin.playground", "aiadmin.unified", "aiadmin.providers"),
    "aiadmin.playground": ("aiadmin.unified", "aiadmin.providers"),
    "aiadmin.unified": ("aiadmin.providers",),
    "aiadmin.providers": (),
}

SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_REQUIRED_MIDDLEWARE = {
    SESSION_MIDDLEWARE: f', before "{AUTH_MIDDLEWARE}"',
    "django.middleware.csrf.CsrfViewMiddleware": "",
    AUTH_MIDDLEWARE: f', after "{SESSION_MIDDLEWARE}"',
    "django.contrib.messages.middleware.MessageMiddleware": f', after "{SESSION_MIDDLEWARE}"',
    "django_htmx.middleware.HtmxMiddleware": "",
}
CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
# The same class without a thread hop per request under ASGI (aiadmin/middleware.py).
CSP_MIDDLEWARE_HINTED = "aiadmin.middleware.CSPMiddleware"

_CONTEXT_PROCESSORS = (
    "django.template.context_processors.request",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
)

# Caches that one worker process (or one host, for files) keeps to itself.
_UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps a separate copy in each worker process",
    "django.core.cache.backends.dummy.DummyCache": "keeps nothing",
    "django.core.cache.backends.filebased.FileBasedCache": "is not shared between hosts",
}
_REDIS_CACHE_ENTRY = 'CACHES["{alias}"] = {{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"}}'

_USER_ATTRIBUTES = ("is_active", "is_staff", "is_superuser")


def _installed_names() -> list[str]:
    from django.apps import apps

    return [config.name for config in apps.get_app_configs()]


def _app_hint(name: str, where: str = "") -> str:
    return f'Add "{name}" to INSTALLED_APPS{where}.'


@checks.register(checks.Tags.compatibility, TAG)
def check_installed_apps(app_configs, **kwargs):
    installed = _installed_names()
    problems = [
        checks.Error(f'"{name}" is not in INSTALLED_APPS; aiadmin\'s console needs it.', hint=_app_hint(name, where), id="aiadmin.E020")
        for name, where in _REQUIRED_APPS.items()
        if name not in installed
    ]
    for missing, dependents in _missing_aiadmin_apps(installed).items():
        verb = "needs" if len(dependents) == 1 else "need"
        problems.append(
            checks.Error(
                f'"{missing}" is not in INSTALLED_APPS; {" and ".join(dependents)} {verb} it.',
                hint=_app_hint(missing),
                id="aiadmin.E020",
            )
        )
    return problems + _app_order_problems(installed)


def _missing_aiadmin_apps(installed: list[str]) -> dict[str, list[str]]:
    """Each aiadmin app missing from ``installed``, with the installed aiadmin apps that need it."""
    dependents: dict[str, list[str]] = {}
    for app, needs in _AIADMIN_APP_NEEDS.items():
        if app in installed:
            for need in needs:
                if need not in installed:
                    dependents.setdefault(need, []).append(app)
    return dependents


def _app_order_problems(installed: list[str]) -> list[checks.CheckMessage]:
    problems = []
    for first, then, otherwise in (
        (UNFOLD, ADMIN, "the admin keeps its own templates instead of Unfold's"),
        (UNFOLD_CSP, UNFOLD, "Unfold's templates win and its replacements are ignored"),
    ):
        if first in installed and then in installed and installed.index(first) > installed.index(then):
            problems.append(
                checks.Error(
                    f'"{first}" comes after "{then}" in INSTALLED_APPS: {otherwise}.',
                    hint=f'Move "{first}" before "{then}" in INSTALLED_APPS.',
                    id="aiadmin.E021",
                )
            )
    return problems


def _installed_middleware() -> list[type]:
    from django.conf import settings
    from django.utils.module_loading import import_string

    classes = []
    for path in settings.MIDDLEWARE:
        try:
            classes.append(import_string(path))
        except ImportError:
            continue  # Django fails on it at startup with its own message
    return classes


def _has_middleware(installed: list[type], path: str) -> bool:
    from django.utils.module_loading import import_string

    try:
        required = import_string(path)
    except ImportError:
        return False
    return any(isinstance(cls, type) and issubclass(cls, required) for cls in installed)


@checks.register(checks.Tags.compatibility, TAG)
def check_middleware(app_configs, **kwargs):
    installed = _installed_middleware()
    return [
        checks.Error(
            f"{path} (or a subclass) is not in MIDDLEWARE; aiadmin's console needs it.",
            hint=f'Add "{path}" to MIDDLEWARE{where}.',
            id="aiadmin.E022",
        )
        for path, where in _REQUIRED_MIDDLEWARE.items()
        if not _has_middleware(installed, path)
    ]


def _script_sources(policy: dict) -> list[str] | None:
    """The sources that govern eval under ``policy`` (django-csp 4's format): script-src, else
    default-src (django-csp fills in ``'self'`` when it is not given); None: unrestricted."""
    directives = policy.get("DIRECTIVES", {})
    if directives.get("script-src") is not None:
        sources = directives["script-src"]
    else:
        sources = directives.get("default-src", ["'self'"])
    if sources is None:
        return None
    return [sources] if isinstance(sources, str) else list(sources)


@checks.register(checks.Tags.security, TAG)
def check_content_security_policy(app_configs, **kwargs):
    from django.conf import settings

    if not _has_middleware(_installed_middleware(), CSP_MIDDLEWARE):
        return [
            checks.Warning(
                f"{CSP_MIDDLEWARE} (or a subclass) is not in MIDDLEWARE: the console runs without a Content-Security-Policy.",
                hint=f'Add "{CSP_MIDDLEWARE_HINTED}" to MIDDLEWARE and set CONTENT_SECURITY_POLICY.',
                id="aiadmin.W020",
            )
        ]
    problems = []
    if "csp" not in _installed_names():
        problems.append(
            checks.Warning(
                '"csp" is not in INSTALLED_APPS: django-csp\'s own checks (settings in its pre-4.0 format, which the middleware ignores) do not run.',
                hint=_app_hint("csp"),
                id="aiadmin.W022",
            )
        )
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    if not policy:
        problems.append(
            checks.Warning(
                "CONTENT_SECURITY_POLICY is not set: the CSP middleware sends no policy.",
                hint='Set CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["\'self\'"], "style-src": ["\'self\'", "\'unsafe-inline\'"]}}.',
                id="aiadmin.W020",
            )
        )
        return problems
    sources = _script_sources(policy)
    if sources is not None and "'unsafe-eval'" not in sources and UNFOLD_CSP not in _installed_names():
        problems.append(
            checks.Warning(
                "The Content-Security-Policy forbids eval, which Unfold's Alpine.js needs: the admin's menus, "
                "tabs and dialogs stop working.",
                hint=f'Add "{UNFOLD_CSP}" to INSTALLED_APPS, before "{UNFOLD}" (Unfold on Alpine\'s CSP build), '
                "or add \"'unsafe-eval'\" to script-src.",
                id="aiadmin.W021",
            )
        )
    return problems


def _finds_app_templates(loaders) -> bool:
    from django.template.loaders.app_directories import Loader as AppDirectoriesLoader

    return any(isinstance(loader, AppDirectoriesLoader) or _finds_app_templates(getattr(loader, "loaders", ())) for loader in loaders)


def _console_template_engine():
    """The first Django template engine that loads templates from the apps: the one that
    renders aiadmin's templates."""
    from django.template import engines
    from django.template.backends.django import DjangoTemplates

    for backend in engines.all():
        if isinstance(backend, DjangoTemplates) and _finds_app_templates(backend.engine.template_loaders):
            return backend.engine
    return None


@checks.register(checks.Tags.templates, TAG)
def check_templates(app_configs, **kwargs):
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    try:
        engine = _console_template_engine()
    except (ImportError, ImproperlyConfigured):
        return []  # a broken TEMPLATES entry: Django fails on it with its own message
    if engine is None:
        return [
            checks.Error(
                "No DjangoTemplates engine in TEMPLATES loads templates from the apps; aiadmin's templates are not found.",
                hint='Add "APP_DIRS": True to the "django.template.backends.django.DjangoTemplates" entry of TEMPLATES.',
                id="aiadmin.E023",
            )
        ]
    installed = set()
    for path in engine.context_processors:
        try:
            installed.add(import_string(path))
        except ImportError:
            continue
    return [
        checks.Error(
            f"The context processor {path} is not in TEMPLATES; aiadmin's templates use it.",
            hint=f'Add "{path}" to OPTIONS["context_processors"] of the DjangoTemplates entry in TEMPLATES.',
            id="aiadmin.E024",
        )
        for path in _CONTEXT_PROCESSORS
        if import_string(path) not in installed
    ]


_URLS_HINT = 'Add path("admin/console/", include("aiadmin.console.urls")), to urlpatterns, before path("admin/", admin.site.urls).'


@checks.register(checks.Tags.urls, TAG)
def check_console_urls(app_configs, **kwargs):
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    try:
        url = reverse("aiadmin_console:cards")
    except NoReverseMatch:
        return [checks.Error("The console's URLs (namespace aiadmin_console) are not in the URLconf.", hint=_URLS_HINT, id="aiadmin.E025")]
    except (ImportError, ImproperlyConfigured):
        return []  # a broken URLconf: Django's own URL checks report it
    prefix = get_script_prefix()
    path = "/" + url[len(prefix) :] if url.startswith(prefix) else url
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is None or "aiadmin_console" not in match.namespaces or match.url_name != "cards":
        answered_by = f"{match.view_name!r}" if match else "nothing"
        return [
            checks.Error(
                f"{url} is answered by {answered_by}, not the console: a pattern before the console's URLs "
                "(the admin's catch-all) takes them.",
                hint='Place path("admin/console/", include("aiadmin.console.urls")), before path("admin/", admin.site.urls) in urlpatterns.',
                id="aiadmin.E026",
            )
        ]
    return []


@checks.register(checks.Tags.caches, TAG, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    from django.conf import settings
    from django.utils.module_loading import import_string

    if settings.DEBUG or not aiadmin_settings_valid("CACHE"):
        return []  # an alias missing from CACHES is aiadmin.E031 (aiadmin/conf.py)
    alias = aiadmin_settings.CACHE
    try:
        backend = import_string(settings.CACHES[alias]["BACKEND"])
    except (ImportError, KeyError):
        return []  # Django's cache checks report it
    for path, why in _UNSHARED_CACHES.items():
        if issubclass(backend, import_string(path)):
            return [
                checks.Warning(
                    f'aiadmin\'s cache "{alias}" is a {path.rsplit(".", 1)[-1]}, which {why}: with several workers, '
                    "each fetches and caches the providers' model lists itself, and the lock that makes one fetch "
                    "serve every worker needs Redis (configuration changes reach every worker within 1.5 s either way).",
                    hint=f"Use a shared cache, e.g. {_REDIS_CACHE_ENTRY.format(alias=alias)}.",
                    id="aiadmin.W023",
                )
            ]
    return []


@checks.register(checks.Tags.models, TAG)
def check_user_model(app_configs, **kwargs):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ImproperlyConfigured

    try:
        user_model = get_user_model()
    except (ImproperlyConfigured, LookupError):
        return []  # Django's auth checks report it
    missing = [name for name in _USER_ATTRIBUTES if not hasattr(user_model, name)]
    if not missing:
        return []
    return [
        checks.Error(
            f"The user model {settings.AUTH_USER_MODEL} has no {', '.join(missing)}; aiadmin's access rules read them.",
            hint="Give the user model these attributes, e.g. inherit from django.contrib.auth.models.AbstractUser "
            "(or add PermissionsMixin and an is_staff field).",
            id="aiadmin.E027",
        )
    ]
