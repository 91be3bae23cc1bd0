"""Adapters a host registers by name in ``AIADMIN["ADAPTERS"]`` (``{"key": "dotted.path"}``),
next to the built-in ones and those found through entry points."""

from __future__ import annotations

import logging

from aiadmin.adapters.registry import AIProviderRegistry
from aiadmin.conf import aiadmin_settings, aiadmin_settings_valid, configured_adapter

logger = logging.getLogger(__name__)


def adapters_register_configured(*, registry: AIProviderRegistry) -> None:
    """Register every adapter ``AIADMIN["ADAPTERS"]`` names. One that cannot be loaded is
    logged and skipped (system check aiadmin.E032 names it): start-up goes on, so the check
    can report it."""
    if not aiadmin_settings_valid("ADAPTERS"):
        return  # aiadmin.E031
    for key, path in aiadmin_settings.ADAPTERS.items():
        try:
            registry.register(configured_adapter(key, path), replace=True)
        except Exception as err:
            registry.load_errors[key] = f"{type(err).__name__}: {err}"
            logger.warning('Could not load AIADMIN["ADAPTERS"][%r] = %r: %s', key, path, err)
