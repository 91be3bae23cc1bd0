"""POST /v1/chat/completions: OpenAI's shapes, model names, scopes, limits and errors."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIRequestLog
from aiadmin.providers.tokens import token_create
from aiadmin.unified.ledger import ledger_flush

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hi"}]


async def post(client, auth, body):
    response = await client.post("/v1/chat/completions", body, content_type="application/json", headers=auth)
    if not response.streaming:
        # The test database (in-memory SQLite) refuses a second writer instead of waiting:
        # let the call's ledger row be written before the next call reads.
        await ledger_flush()
    return response


def error_of(response) -> dict:
    return json.loads(response.content)["error"]


async def stream_events(response) -> list:
    raw = b"".join([chunk async for chunk in response.streaming_content]).decode()
    await ledger_flush()
    assert raw.endswith("\n\n")
    events = [block.removeprefix("data: ") for block in raw.strip().split("\n\n")]
    return [event if event == "[DONE]" else json.loads(event) for event in events]


async def ledger():
    await ledger_flush()  # rows are written just after the answer, off the caller's path
    return await sync_to_async(lambda: list(AIRequestLog.objects.order_by("id").values()))()


async def test_a_completion_has_openais_shape_and_is_in_the_ledger_under_its_token(async_client, auth, issued):
    response = await post(async_client, auth, {"model": "sandbox/sandbox-chat", "messages": HELLO, "max_tokens": 50})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "sandbox/sandbox-chat" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and "sandbox" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    [row] = await ledger()
    assert row["api_token_id"] == issued.token.pk and row["status"] == "ok" and row["capability"] == "chat"


async def test_a_stream_sends_chunks_then_usage_then_done(async_client, auth, issued):
    response = await post(
        async_client, auth,
        {"model": "sandbox/sandbox-chat", "messages": HELLO, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    events = await stream_events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["model"] == "sandbox/sandbox-chat" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert "sandbox" in text
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    [row] = await ledger()
    assert row["api_token_id"] == issued.token.pk and row["status"] == "ok"


async def test_a_stream_without_include_usage_has_no_usage_chunk(async_client, auth):
    events = await stream_events(await post(async_client, auth, {"model": "sandbox/sandbox-chat", "messages": HELLO, "stream": True}))
    assert events[-1] == "[DONE]"
    assert all("usage" not in chunk and chunk["choices"] for chunk in events[:-1])


@pytest.mark.parametrize("model", [None, "", "default", "chat", "sandbox", "sandbox/default", "sandbox-chat", "sandbox/sandbox-chat"])
async def test_a_default_or_short_model_name_resolves_as_the_service_does(async_client, auth, model):
    body = {"messages": HELLO} if model is None else {"model": model, "messages": HELLO}
    response = await post(async_client, auth, body)
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["model"] == "sandbox/sandbox-chat"


async def test_the_admins_preferred_model_is_the_default(async_client, auth, staff_user, sandbox):
    await sync_to_async(AdminProviderSettings.objects.create)(
        admin=staff_user, provider=sandbox, preferred_models={"chat": "sandbox-writer"}
    )
    response = await post(async_client, auth, {"messages": HELLO})
    assert json.loads(response.content)["model"] == "sandbox/sandbox-writer"


async def test_an_unknown_model_is_a_404_listing_the_ids_that_work(async_client, auth):
    response = await post(async_client, auth, {"model": "openai/gpt-9", "messages": HELLO})
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "sandbox/sandbox-chat" in error["message"]
    assert response["x-should-retry"] == "false"


async def test_a_model_of_a_provider_outside_the_tokens_scope_is_a_403(async_client, staff_user, sandbox, make_provider):
    other = await sync_to_async(make_provider)(slug="other", name="Other", api_base_url="", sort_order=0)
    await sync_to_async(AIModel.objects.create)(provider=other, capability="chat", model_id="other-chat", is_active=True)
    issued = await sync_to_async(token_create)(admin=staff_user, name="scoped", providers=["sandbox"])
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    refused = await post(async_client, headers, {"model": "other/other-chat", "messages": HELLO})
    assert refused.status_code == 403 and error_of(refused)["code"] == "outside_token_scope"
    # The default skips the provider outside the scope, though it comes first by sort order.
    default = await post(async_client, headers, {"messages": HELLO})
    assert json.loads(default.content)["model"] == "sandbox/sandbox-chat"
    models = json.loads((await async_client.get("/v1/models", headers=headers)).content)
    assert {m["id"] for m in models["data"]} == {
        "sandbox/sandbox-chat", "sandbox/sandbox-writer", "sandbox/sandbox-image", "sandbox/sandbox-voice"
    }


async def test_a_token_scoped_to_other_capabilities_gets_a_403(async_client, staff_user, sandbox):
    issued = await sync_to_async(token_create)(admin=staff_user, name="images", capabilities=["image"])
    response = await post(async_client, {"Authorization": f"Bearer {issued.plaintext}"}, {"messages": HELLO})
    assert response.status_code == 403 and error_of(response)["code"] == "outside_token_scope"
    models = json.loads((await async_client.get("/v1/models", headers={"Authorization": f"Bearer {issued.plaintext}"})).content)
    assert [m["id"] for m in models["data"]] == ["sandbox/sandbox-image"]


async def test_a_provider_the_admin_has_no_key_for_is_a_403(async_client, auth, make_provider):
    keyed = await sync_to_async(make_provider)(slug="keyed", name="Keyed", adapter="openai", config={"auth": {"style": "bearer"}})
    await sync_to_async(AIModel.objects.create)(provider=keyed, capability="chat", model_id="gpt-4o", is_active=True)
    response = await post(async_client, auth, {"model": "keyed/gpt-4o", "messages": HELLO})
    assert response.status_code == 403 and error_of(response)["code"] == "no_access"
    models = json.loads((await async_client.get("/v1/models", headers=auth)).content)
    assert "keyed/gpt-4o" not in {m["id"] for m in models["data"]}


async def test_the_monthly_limit_is_a_429_with_retry_after_until_the_month_ends(async_client, auth, staff_user, sandbox):
    await sync_to_async(AdminProviderLimit.objects.create)(admin=staff_user, provider=sandbox, monthly_limit=1)
    assert (await post(async_client, auth, {"messages": HELLO})).status_code == 200
    refused = await post(async_client, auth, {"messages": HELLO})
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "monthly_limit_reached" and error_of(refused)["type"] == "insufficient_quota"
    assert int(refused["Retry-After"]) > 0 and refused["x-should-retry"] == "false"
    refused_stream = await post(async_client, auth, {"messages": HELLO, "stream": True})
    assert refused_stream.status_code == 429  # refused before the stream starts: a real status


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, "messages[1].role"),
        ({"messages": HELLO, "temperature": 3}, "temperature"),
        ({"messages": HELLO, "temperature": "hot"}, "temperature"),
        ({"messages": HELLO, "max_tokens": 0}, "max_tokens"),
        ({"messages": HELLO, "max_completion_tokens": 1.5}, "max_completion_tokens"),
        ({"messages": HELLO, "n": 2}, "n"),
        ({"messages": HELLO, "tools": [{"type": "function"}]}, "tools"),
        ({"messages": HELLO, "response_format": {"type": "json_schema"}}, "response_format"),
        ({"messages": HELLO, "stream": "yes"}, "stream"),
        ({"messages": HELLO, "model": 7}, "model"),
    ],
)
async def test_a_bad_request_is_a_400_naming_the_parameter(async_client, auth, body, param):
    response = await post(async_client, auth, body)
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == param and error_of(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"a": NaN}', b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_400(async_client, auth, raw):
    response = await async_client.post("/v1/chat/completions", raw, content_type="application/json", headers=auth)
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


async def test_text_parts_and_the_developer_role_are_taken(async_client, auth):
    body = {
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "there"}]},
        ]
    }
    response = await post(async_client, auth, body)
    assert response.status_code == 200
    # The sandbox quotes the user's message (whitespace folded): both text parts reached it.
    assert "\"hello there\"" in json.loads(response.content)["choices"][0]["message"]["content"]


UPSTREAM = {
    "AuthenticationError": 502,
    "PermissionDeniedError": 403,
    "NotFoundError": 404,
    "RateLimitedError": 429,
    "QuotaExceededError": 429,
    "BadRequestError": 400,
    "UpstreamError": 502,
    "MalformedResponseError": 502,
    "ProviderConnectionError": 503,
    "ProviderTimeoutError": 504,
}
CANARY = "sk-canary-api-0a1b2c3d4e5f60718293"


@pytest.mark.parametrize("kind, status", UPSTREAM.items())
async def test_upstream_errors_get_the_status_the_sdks_map_and_no_key(async_client, auth, staff_user, scripted_provider, kind, status):
    provider = await sync_to_async(scripted_provider)(script={"raise": kind}, slug="scripted", sort_order=0)
    await sync_to_async(AdminProviderSettings.objects.create)(admin=staff_user, provider=provider, personal_api_key=CANARY)
    response = await post(async_client, auth, {"model": "scripted/alpha", "messages": HELLO})
    assert response.status_code == status
    assert CANARY not in response.content.decode()
    if kind == "RateLimitedError":
        assert int(response["Retry-After"]) >= 1
    streamed = await post(async_client, auth, {"model": "scripted/alpha", "messages": HELLO, "stream": True})
    assert streamed.status_code == status and CANARY not in streamed.content.decode()


async def test_an_error_after_the_stream_started_is_an_error_event_without_done(async_client, auth, staff_user, scripted_provider, settings):
    provider = await sync_to_async(scripted_provider)(script={"words": ["ab", "cd", "ef"]}, slug="scripted", sort_order=0)
    await sync_to_async(AdminProviderSettings.objects.create)(admin=staff_user, provider=provider, personal_api_key=CANARY)
    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), "STREAM_MAX_CHARS": 3}
    response = await post(async_client, auth, {"model": "scripted/alpha", "messages": HELLO, "stream": True})
    events = await stream_events(response)
    assert response.status_code == 200
    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "stream_limit_reached"


async def test_stop_sequences_end_the_answer_before_them_streamed_or_not(async_client, auth):
    full = json.loads((await post(async_client, auth, {"messages": HELLO})).content)["choices"][0]["message"]["content"]
    stop = full.split()[3]
    cut = json.loads((await post(async_client, auth, {"messages": HELLO, "stop": [stop]})).content)
    assert cut["choices"][0]["message"]["content"].strip() == full[: full.index(stop)].strip()
    events = await stream_events(await post(async_client, auth, {"messages": HELLO, "stop": stop, "stream": True}))
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in events[:-1] if c["choices"])
    assert stop not in streamed and full.startswith(streamed.rstrip())


async def test_a_stream_cut_at_max_tokens_finishes_with_length(async_client, auth):
    events = await stream_events(await post(async_client, auth, {"messages": HELLO, "max_tokens": 2, "stream": True}))
    assert events[-2]["choices"][0]["finish_reason"] == "length"
    whole = json.loads((await post(async_client, auth, {"messages": HELLO, "max_tokens": 2})).content)
    assert whole["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": [""]}, "stop"),
        ({"stop": 5}, "stop"),
        ({"logprobs": True}, "logprobs"),
    ],
)
async def test_stop_and_logprobs_are_checked_not_ignored(async_client, auth, body, param):
    response = await post(async_client, auth, {"messages": HELLO, **body})
    assert response.status_code == 400 and error_of(response)["param"] == param
