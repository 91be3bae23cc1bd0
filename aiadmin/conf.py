"""aiadmin's settings: one ``AIADMIN`` dictionary in the host's Django settings, read only
through this module, with a default for every key.

    from aiadmin.conf import aiadmin_settings

    aiadmin_settings.STREAM_MAX_CHARS  # the host's value, else the default

A host sets only what it changes, e.g. ``AIADMIN = {"ENCRYPTION_KEYS": [...], "TIME_ZONE":
"Europe/Berlin"}``; a host without ``AIADMIN`` gets every default. Reads go to
``settings.AIADMIN`` as it is now (``override_settings(AIADMIN={...})`` works in tests), but
cheaply: the merged values are kept as plain attributes and dropped when Django reports a
change to ``AIADMIN`` or to a setting a default is derived from.

A value of the wrong type or out of range is a system check error naming the key
(``aiadmin.E031``), and reading that key raises ``ImproperlyConfigured`` with the same
message, never ``AttributeError``; the other keys keep working. An unknown key is a warning
(``aiadmin.W030``, usually a typo), ``AIADMIN`` that is not a dict an error (``aiadmin.E030``),
an ``ADAPTERS`` entry that cannot be loaded an error (``aiadmin.E032``). Missing encryption
keys are ``aiadmin.E001`` (aiadmin/providers/checks.py).

================================  =============  ===========================================
Key                               Default        Meaning
================================  =============  ===========================================
``ENCRYPTION_KEYS``               ``[]``         Fernet keys for stored API keys, newest
                                                 first (a list or tuple; rotate by putting a
                                                 new key first, then ``manage.py
                                                 rotate_encryption_keys``). Required unless
                                                 derived: empty and not derived is error
                                                 ``aiadmin.E001``.
``DERIVE_ENCRYPTION_KEY``         ``None``       Without ``ENCRYPTION_KEYS``, derive a key
                                                 from ``SECRET_KEY`` (warning
                                                 ``aiadmin.W001``). ``None``: only when
                                                 ``DEBUG`` is on; ``True`` / ``False``:
                                                 always / never.
``TIME_ZONE``                     ``None``       Monthly limits roll over at midnight on the
                                                 1st in this zone, and the usage page counts
                                                 days in it. ``None``: Django's
                                                 ``TIME_ZONE``.
``MODEL_LIST_CACHE_SECONDS``      ``21600``      How long a provider's fetched model list is
                                                 cached.
``MODEL_LIST_LAST_GOOD_SECONDS``  ``604800``     How long the last good model list is kept
                                                 for when a refresh fails.
``ROUTING_CACHE_SECONDS``         ``1.5``        How long a resolved call (provider, model,
                                                 key) is reused in a process; every change
                                                 is seen by every worker within it. ``0``:
                                                 never reused.
``STREAM_MAX_CHARS``              ``500000``     The most characters one streamed answer may
                                                 have.
``STREAM_MAX_SECONDS``            ``600``        The most seconds one streamed answer may
                                                 take.
``ASGI_SYNC_THREADS``             ``None``       Threads for the sync work of ASGI requests
                                                 (``aiadmin.handler``). ``None``: 1 when the
                                                 default database is SQLite, else 4.
``STORAGE``                       ``"default"``  The alias in ``STORAGES`` where generated
                                                 images and audio are stored.
``CACHE``                         ``"default"``  The alias in ``CACHES`` aiadmin uses (model
                                                 lists and their locks).
``MAX_UPLOAD_BYTES``              ``26214400``   The largest audio upload the transcription
                                                 playground accepts (25 MiB).
``HTTP_CONNECT_TIMEOUT``          ``10.0``       Seconds to connect to a provider.
``HTTP_READ_TIMEOUT``             ``120.0``      Seconds to wait for a non-streamed answer's
                                                 bytes.
``HTTP_STREAM_IDLE_TIMEOUT``      ``90.0``       The longest silence allowed inside a
                                                 streamed answer.
``HTTP_MAX_CONNECTIONS``          ``2048``       Open connections to providers per worker.
``HTTP_MAX_RETRIES``              ``2``          Retries of a request that failed in a way
                                                 that is safe to retry (so at most three
                                                 attempts).
``LOAD_ADAPTER_ENTRY_POINTS``     ``True``       Load third-party adapters from the
                                                 ``aiadmin.adapters`` entry-point group.
``ADAPTERS``                      ``{}``         Extra adapters, registered at start-up,
                                                 by key: ``{"my-adapter":
                                                 "my_package.MyAdapter"}``.
``API_CORS_ORIGINS``              ``[]``         Browser origins allowed to call the HTTP
                                                 API (``/v1/``) across sites, e.g.
                                                 ``["https://app.example.com"]``; ``["*"]``:
                                                 any. Empty: CORS off.
``API_AUTH_FAILURES_PER_MINUTE``  ``20``         Failed token checks one client address may
                                                 make per minute before the HTTP API answers
                                                 it 429 for the rest of the minute.
================================  =============  ===========================================

The ``HTTP_*`` keys are read once at start-up (``aiadmin.unified.outbound``) and again when
a test overrides ``AIADMIN``; every other key is read when it is used.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

__all__ = ["DEFAULTS", "aiadmin_settings", "aiadmin_settings_valid", "aiadmin_time_zone", "check_aiadmin_settings"]

GENERATE_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
ENCRYPTION_KEYS_LINE = f'AIADMIN = {{"ENCRYPTION_KEYS": ["<run: {GENERATE_KEY}>"]}}'

DEFAULTS: dict[str, Any] = {
    "ENCRYPTION_KEYS": [],
    "DERIVE_ENCRYPTION_KEY": None,
    "TIME_ZONE": None,
    "MODEL_LIST_CACHE_SECONDS": 21600,
    "MODEL_LIST_LAST_GOOD_SECONDS": 604800,
    "ROUTING_CACHE_SECONDS": 1.5,
    "STREAM_MAX_CHARS": 500000,
    "STREAM_MAX_SECONDS": 600,
    "ASGI_SYNC_THREADS": None,
    "STORAGE": "default",
    "CACHE": "default",
    "MAX_UPLOAD_BYTES": 26214400,
    "HTTP_CONNECT_TIMEOUT": 10.0,
    "HTTP_READ_TIMEOUT": 120.0,
    "HTTP_STREAM_IDLE_TIMEOUT": 90.0,
    "HTTP_MAX_CONNECTIONS": 2048,
    "HTTP_MAX_RETRIES": 2,
    "LOAD_ADAPTER_ENTRY_POINTS": True,
    "ADAPTERS": {},
    "API_CORS_ORIGINS": [],
    "API_AUTH_FAILURES_PER_MINUTE": 20,
}

# Settings the resolved values depend on: a change to any of them drops the cached values.
_WATCHED = frozenset({"AIADMIN", "DEBUG", "TIME_ZONE", "DATABASES", "STORAGES", "CACHES"})


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    message: str
    hint: str


# --- validation: each returns what is wrong with a value (None: nothing) ---------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_int(value: Any) -> str | None:
    return None if _is_int(value) and value > 0 else "must be a whole number above 0"


def _positive_number(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "must be a number of seconds above 0"


def _encryption_keys(value: Any) -> str | None:
    if isinstance(value, str):
        return "must be a list of keys, not a string"
    if not isinstance(value, (list, tuple)) or not all(isinstance(key, str) for key in value):
        return "must be a list of Fernet keys (strings), newest first"
    return None


def _optional_bool(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else "must be True, False or None"


def _time_zone(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        return "must be a time zone name such as 'Europe/Berlin', or None"
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return f"names no known time zone ({value!r})"
    return None


def _non_negative_number(value: Any) -> str | None:
    return None if _is_number(value) and value >= 0 else "must be a number of seconds, 0 or more"


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else _positive_int(value)


def _alias_in(setting: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be an alias in {setting} (a string)"
        configured = getattr(settings, setting, None) or {}
        if value not in configured:
            return f"is {value!r}, which is not in {setting} (aliases: {', '.join(sorted(configured)) or 'none'})"
        return None

    return check


def _non_negative_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be a whole number, 0 or more"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _adapters(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return 'must be a dict of adapter key -> dotted path, e.g. {"my-adapter": "my_package.adapters.MyAdapter"}'
    return None


def _origins(value: Any) -> str | None:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return 'must be a list of origins, e.g. ["https://app.example.com"] (or ["*"] for any)'
    for origin in value:
        if not isinstance(origin, str) or (origin != "*" and not origin.startswith(("https://", "http://"))):
            return f'has {origin!r}, which is not an origin such as "https://app.example.com" (or "*")'
        if origin != "*" and (origin.endswith("/") or origin.count("/") > 2):
            return f'has {origin!r}: an origin is scheme://host[:port], with no path or trailing slash'
    return None


_VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "ENCRYPTION_KEYS": _encryption_keys,
    "DERIVE_ENCRYPTION_KEY": _optional_bool,
    "TIME_ZONE": _time_zone,
    "MODEL_LIST_CACHE_SECONDS": _positive_number,
    "MODEL_LIST_LAST_GOOD_SECONDS": _positive_number,
    "ROUTING_CACHE_SECONDS": _non_negative_number,
    "STREAM_MAX_CHARS": _positive_int,
    "STREAM_MAX_SECONDS": _positive_number,
    "ASGI_SYNC_THREADS": _optional_positive_int,
    "STORAGE": _alias_in("STORAGES"),
    "CACHE": _alias_in("CACHES"),
    "MAX_UPLOAD_BYTES": _positive_int,
    "HTTP_CONNECT_TIMEOUT": _positive_number,
    "HTTP_READ_TIMEOUT": _positive_number,
    "HTTP_STREAM_IDLE_TIMEOUT": _positive_number,
    "HTTP_MAX_CONNECTIONS": _positive_int,
    "HTTP_MAX_RETRIES": _non_negative_int,
    "LOAD_ADAPTER_ENTRY_POINTS": _bool,
    "ADAPTERS": _adapters,
    "API_CORS_ORIGINS": _origins,
    "API_AUTH_FAILURES_PER_MINUTE": _positive_int,
}
assert _VALIDATORS.keys() == DEFAULTS.keys()

_HINTS = {
    "ENCRYPTION_KEYS": 'e.g. "ENCRYPTION_KEYS": os.environ["AIADMIN_ENCRYPTION_KEYS"].split(",") '
    f"(generate a key with: {GENERATE_KEY}).",
}


# --- derived defaults: None means "follow this Django setting" -------------------------------


def _resolve(values: dict[str, Any]) -> dict[str, Any]:
    resolved = dict(values)
    resolved["ENCRYPTION_KEYS"] = tuple(values["ENCRYPTION_KEYS"])
    if values["DERIVE_ENCRYPTION_KEY"] is None:
        resolved["DERIVE_ENCRYPTION_KEY"] = bool(settings.DEBUG)
    if values["TIME_ZONE"] is None:
        resolved["TIME_ZONE"] = settings.TIME_ZONE or "UTC"
    if values["ASGI_SYNC_THREADS"] is None:
        engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
        # SQLite's work is CPU in this process: a second thread only competes with the event
        # loop for the GIL. A database server's queries wait on the network, so a few overlap.
        resolved["ASGI_SYNC_THREADS"] = 1 if engine.endswith("sqlite3") else 4
    resolved["ADAPTERS"] = dict(values["ADAPTERS"])
    resolved["API_CORS_ORIGINS"] = frozenset(values["API_CORS_ORIGINS"])
    return resolved


def _load() -> tuple[dict[str, Any], dict[str, Problem], list[str], bool]:
    """(resolved values of the valid keys, problems by key, unknown keys, AIADMIN is a dict)."""
    user = getattr(settings, "AIADMIN", {})
    is_dict = isinstance(user, Mapping)
    user = user if is_dict else {}
    values = dict(DEFAULTS)
    problems: dict[str, Problem] = {}
    for key, value in user.items():
        if key not in DEFAULTS:
            continue
        problem = _VALIDATORS[key](value)
        if problem is None:
            values[key] = value
        else:
            hint = _HINTS.get(key, f"Fix it, or remove the key for the default ({DEFAULTS[key]!r}).")
            problems[key] = Problem(key=key, message=f'AIADMIN["{key}"] {problem}.', hint=hint)
    unknown = sorted(str(key) for key in user if key not in DEFAULTS)
    resolved = _resolve(values)
    for key in problems:
        del resolved[key]
    return resolved, problems, unknown, is_dict


class AIAdminSettings:
    """Attribute access to the merged ``AIADMIN`` settings. The first read after a change
    stores every valid value as an instance attribute, so later reads are plain attribute
    lookups (the stream path reads several per call)."""

    _generation = 0  # bumped by every reload: values loaded before one are not kept

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"aiadmin has no setting {name!r} (the keys are listed in aiadmin/conf.py).")
        generation = type(self)._generation
        values, problems, _, _ = _load()
        if generation == type(self)._generation:
            self.__dict__.update(values)
        if name in problems:  # only this key is unusable; the check reports it at start-up
            problem = problems[name]
            raise ImproperlyConfigured(f"{problem.message} {problem.hint}")
        return values[name]

    def reload(self) -> None:
        type(self)._generation += 1
        self.__dict__.clear()


aiadmin_settings = AIAdminSettings()


def aiadmin_settings_valid(*keys: str) -> bool:
    """Whether none of ``keys`` has a value that fails validation (for checks that would
    only repeat ``aiadmin.E031``)."""
    _, problems, _, _ = _load()
    return not any(key in problems for key in keys)


def aiadmin_time_zone() -> ZoneInfo:
    """The zone monthly limits roll over in and usage days are counted in."""
    return ZoneInfo(aiadmin_settings.TIME_ZONE)  # ZoneInfo keeps its instances


def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting in _WATCHED:
        aiadmin_settings.reload()


setting_changed.connect(_setting_changed, dispatch_uid="aiadmin-conf-reload")


# --- system checks ---------------------------------------------------------------------------


@checks.register()
def check_aiadmin_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    _, problems, unknown, is_dict = _load()
    if not is_dict:
        return [
            checks.Error(
                f"AIADMIN must be a dict, not {type(settings.AIADMIN).__name__}.",
                hint='e.g. AIADMIN = {"ENCRYPTION_KEYS": [...]}; every key has a default (aiadmin/conf.py).',
                id="aiadmin.E030",
            )
        ]
    messages: list[checks.CheckMessage] = [
        checks.Error(problem.message, hint=problem.hint, id="aiadmin.E031") for problem in problems.values()
    ]
    if unknown:
        messages.append(
            checks.Warning(
                f"AIADMIN has keys aiadmin does not know: {', '.join(unknown)}.",
                hint=f"A typo? The keys are: {', '.join(DEFAULTS)}.",
                id="aiadmin.W030",
            )
        )
    if "ADAPTERS" not in problems:
        messages.extend(_adapter_problems(aiadmin_settings.ADAPTERS))
    return messages


def configured_adapter(key: str, path: str):
    """The adapter class ``AIADMIN["ADAPTERS"]`` names for ``key``; raises ``ImportError``,
    ``TypeError`` or ``ValueError`` saying what is wrong with the entry."""
    from django.utils.module_loading import import_string

    from aiadmin.adapters.base import BaseAdapter

    adapter_class = import_string(path)
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, BaseAdapter)):
        raise TypeError(f"{path} is not a BaseAdapter subclass")
    if adapter_class.key != key:
        raise ValueError(f"the adapter's key is {adapter_class.key!r}, not {key!r}")
    return adapter_class


def _adapter_problems(adapters: Mapping[str, str]) -> list[checks.CheckMessage]:
    problems = []
    for key, path in adapters.items():
        try:
            configured_adapter(key, path)
        except Exception as err:  # any import or type failure is the same finding
            problems.append(
                checks.Error(
                    f'AIADMIN["ADAPTERS"]["{key}"] = {path!r} cannot be loaded: {type(err).__name__}: {err}',
                    hint="A dotted path to a BaseAdapter subclass whose key is the dict key; is its package installed?",
                    id="aiadmin.E032",
                )
            )
    return problems
