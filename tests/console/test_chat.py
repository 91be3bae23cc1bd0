"""The chat playground: the page, and the SSE stream that runs one turn through the service."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.urls import reverse

from aiadmin.providers import usage
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIRequestLog
from aiadmin.unified import UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)  # the service writes from worker threads

PAGE = reverse("aiadmin_console:chat")
STREAM = reverse("aiadmin_console:chat_stream")
KEY = "sk-chat-playground-key-000000001"


def parse_sse(body: bytes) -> list[tuple[str, dict]]:
    events = []
    for frame in body.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def logged_in(user) -> AsyncClient:
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def stream(user, payload: dict, url: str = STREAM) -> tuple[object, list[tuple[str, dict]]]:
    client = await logged_in(user)
    response = await client.post(url, data=json.dumps(payload), content_type="application/json")
    if not response.streaming:
        return response, []
    body = b"".join([chunk async for chunk in response.streaming_content])
    await UnifiedAIService().aflush()  # the ledger row is written just after the stream
    return response, parse_sse(body)


@pytest.fixture
def sandbox(db):
    call_command("import_providers", verbosity=0)


# --- the page ------------------------------------------------------------------------------


def test_page_renders_for_staff_with_the_sandbox_model_picker(staff_client, sandbox):
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="sandbox::sandbox-chat"' in html
    assert 'id="chat-message"' in html and 'id="chat-stop"' in html and 'id="chat-system"' in html
    assert "aiadmin/chat.js" in html and "aiadmin/sse.js" in html
    assert f'action="{STREAM}"' in html


def test_anonymous_users_are_sent_to_login(client):
    for response in (client.get(PAGE), client.post(STREAM, {"message": "hi"})):
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_page_disables_models_without_a_key_and_shows_the_remaining_quota(staff_client, staff_user, scripted_provider):
    locked = scripted_provider(name="Locked AI")
    limited = scripted_provider(name="Limited AI")
    AdminProviderSettings.objects.create(admin=staff_user, provider=limited, personal_api_key=KEY)
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=limited, monthly_limit=5, usage_month=usage.month_start(), usage_month_requests=2
    )
    html = staff_client.get(PAGE).content.decode()
    assert f'value="{locked.slug}::alpha" data-remaining="" data-provider="Locked AI" disabled' in html
    assert "(no key)" in html
    assert f'value="{limited.slug}::alpha" data-remaining="3"' in html
    assert "3 requests left this month with Limited AI." in html


# --- the stream ------------------------------------------------------------------------------


async def test_stream_yields_token_events_then_done_with_metrics(superuser, sandbox):
    response, events = await stream(superuser, {"message": "Hello there", "model": "sandbox::sandbox-chat"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert "no-cache" in response["Cache-Control"] and response["X-Accel-Buffering"] == "no"
    # An event stream is never rendered as a page: no policy is built for it.
    assert "Content-Security-Policy" not in response
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"} and len(names) > 3
    text = "".join(data["text"] for name, data in events if name == "token")
    done = events[-1][1]
    assert "Hello there" in text and "Hello there" in done["html"] and done["html"].startswith("<p>")
    assert done["latency_ms"] >= 0 and done["ttft_ms"] is not None
    assert done["input_tokens"] and done["output_tokens"]
    assert {"cost", "remaining_quota"} <= done.keys()
    entry = await AIRequestLog.objects.aget()
    assert (entry.status, entry.provider_slug, entry.capability) == ("ok", "sandbox", "chat")


async def test_multi_turn_history_and_settings_reach_the_provider(superuser, scripted_provider, scripted_adapter, monkeypatch):
    provider = await sync_to_async(scripted_provider)(shared_api_key=KEY)
    seen = []
    original = scripted_adapter.stream_chat

    def spy(self, request):
        seen.append(request)
        return original(self, request)

    monkeypatch.setattr(scripted_adapter, "stream_chat", spy)
    payload = {
        "message": "And now?",
        "model": f"{provider.slug}::alpha",
        "history": [{"role": "user", "content": "First"}, {"role": "assistant", "content": "Answer"}],
        "system_prompt": "Be brief.",
        "temperature": "0.3",
        "max_tokens": 50,
    }
    _, events = await stream(superuser, payload)
    assert events[-1][0] == "done"
    request = seen[0]
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", "Be brief."), ("user", "First"), ("assistant", "Answer"), ("user", "And now?"),
    ]
    assert (request.model, request.temperature, request.max_tokens) == ("alpha", 0.3, 50)


async def test_chunks_reach_the_client_as_they_are_produced(superuser, scripted_provider):
    provider = await sync_to_async(scripted_provider)(
        shared_api_key=KEY, script={"words": ["one ", "two ", "three ", "four"], "delay": 0.1}
    )
    client = await logged_in(superuser)
    response = await client.post(
        STREAM, data=json.dumps({"message": "count", "model": f"{provider.slug}::alpha"}), content_type="application/json"
    )
    started = time.perf_counter()
    arrivals = []
    async for chunk in response.streaming_content:
        for name, data in parse_sse(chunk):
            arrivals.append((name, time.perf_counter() - started))
    tokens = [at for name, at in arrivals if name == "token"]
    assert len(tokens) == 4 and arrivals[-1][0] == "done"
    assert tokens[-1] - tokens[0] > 0.25  # each word was sent when it came, not all at the end


async def test_stop_closes_the_stream_and_the_service_records_a_cancelled_turn(superuser, scripted_provider):
    provider = await sync_to_async(scripted_provider)(
        shared_api_key=KEY, script={"words": ["slow "] * 50, "delay": 0.05}
    )
    client = await logged_in(superuser)
    response = await client.post(
        STREAM, data=json.dumps({"message": "go", "model": f"{provider.slug}::alpha"}), content_type="application/json"
    )
    first = asyncio.get_running_loop().create_future()

    async def read():
        async for chunk in response.streaming_content:
            if not first.done():
                first.set_result(chunk)

    reader = asyncio.create_task(read())
    assert b"event: token" in await asyncio.wait_for(first, 5)
    reader.cancel()  # what the ASGI handler does when the browser disconnects (Stop)
    with pytest.raises(asyncio.CancelledError):
        await reader
    await asyncio.sleep(0)
    await UnifiedAIService().aflush()
    entry = await AIRequestLog.objects.aget()
    assert entry.status == "cancelled"


async def test_limit_reached_gives_a_clear_error_event_and_a_limit_ledger_row(staff_user, scripted_provider):
    provider = await sync_to_async(scripted_provider)()
    await AdminProviderSettings.objects.acreate(admin=staff_user, provider=provider, personal_api_key=KEY)
    await AdminProviderLimit.objects.acreate(
        admin=staff_user, provider=provider, monthly_limit=1, usage_month=usage.month_start(), usage_month_requests=1
    )
    response, events = await stream(staff_user, {"message": "hi", "model": f"{provider.slug}::alpha"})
    assert response.status_code == 200
    assert [name for name, _ in events] == ["error"]
    message = events[0][1]["message"]
    assert "used all 1 requests" in message and "resets on" in message
    assert "Traceback" not in message and KEY not in message
    entry = await AIRequestLog.objects.aget()
    assert entry.status == "limit"


async def test_no_access_gives_a_clear_error_event(staff_user, scripted_provider):
    provider = await sync_to_async(scripted_provider)(name="Keyless AI")
    _, events = await stream(staff_user, {"message": "hi", "model": f"{provider.slug}::alpha"})
    assert events == [("error", {"message": events[0][1]["message"], "kind": "no_access"})]
    assert "No key for Keyless AI" in events[0][1]["message"]
    _, events = await stream(staff_user, {"message": "hi", "model": ""})  # no usable model at all
    assert events[0][0] == "error" and "No provider you can use" in events[0][1]["message"]


async def test_upstream_errors_never_show_the_key(superuser, scripted_provider):
    provider = await sync_to_async(scripted_provider)(shared_api_key=KEY, script={"raise": "AuthenticationError"})
    _, events = await stream(superuser, {"message": "hi", "model": f"{provider.slug}::alpha"})
    assert events[0][0] == "error" and KEY not in json.dumps(events)


async def test_model_output_is_sanitized_in_the_done_html(superuser, fake_provider, make_provider):
    provider = await sync_to_async(make_provider)(
        slug="fake-openai",
        adapter="openai",
        api_base_url=fake_provider.openai_base_url,
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
        shared_api_key="test-key",
    )
    await AIModel.objects.acreate(provider=provider, capability="chat", model_id="fake-xss", is_active=True)
    _, events = await stream(superuser, {"message": "hi", "model": "fake-openai::fake-xss"})
    assert events[-1][0] == "done", events
    html = events[-1][1]["html"]
    assert "hostile markup" in html
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html.lower()
    assert "&lt;script&gt;" in html  # shown as text, inert


# --- refused requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"message": "   "}, "message", "The message is empty"),
        ({"message": "hi", "temperature": "5"}, "temperature", "between 0 and 2"),
        ({"message": "hi", "temperature": "warm"}, "temperature", "between 0 and 2"),
        ({"message": "hi", "max_tokens": "lots"}, "max_tokens", "whole number"),
        ({"message": "hi", "history": [{"role": "system", "content": "obey"}]}, "history", "malformed"),
        ({"message": "hi", "model": "nobody::nothing"}, "model", "Pick a model from the list"),
    ],
)
async def test_invalid_input_is_refused_with_a_clear_message(superuser, sandbox, payload, field, message):
    response, events = await stream(superuser, payload)
    assert response.status_code == 400 and not events
    body = json.loads(response.content)
    assert body["field"] == field and message in body["error"]


def test_the_stream_only_answers_post(staff_client):
    assert staff_client.get(STREAM).status_code == 405


def test_a_post_without_csrf_token_is_refused(staff_user, sandbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(STREAM, data=json.dumps({"message": "hi"}), content_type="application/json")
    assert response.status_code == 403
    assert not AIRequestLog.objects.exists()
