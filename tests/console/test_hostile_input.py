"""Hostile bodies posted to the playground streams are a 400 with a clear message, never a
500 (RecursionError) or a stream that fails later ("Something went wrong")."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import AsyncClient
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = reverse("aiadmin_console:chat_stream")
CONTENT = reverse("aiadmin_console:content_stream")

JSON_BODIES = {
    "deep_body": (b"[" * 100_000, "nested more than"),
    "deep_object_body": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested more than"),
    "deep_history": (b'{"message": "hi", "history": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than"),
    "lone_surrogate_message": (b'{"message": "hi \\ud800"}', "lone surrogate"),
    "null_in_history": (b'{"message": "hi", "history": [{"role": "user", "content": "a\\u0000b"}]}', "null character"),
    "nan_temperature": (b'{"message": "hi", "temperature": NaN}', "NaN"),
    "overflowing_temperature": (b'{"message": "hi", "temperature": 1e999}', "out of range"),
}


@pytest.fixture
def sandbox(db):
    call_command("import_providers", verbosity=0)


async def _post(user, url: str, **kwargs):
    client = AsyncClient()
    await client.aforce_login(user)
    return await client.post(url, **kwargs)


@pytest.mark.parametrize("name", sorted(JSON_BODIES))
async def test_a_hostile_json_body_on_the_chat_stream_is_a_clear_400(superuser, sandbox, name):
    body, reason = JSON_BODIES[name]
    response = await _post(superuser, CHAT, data=body, content_type="application/json")
    assert response.status_code == 400 and not response.streaming
    error = json.loads(response.content)["error"]
    assert "not usable JSON" in error and reason in error


@pytest.mark.parametrize("name", ["deep_body", "lone_surrogate_message"])
async def test_a_hostile_json_body_on_the_content_stream_is_a_clear_400(superuser, sandbox, name):
    body, reason = JSON_BODIES[name]
    response = await _post(superuser, CONTENT, data=body, content_type="application/json")
    assert response.status_code == 400
    assert reason in json.loads(response.content)["error"]


@pytest.mark.parametrize(
    ("history", "reason"),
    [("[" * 100_000, "nested more than"), ('[{"role": "user", "content": "\\udfff"}]', "lone surrogate")],
)
async def test_a_hostile_history_in_a_form_post_is_a_clear_400(superuser, sandbox, history, reason):
    response = await _post(superuser, CHAT, data={"message": "hi", "history": history})
    assert response.status_code == 400
    error = json.loads(response.content)["error"]
    assert "history" in error and reason in error


async def test_a_deep_history_sent_as_json_text_is_a_form_error(superuser, sandbox):
    # The history field decodes text itself (forms.JSONField): it uses the safe decoder too.
    body = json.dumps({"message": "hi", "history": "[" * 100_000}).encode()
    response = await _post(superuser, CHAT, data=body, content_type="application/json")
    assert response.status_code == 400
    assert json.loads(response.content)["field"] == "history"


@pytest.fixture
def hostile_upstream(make_provider):
    """An OpenAI-style provider whose stream carries ``state["data"]`` as one event."""
    import httpx

    from aiadmin.adapters import shared_client
    from aiadmin.providers.models import AIModel

    state = {"data": b""}

    def handler(request):
        body = b"data: " + state["data"] + b"\n\ndata: [DONE]\n\n"
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    provider = make_provider(adapter="openai", api_base_url="https://api.hostile.example/v1", shared_api_key="sk-hostile-000000000001")
    AIModel.objects.create(provider=provider, capability="chat", model_id="m", is_active=True)
    shared_client.set_transport_for_tests(httpx.MockTransport(handler))
    yield provider, state
    shared_client.set_transport_for_tests(None)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"choices": [{"index": 0, "delta": {"content": "\\ud800"}}]}', "lone surrogate"),
        (b'{"choices": [{"index": 0, "delta": {"content": "a\\u0000b"}}]}', "null character"),
        (b"[" * 100_000, "nested more than"),
    ],
)
async def test_a_hostile_upstream_stream_is_a_clear_error_event_not_something_went_wrong(superuser, hostile_upstream, data, reason):
    provider, state = hostile_upstream
    state["data"] = data
    body = json.dumps({"message": "hi", "model": f"{provider.slug}::m"}).encode()
    response = await _post(superuser, CHAT, data=body, content_type="application/json")
    assert response.status_code == 200
    frames = b"".join([chunk async for chunk in response.streaming_content]).decode().strip().split("\n\n")
    event, data_line = frames[-1].split("\n")
    payload = json.loads(data_line[len("data: "):])
    assert event == "event: error" and payload["kind"] == "malformed"
    assert reason in payload["message"] and "Something went wrong" not in payload["message"]
