"""``POST /v1/content/generations``: an article, whole or streamed as SSE."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from aiadmin.api.content import CONTENT_TONES
from aiadmin.console.views.content import TONES as CONSOLE_TONES
from aiadmin.providers.models import AIRequestLog
from aiadmin.providers.tokens import token_create
from aiadmin.unified.content import CONTENT_LANGUAGES
from aiadmin.unified.ledger import ledger_flush

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/v1/content/generations"
PLANTED = "sk-planted-0123456789abcdef0123456789abcdef"
ARTICLE_FIELDS = ("title", "meta_description", "body", "keywords", "markdown")


def _rows(**filters):
    return sync_to_async(lambda: list(AIRequestLog.objects.filter(**filters).values()))()


def _events(raw: bytes) -> list:
    """The SSE data payloads in order; ``[DONE]`` as the string."""
    events = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        assert block.startswith("data: "), block
        data = block[len("data: "):]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


async def test_an_article_with_its_parts_usage_and_ledger_row(api_call, issued):
    response = await api_call(
        URL, {"topic": "Green tea", "word_count": 120, "tone": "Friendly", "keywords": ["matcha", " sencha ", "Matcha"], "language": "en"}
    )
    assert response.status_code == 200, response.content
    article = response.json()
    assert article["object"] == "content.generation" and article["id"].startswith("content-")
    assert article["model"] == "sandbox/sandbox-writer" and isinstance(article["created"], int)
    assert article["title"] and article["meta_description"] and article["body"]
    assert article["keywords"] == ["matcha", "sencha"]  # trimmed, repeats dropped
    assert article["markdown"].startswith(f"# {article['title']}")
    usage = article["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["capability"] == "content" and row["status"] == "ok"


async def test_keywords_as_one_comma_separated_string(api_call):
    response = await api_call(URL, {"topic": "Tea", "keywords": "oolong, black tea،green", "word_count": 60})
    assert response.status_code == 200
    assert response.json()["keywords"] == ["oolong", "black tea", "green"]


async def test_a_stream_sends_the_pieces_then_the_parsed_article_then_done(api_call, issued):
    response = await api_call(URL, {"topic": "Green tea", "word_count": 80, "stream": True, "keywords": "matcha"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    events = _events(response.streamed)
    assert events[-1] == "[DONE]"
    chunks, final = events[:-2], events[-2]
    assert len(chunks) > 3 and all(chunk["object"] == "content.generation.chunk" for chunk in chunks)
    assert len({(chunk["id"], chunk["created"], chunk["model"]) for chunk in chunks + [final]}) == 1
    joined = "".join(chunk["delta"]["content"] for chunk in chunks)
    assert final["object"] == "content.generation"
    assert final["markdown"] == joined.strip()
    assert final["title"] and final["body"] and final["keywords"] == ["matcha"]
    assert final["usage"]["completion_tokens"] > 0
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["capability"] == "content" and row["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "param", "names"),
    [
        ({}, "topic", ()),
        ({"topic": " "}, "topic", ()),
        ({"topic": "x" * 501}, "topic", ()),
        ({"topic": "Tea", "word_count": 49}, "word_count", ()),
        ({"topic": "Tea", "word_count": 5001}, "word_count", ()),
        ({"topic": "Tea", "word_count": "600"}, "word_count", ()),
        ({"topic": "Tea", "tone": "sarcastic"}, "tone", CONTENT_TONES),
        ({"topic": "Tea", "language": "Klingon"}, "language", ("en", "fa", "ar")),
        ({"topic": "Tea", "keywords": 3}, "keywords", ()),
        ({"topic": "Tea", "keywords": ["a", 2]}, "keywords", ()),
        ({"topic": "Tea", "keywords": [f"k{n}" for n in range(21)]}, "keywords", ()),
        ({"topic": "Tea", "stream": "yes"}, "stream", ()),
    ],
)
async def test_bad_input_is_a_400_naming_the_field_and_the_allowed_values(api_call, body, param, names):
    response = await api_call(URL, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == param
    assert all(name in error["message"] for name in names)
    assert await _rows() == []


def test_the_tones_and_languages_are_the_consoles():
    assert CONTENT_TONES == CONSOLE_TONES
    assert {"en", "fa", "ar"} <= {code for code, _ in CONTENT_LANGUAGES}


async def test_persian_is_accepted(api_call):
    response = await api_call(URL, {"topic": "چای", "language": "fa", "word_count": 60})
    assert response.status_code == 200 and response.json()["body"]


async def test_unknown_model_scope_and_token(api_call, staff_user):
    response = await api_call(URL, {"topic": "Tea", "model": "sandbox/gpt-9"})
    assert response.status_code == 404 and "sandbox/sandbox-writer" in response.json()["error"]["message"]
    response = await api_call(URL, {"topic": "Tea", "model": "sandbox/gpt-9", "stream": True})
    assert response.status_code == 404  # a refusal before the stream starts keeps its status
    issued = await sync_to_async(token_create)(admin=staff_user, name="chat only", capabilities=["chat"])
    response = await api_call(URL, {"topic": "Tea"}, headers={"Authorization": f"Bearer {issued.plaintext}"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "outside_token_scope"
    response = await api_call(URL, {"topic": "Tea"}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_through_the_fake_openai_provider_whole_and_streamed(api_call, fake_openai, fake_provider, issued):
    await sync_to_async(fake_openai)(content="gpt-fake")
    whole = await api_call(URL, {"topic": "Gateways", "word_count": 100, "model": "fake-openai/gpt-fake"})
    assert whole.status_code == 200, whole.content
    assert whole.json()["markdown"] and whole.json()["usage"]["prompt_tokens"] > 0
    streamed = await api_call(URL, {"topic": "Gateways", "word_count": 100, "model": "fake-openai", "stream": True})
    events = _events(streamed.streamed)
    assert events[-1] == "[DONE]" and events[-2]["markdown"]
    assert len(fake_provider.requests_to("/chat/completions")) == 2
    rows = await _rows(api_token_id=issued.token.pk, capability="content", status="ok")
    assert len(rows) == 2


async def test_an_error_after_the_stream_started_is_an_error_event_without_done(api_call, fake_openai):
    await sync_to_async(fake_openai)(content="gpt-fake-midstream-error")
    response = await api_call(URL, {"topic": "Gateways", "model": "fake-openai/gpt-fake-midstream-error", "stream": True})
    assert response.status_code == 200
    events = _events(response.streamed)
    assert "[DONE]" not in events
    assert events[-1]["error"]["type"] == "api_error" and events[-1]["error"]["message"]
    assert any(event.get("object") == "content.generation.chunk" for event in events[:-1])


@pytest.mark.parametrize("stream", [False, True])
async def test_a_key_in_a_provider_error_never_reaches_the_body(api_call, fake_openai, stream):
    await sync_to_async(fake_openai)(key=PLANTED, content="gpt-fake")
    response = await api_call(URL, {"topic": "Gateways", "model": "fake-openai/gpt-fake", "stream": stream})
    assert response.status_code == 502  # refused before the first byte, streamed or not
    body = response.content
    assert PLANTED.encode() not in body and b"Traceback" not in body
    assert response.json()["error"]["code"] == "upstream_auth_failed"


async def test_the_client_leaving_cancels_the_upstream_call(async_client, auth, fake_openai, fake_provider):
    await sync_to_async(fake_openai)(content="gpt-fake-stall")
    response = await async_client.post(
        URL, {"topic": "Gateways", "model": "fake-openai/gpt-fake-stall", "stream": True}, content_type="application/json", headers=auth
    )
    assert response.status_code == 200
    first = asyncio.Event()

    async def read():
        async for _ in response.streaming_content:
            first.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(first.wait(), 10)
    reader.cancel()  # what Django's ASGI handler does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await reader
    await ledger_flush()
    (row,) = await _rows()
    assert row["status"] == "cancelled" and row["capability"] == "content"
    for _ in range(100):  # the upstream connection is closed, not left streaming
        if fake_provider.requests_to("/chat/completions")[0].client_disconnected:
            break
        await asyncio.sleep(0.05)
    assert fake_provider.requests_to("/chat/completions")[0].client_disconnected
