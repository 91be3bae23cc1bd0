"""Fixtures shared by the console's tests."""

from __future__ import annotations

import pytest

from aiadmin.providers.models import AIProvider


@pytest.fixture
def keyed(make_provider) -> AIProvider:
    """A provider that needs a key (OpenAI family), never called by the tests that use it."""
    return make_provider(slug="keyed", name="Keyed AI", adapter="openai", config={"auth": {"style": "bearer"}})
