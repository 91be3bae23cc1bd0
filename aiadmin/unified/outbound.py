"""The ``AIADMIN["HTTP_*"]`` settings, handed to the adapters' shared HTTP client.

The adapters layer does not import Django: it offers
:func:`~aiadmin.adapters.shared_client.client_configure` and
:func:`~aiadmin.adapters.retries.retries_configure`, called here at start-up
(``UnifiedConfig.ready``) and again when a test overrides ``AIADMIN``. A request already under
way finishes on the client it started with."""

from __future__ import annotations

from django.core.signals import setting_changed

from aiadmin.adapters.retries import retries_configure
from aiadmin.adapters.shared_client import client_configure
from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid

HTTP_KEYS = ("HTTP_CONNECT_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_STREAM_IDLE_TIMEOUT", "HTTP_MAX_CONNECTIONS", "HTTP_MAX_RETRIES")


def outbound_configure() -> None:
    if not aiadmin_settings_valid(*HTTP_KEYS):
        return  # aiadmin.E031 names the key; the adapters keep their own defaults meanwhile
    client_configure(
        connect_timeout=float(aiadmin_settings.HTTP_CONNECT_TIMEOUT),
        read_timeout=float(aiadmin_settings.HTTP_READ_TIMEOUT),
        stream_idle_timeout=float(aiadmin_settings.HTTP_STREAM_IDLE_TIMEOUT),
        max_connections=aiadmin_settings.HTTP_MAX_CONNECTIONS,
    )
    retries_configure(max_retries=aiadmin_settings.HTTP_MAX_RETRIES)


def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting == "AIADMIN":
        outbound_configure()


def outbound_follow_settings() -> None:
    """Set them again whenever ``AIADMIN`` changes (tests' overrides)."""
    setting_changed.connect(_setting_changed, dispatch_uid="aiadmin-outbound-configure")
