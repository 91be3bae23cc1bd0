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


@pytest.fixture
def fake_openai(fake_provider, make_provider):
    """A provider of the OpenAI family on the fake provider (real HTTP upstream, loopback
    allowed), its shared key open to staff. ``make(key=..., **{capability: model_id})``."""
    from tests.fakeprovider import DEFAULT_API_KEY

    def make(*, key: str = DEFAULT_API_KEY, **models: str) -> AIProvider:
        provider = make_provider(
            slug="fake-openai",
            name="Fake OpenAI",
            adapter="openai",
            api_base_url=fake_provider.openai_base_url,
            capabilities={c: {"supported": True, "dynamic_models": True} for c in models},
            config={"auth": {"style": "bearer"}, "allow_private_network": True},
            shared_api_key=key,
            allow_shared_for_normal_admins=True,
            sort_order=50,
        )
        for capability, model_id in models.items():
            AIModel.objects.create(provider=provider, capability=capability, model_id=model_id, is_active=True)
        return provider

    return make


@pytest.fixture
def api_call(async_client, auth):
    """``await api_call(path, json_body)`` (or ``data=``/``files`` for multipart): the response,
    a streamed body read into ``response.streamed``, and the ledger written before it returns
    (the next statement may count rows). ``headers=`` replaces the token header."""
    from aiadmin.unified.ledger import ledger_flush

    async def call(path: str, body=None, *, headers=None, multipart=None):
        sent = auth if headers is None else headers
        if multipart is not None:
            response = await async_client.post(path, multipart, headers=sent)
        else:
            response = await async_client.post(path, body if body is not None else {}, content_type="application/json", headers=sent)
        if response.streaming:
            response.streamed = b"".join([part async for part in response.streaming_content])
        await ledger_flush()
        return response

    return call
