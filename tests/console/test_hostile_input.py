"""Hostile bodies posted to the playground streams are a 400 with a clear message, never a
500 (RecursionError) or a stream that fails later ("Something went wrong")."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import AsyncClient
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = reverse("console:chat_stream")
CONTENT = reverse("console:content_stream")

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
