"""The ``AIADMIN["HTTP_*"]`` settings, handed to the adapters' shared HTTP client.

The adapters layer does not import Django, and its client reads module constants, so the
values are set on those constants by name: once at start-up (``UnifiedConfig.ready``) and again
when a test overrides ``AIADMIN``. A client is built with the constants of its time: one made
before a change keeps the old timeouts and pool size.

Set, in :data:`HTTP_MODULE` and in every loaded ``aiadmin.adapters`` module that imported the
same object by name (``from .http import STREAM_TIMEOUT``):

* ``CONNECT_TIMEOUT``, ``READ_TIMEOUT``, ``STREAM_IDLE_TIMEOUT``, ``MAX_CONNECTIONS``,
  ``MAX_RETRIES``,
* ``DEFAULT_TIMEOUT``, ``MEDIA_TIMEOUT``, ``STREAM_TIMEOUT`` (the ``httpx.Timeout`` objects
  built from them at import; their write and pool parts, the media read timeout and the
  stream read slack are kept),
* and the ``max_retries`` default of ``send_with_retries``, which is bound when it is defined.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import httpx
from django.core.signals import setting_changed

from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid

# Where the adapters' HTTP constants are defined.
HTTP_MODULE = "aiadmin.adapters.http"
ADAPTERS_PACKAGE = "aiadmin.adapters"


def outbound_values(http: Any) -> dict[str, Any]:
    """The constants to set, by name, for the current ``AIADMIN``."""
    connect = float(aiadmin_settings.HTTP_CONNECT_TIMEOUT)
    read = float(aiadmin_settings.HTTP_READ_TIMEOUT)
    idle = float(aiadmin_settings.HTTP_STREAM_IDLE_TIMEOUT)

    def timeout(old: httpx.Timeout, *, read: float) -> httpx.Timeout:
        return httpx.Timeout(connect=connect, read=read, write=old.write, pool=old.pool)

    return {
        "CONNECT_TIMEOUT": connect,
        "READ_TIMEOUT": read,
        "STREAM_IDLE_TIMEOUT": idle,
        "MAX_CONNECTIONS": aiadmin_settings.HTTP_MAX_CONNECTIONS,
        "MAX_RETRIES": aiadmin_settings.HTTP_MAX_RETRIES,
        "DEFAULT_TIMEOUT": timeout(http.DEFAULT_TIMEOUT, read=read),
        "MEDIA_TIMEOUT": timeout(http.MEDIA_TIMEOUT, read=http.MEDIA_TIMEOUT.read),
        "STREAM_TIMEOUT": timeout(http.STREAM_TIMEOUT, read=idle + http.STREAM_READ_SLACK),
    }


HTTP_KEYS = ("HTTP_CONNECT_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_STREAM_IDLE_TIMEOUT", "HTTP_MAX_CONNECTIONS", "HTTP_MAX_RETRIES")


def outbound_configure() -> None:
    if not aiadmin_settings_valid(*HTTP_KEYS):
        return  # aiadmin.E031 names the key; the adapters keep their own defaults meanwhile
    importlib.import_module(f"{ADAPTERS_PACKAGE}.registry")  # the built-in adapters, loaded
    http = importlib.import_module(HTTP_MODULE)
    values = outbound_values(http)
    previous = {name: getattr(http, name) for name in values}
    modules = [
        module
        for name, module in list(sys.modules.items())
        if module is not None and (name == ADAPTERS_PACKAGE or name.startswith(f"{ADAPTERS_PACKAGE}."))
    ]
    for module in modules:
        for name, value in values.items():
            # Only the very object the HTTP module holds: a module's own constant that merely
            # shares the name is left alone.
            if module is http or getattr(module, name, None) is previous[name]:
                setattr(module, name, value)
    http.send_with_retries.__kwdefaults__["max_retries"] = values["MAX_RETRIES"]


def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting == "AIADMIN":
        outbound_configure()


def outbound_follow_settings() -> None:
    """Set the constants again whenever ``AIADMIN`` changes (tests' overrides)."""
    setting_changed.connect(_setting_changed, dispatch_uid="aiadmin-outbound-configure")
