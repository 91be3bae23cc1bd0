"""Test helpers that change some ``AIADMIN`` keys and keep the others (the test settings'
encryption key among them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.test import override_settings


class aiadmin_override(override_settings):  # noqa: N801  (used like override_settings)
    """``override_settings`` for ``AIADMIN`` keys: ``@aiadmin_override(STREAM_MAX_CHARS=1000)``.
    The merge happens when the override starts, over whatever ``AIADMIN`` is then."""

    def __init__(self, **values: Any) -> None:
        self.values = values
        super().__init__()

    def enable(self) -> None:
        self.options = {"AIADMIN": {**getattr(django_settings, "AIADMIN", {}), **self.values}}
        super().enable()


def aiadmin_set(settings, **values: Any) -> None:
    """With pytest-django's ``settings`` fixture: ``aiadmin_set(settings, TIME_ZONE="UTC")``."""
    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), **values}
