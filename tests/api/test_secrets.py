"""An API token, and the provider key behind it, appear in no log record, response body,
ledger row, admin history entry or stored token row, whatever the call does."""

from __future__ import annotations

import json
import logging

import pytest
from asgiref.sync import sync_to_async
from django.contrib.admin.models import LogEntry

from aiadmin.providers.models import AdminProviderSettings, AIRequestLog, APIToken
from aiadmin.providers.tokens import token_revoke
from aiadmin.unified.ledger import ledger_flush
from tests.unified.test_secrets_never_leak import _RawRecords

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER_KEY = "sk-canary-behind-the-token-77aa88bb99"
HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def emitted(caplog):
    caplog.set_level(logging.DEBUG)
    raw = _RawRecords()
    root = logging.getLogger()
    root.handlers.insert(0, raw)
    try:
        yield raw.records
    finally:
        root.removeHandler(raw)


async def test_the_token_and_the_key_never_leak_from_any_call(async_client, issued, staff_user, scripted_provider, emitted):
    token = issued.plaintext
    secret = token.rsplit("_", 1)[1]
    auth = {"Authorization": f"Bearer {token}"}
    failing = await sync_to_async(scripted_provider)(script={"raise": "AuthenticationError"}, slug="failing", sort_order=0)
    await sync_to_async(AdminProviderSettings.objects.create)(admin=staff_user, provider=failing, personal_api_key=PROVIDER_KEY)
    bodies = []

    async def call(method, path, body=None, headers=auth):
        if method == "GET":
            response = await async_client.get(path, headers=headers)
        else:
            response = await async_client.post(path, body, content_type="application/json", headers=headers)
        if response.streaming:
            bodies.append(b"".join([chunk async for chunk in response.streaming_content]).decode())
        else:
            bodies.append(response.content.decode())
        bodies.append(json.dumps(dict(response.items())))
        await ledger_flush()  # the in-memory test database takes one writer at a time
        return response

    await call("GET", "/v1/models")
    await call("POST", "/v1/chat/completions", {"model": "sandbox/sandbox-chat", "messages": HELLO})
    await call("POST", "/v1/chat/completions", {"model": "sandbox/sandbox-chat", "messages": HELLO, "stream": True})
    await call("POST", "/v1/chat/completions", {"model": "failing/alpha", "messages": HELLO})
    await call("POST", "/v1/chat/completions", {"model": "failing/alpha", "messages": HELLO, "stream": True})
    await call("POST", "/v1/chat/completions", {"model": "nope", "messages": HELLO})
    # A near miss (right prefix, wrong secret) and the token sent the wrong way.
    await call("GET", "/v1/models", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    await call("GET", "/v1/models", headers={"Authorization": f"Token {token}"})
    await call("POST", "/v1/chat/completions", b"{not json " + token.encode(), headers=auth)
    await sync_to_async(token_revoke)(token=issued.token)
    await call("GET", "/v1/models")
    await ledger_flush()

    assert emitted  # the calls above did log (failures, refusals)
    for text in bodies:
        assert secret not in text and PROVIDER_KEY not in text
    for record in emitted:
        message = record.getMessage() + str(record.exc_info or "") + repr(getattr(record, "request", ""))
        assert secret not in message and PROVIDER_KEY not in message
    stored = await sync_to_async(
        lambda: [str(row) for model in (AIRequestLog, LogEntry, APIToken) for row in model.objects.values()]
    )()
    assert await sync_to_async(AIRequestLog.objects.filter(api_token=issued.token).count)() >= 4
    for row in stored:
        assert secret not in row and PROVIDER_KEY not in row
