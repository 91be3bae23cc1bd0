"""Fixtures for the HTTP API's tests: a sandbox provider with a model per capability, an
admin with a token, and a client that sends it."""

from __future__ import annotations

import pytest

from aiadmin.providers.models import AIModel, AIProvider
from aiadmin.providers.tokens import token_create

CAPABILITY_MODELS = {"chat": "sandbox-chat", "content": "sandbox-writer", "image": "sandbox-image", "audio": "sandbox-voice"}


@pytest.fixture
def sandbox(make_provider) -> AIProvider:
    provider = make_provider(
        slug="sandbox",
        name="Sandbox",
        adapter="sandbox",
        api_base_url="",
        capabilities={c: {"supported": True, "dynamic_models": True} for c in CAPABILITY_MODELS},
        sort_order=1,
    )
    for capability, model_id in CAPABILITY_MODELS.items():
        AIModel.objects.create(provider=provider, capability=capability, model_id=model_id, is_active=True)
    return provider


@pytest.fixture
def issued(staff_user, sandbox):
    """A token of a staff admin, with no scope limits."""
    return token_create(admin=staff_user, name="tests")


@pytest.fixture
def token(issued) -> str:
    return issued.plaintext


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
