"""The HTTP API driven by the official ``openai`` Python SDK, sync and async, streaming
included, against aiadmin under a real uvicorn server, on the sandbox and on the fake
OpenAI-compatible provider."""

from __future__ import annotations

import asyncio
import base64
import json

import openai
import pytest

from aiadmin.adapters.sandbox import _chat_reply
from aiadmin.adapters.types import ChatMessage
from aiadmin.providers import usage
from aiadmin.conf import aiadmin_settings
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIRequestLog
from aiadmin.providers.tokens import token_create, token_revoke
from tests.api.server import (  # noqa: F401  (fixtures)
    FAKE_CHAT_MODEL,
    FAKE_PACED_MODEL,
    FAKE_SLUG,
    aiadmin_server,
    api_server,
    fake_openai_provider,
    target,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Name three lighthouses on the Atlantic coast"


def sync_client(server, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=token, max_retries=0, timeout=30)


def async_client(server, token: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.api_url, api_key=token, max_retries=0, timeout=30)


def ledger_rows(server, expected: int) -> list[AIRequestLog]:
    """The ledger's rows once ``expected`` are written, oldest first."""

    def written():
        server.ledger_flush()
        rows = list(AIRequestLog.objects.order_by("id"))
        return rows if len(rows) >= expected else None

    rows = wait_until(written)
    assert len(rows) == expected, [(row.status, row.model_name) for row in rows]
    return rows


def content_of(chunks) -> list[str]:
    return [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]


def check_streamed(chunks, target, answer: str) -> None:
    pieces = content_of(chunks)
    assert "".join(pieces) == answer
    assert len(pieces) > 1  # streamed in pieces, not in one chunk
    assert {chunk.model for chunk in chunks} == {target.model}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    finishing = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert [chunk.choices[0].finish_reason for chunk in finishing] == ["stop"]
    # include_usage: every chunk carries "usage": null but the last, which has no choices.
    *content_chunks, last = chunks
    assert all(chunk.usage is None for chunk in content_chunks)
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == len(pieces)  # both providers count a token a chunk
    assert last.usage.prompt_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


# --------------------------------------------------------------------------- success


def test_models_list_shows_the_models_the_token_may_call(api_server, target, token):
    listed = sync_client(api_server, token).models.list()
    ids = [model.id for model in listed.data]
    assert target.model in ids
    assert "sandbox/sandbox-image" in ids  # every capability is listed
    assert all(model.object == "model" for model in listed.data)
    by_id = {model.id: model for model in listed.data}
    assert by_id[target.model].owned_by == target.provider.slug


def test_models_list_async(api_server, target, token):
    async def scenario():
        async with async_client(api_server, token) as client:
            return [model.id async for model in client.models.list()]

    assert target.model in asyncio.run(scenario())


def test_chat_completion_not_streamed(api_server, target, token, issued):
    completion = sync_client(api_server, token).chat.completions.create(
        model=target.model, messages=[{"role": "user", "content": PROMPT}]
    )
    answer = target.answer(PROMPT)
    assert completion.object == "chat.completion"
    assert completion.model == target.model
    assert completion.id.startswith("chatcmpl-")
    [choice] = completion.choices
    assert choice.message.role == "assistant" and choice.message.content == answer
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.api_token_id, row.provider_slug, row.capability) == ("ok", issued.token.id, target.provider.slug, "chat")
    assert (row.input_tokens, row.output_tokens) == (completion.usage.prompt_tokens, completion.usage.completion_tokens)


def test_chat_completion_streamed_with_usage(api_server, target, token, issued):
    stream = sync_client(api_server, token).chat.completions.create(
        model=target.model,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)  # the SDK stops at [DONE]; an error event would raise here
    check_streamed(chunks, target, target.answer(PROMPT))
    assert stream.response.is_closed
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.api_token_id) == ("ok", issued.token.id)
    assert row.output_tokens == chunks[-1].usage.completion_tokens
    assert row.time_to_first_token_ms is not None


def test_a_stream_ends_with_done_after_the_usage_chunk(api_server, target, token):
    """The SDK ends its iteration at [DONE] but also when a stream is merely cut: the raw
    events prove the stream really ended with it."""
    with sync_client(api_server, token).chat.completions.with_streaming_response.create(
        model=target.model, messages=[{"role": "user", "content": PROMPT}], stream=True,
        stream_options={"include_usage": True},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]" and events.count("data: [DONE]") == 1
    assert json.loads(events[-2].removeprefix("data: "))["usage"]["total_tokens"] > 0


def test_chat_completion_streamed_without_usage_has_no_usage_chunk(api_server, target, token):
    with sync_client(api_server, token).chat.completions.create(
        model=target.model, messages=[{"role": "user", "content": PROMPT}], stream=True
    ) as stream:
        chunks = list(stream)
    assert "".join(content_of(chunks)) == target.answer(PROMPT)
    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


def test_chat_completion_async_streamed_and_not(api_server, target, token, issued):
    history = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": PROMPT},
    ]

    async def scenario():
        async with async_client(api_server, token) as client:
            whole = await client.chat.completions.create(model=target.model, messages=history)
            await asyncio.to_thread(api_server.ledger_flush)  # see the monthly limit test
            stream = await client.chat.completions.create(
                model=target.model, messages=history, stream=True, stream_options={"include_usage": True}
            )
            chunks = [chunk async for chunk in stream]
            return whole, chunks

    whole, chunks = asyncio.run(scenario())
    answer = whole.choices[0].message.content
    if target.fake is not None:
        assert answer == target.answer(PROMPT)  # the fake echoes the last user message
    else:
        assert answer and answer != target.answer(PROMPT)  # the sandbox's reply depends on the whole history
    check_streamed(chunks, target, answer)
    rows = ledger_rows(api_server, 2)
    assert {(row.status, row.api_token_id) for row in rows} == {("ok", issued.token.id)}
    if target.fake is not None:
        sent = target.fake.requests_to("/chat/completions")[-1].json()
        assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]


def test_many_async_streams_at_once(api_server, target, token):
    prompts = [f"{PROMPT}, number {index}" for index in range(8)]

    async def one(client, prompt):
        stream = await client.chat.completions.create(
            model=target.model, messages=[{"role": "user", "content": prompt}], stream=True,
            stream_options={"include_usage": True},
        )
        return [chunk async for chunk in stream]

    async def scenario():
        async with async_client(api_server, token) as client:
            return await asyncio.gather(*(one(client, prompt) for prompt in prompts))

    for prompt, chunks in zip(prompts, asyncio.run(scenario()), strict=True):
        check_streamed(chunks, target, target.answer(prompt))


# --------------------------------------------------------------------------- errors


def test_a_bad_token_is_an_authentication_error(api_server, target):
    client = sync_client(api_server, "aia_0123456789_" + "x" * 40)
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.chat.completions.create(model=target.model, messages=[{"role": "user", "content": PROMPT}])
    assert excinfo.value.status_code == 401
    assert excinfo.value.body["message"] and "x" * 40 not in excinfo.value.message
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    assert not AIRequestLog.objects.exists()


def test_an_unknown_model_is_not_found_and_the_message_lists_the_ids_that_work(api_server, target, token):
    with pytest.raises(openai.NotFoundError) as excinfo:
        sync_client(api_server, token).chat.completions.create(
            model=f"{target.provider.slug}/no-such-model", messages=[{"role": "user", "content": PROMPT}]
        )
    err = excinfo.value
    assert err.status_code == 404 and err.code == "model_not_found" and err.param == "model"
    assert f"{target.provider.slug}/no-such-model" in err.message
    assert target.model in err.message and "sandbox/sandbox-chat" in err.message
    assert "sandbox/sandbox-image" not in err.message  # only ids that work for chat


def test_a_token_scoped_to_another_capability_is_a_permission_error(api_server, target, staff_user):
    images_only = token_create(admin=staff_user, name="images only", capabilities=["image"]).plaintext
    client = sync_client(api_server, images_only)
    with pytest.raises(openai.PermissionDeniedError) as excinfo:
        client.chat.completions.create(model=target.model, messages=[{"role": "user", "content": PROMPT}])
    assert excinfo.value.status_code == 403 and excinfo.value.code == "outside_token_scope"
    assert target.model not in [model.id for model in client.models.list().data]
    assert not AIRequestLog.objects.exists()


def test_a_token_scoped_to_another_provider_is_a_permission_error(api_server, target, staff_user, make_provider):
    elsewhere = make_provider(slug="elsewhere", name="Elsewhere")
    scoped = token_create(admin=staff_user, name="elsewhere only", providers=[elsewhere.slug]).plaintext
    with pytest.raises(openai.PermissionDeniedError) as excinfo:
        sync_client(api_server, scoped).chat.completions.create(
            model=target.model, messages=[{"role": "user", "content": PROMPT}]
        )
    assert excinfo.value.status_code == 403 and excinfo.value.code == "outside_token_scope"
    assert target.provider.name in excinfo.value.message


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"n": 2}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ],
)
def test_a_bad_parameter_is_a_bad_request_naming_it(api_server, target, token, arguments, param):
    call = {"model": target.model, "messages": [{"role": "user", "content": PROMPT}], **arguments}
    with pytest.raises(openai.BadRequestError) as excinfo:
        sync_client(api_server, token).chat.completions.create(**call)
    assert excinfo.value.status_code == 400
    assert excinfo.value.param == param
    assert not AIRequestLog.objects.exists()


def test_logprobs_are_refused_not_ignored(api_server, sandbox, token):
    with pytest.raises(openai.BadRequestError) as excinfo:
        sync_client(api_server, token).chat.completions.create(
            model="sandbox/sandbox-chat", messages=[{"role": "user", "content": PROMPT}], logprobs=True, top_logprobs=2
        )
    assert excinfo.value.param == "logprobs"


@pytest.mark.parametrize("streamed", [False, True])
def test_stop_sequences_cut_the_answer(api_server, target, token, streamed):
    answer = target.answer(PROMPT)
    stop = answer.split()[3]  # a word in the middle of the answer
    client = sync_client(api_server, token)
    call = {"model": target.model, "messages": [{"role": "user", "content": PROMPT}], "stop": [stop]}
    if streamed:
        chunks = list(client.chat.completions.create(**call, stream=True))
        text = "".join(content_of(chunks))
        reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        completion = client.chat.completions.create(**call)
        text, reasons = completion.choices[0].message.content, [completion.choices[0].finish_reason]
    assert reasons == ["stop"]
    if target.fake is None:
        assert text == answer[: answer.index(stop)]  # the sandbox cuts its own answer
    else:  # the provider cuts it (the fake ignores stop): aiadmin passed it on
        assert target.fake.requests_to("/chat/completions")[-1].json()["stop"] == [stop]


def test_a_bad_parameter_async_and_streamed(api_server, target, token):
    async def scenario():
        async with async_client(api_server, token) as client:
            await client.chat.completions.create(
                model=target.model, messages=[{"role": "user", "content": PROMPT}], temperature=-1, stream=True
            )

    with pytest.raises(openai.BadRequestError) as excinfo:
        asyncio.run(scenario())
    assert excinfo.value.param == "temperature"


def test_the_monthly_limit_reached_is_a_rate_limit_error_with_retry_after(api_server, target, token, issued, staff_user):
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=target.provider, monthly_limit=1, usage_month=usage.month_start()
    )
    client = sync_client(api_server, token)
    client.chat.completions.create(model=target.model, messages=[{"role": "user", "content": PROMPT}])
    for number, streamed in enumerate((False, True), start=1):
        # One call at a time, its row written before the next: an in-memory SQLite test
        # database fails a read beside a write ("table is locked") instead of waiting.
        ledger_rows(api_server, number)
        with pytest.raises(openai.RateLimitError) as excinfo:
            client.chat.completions.create(
                model=target.model, messages=[{"role": "user", "content": PROMPT}], stream=streamed
            )
        err = excinfo.value
        assert err.status_code == 429 and err.code == "monthly_limit_reached"
        retry_after = int(err.response.headers["retry-after"])
        assert 0 < retry_after <= usage.month_seconds_left() + 1
        assert err.response.headers["x-should-retry"] == "false"
    rows = ledger_rows(api_server, 3)
    assert [row.status for row in rows] == ["ok", "limit", "limit"]
    assert {row.api_token_id for row in rows} == {issued.token.id}
    assert AdminProviderLimit.objects.get().usage_month_requests == 1


def test_the_monthly_limit_async(api_server, target, token, staff_user):
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=target.provider, monthly_limit=0, usage_month=usage.month_start()
    )

    async def scenario():
        async with async_client(api_server, token) as client:
            stream = await client.chat.completions.create(
                model=target.model, messages=[{"role": "user", "content": PROMPT}], stream=True
            )
            return [chunk async for chunk in stream]

    with pytest.raises(openai.RateLimitError) as excinfo:
        asyncio.run(scenario())
    assert "retry-after" in excinfo.value.response.headers


# --------------------------------------------------------------------------- a client that leaves


def test_a_stream_the_client_closes_early_is_cancelled_and_the_upstream_call_closed(
    api_server, fake_provider, make_provider, sandbox, token, issued
):
    provider = fake_openai_provider(make_provider, fake_provider)
    AIModel.objects.create(provider=provider, capability="chat", model_id=FAKE_PACED_MODEL, is_active=True)
    stream = sync_client(api_server, token).chat.completions.create(
        model=f"{FAKE_SLUG}/{FAKE_PACED_MODEL}", messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    received = []
    for chunk in stream:
        received += content_of([chunk])
        if len(received) >= 3:
            break
    stream.close()  # closes the HTTP response: the connection goes away mid-stream
    upstream = fake_provider.wait_for(lambda request: FAKE_PACED_MODEL in (request.model or "") and request.client_disconnected)
    assert upstream.finished_at is not None
    sent = upstream.finished_at - upstream.started_at
    assert sent < 3.0  # 40 chunks at 100 ms would take 4 s: it was cut, not run to the end
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.api_token_id, row.model_name) == ("cancelled", issued.token.id, FAKE_PACED_MODEL)


def test_an_async_stream_the_client_closes_early_is_cancelled(api_server, fake_provider, make_provider, sandbox, token, issued):
    provider = fake_openai_provider(make_provider, fake_provider)
    AIModel.objects.create(provider=provider, capability="chat", model_id=FAKE_PACED_MODEL, is_active=True)

    async def scenario():
        async with async_client(api_server, token) as client:
            stream = await client.chat.completions.create(
                model=f"{FAKE_SLUG}/{FAKE_PACED_MODEL}", messages=[{"role": "user", "content": PROMPT}], stream=True
            )
            async for chunk in stream:
                if content_of([chunk]):
                    break
            await stream.close()

    asyncio.run(scenario())
    fake_provider.wait_for(lambda request: FAKE_PACED_MODEL in (request.model or "") and request.client_disconnected)
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.api_token_id) == ("cancelled", issued.token.id)


# --------------------------------------------------------------------------- the provider fails


@pytest.fixture
def failing(api_server, fake_provider, make_provider, sandbox):
    """Selects, on a fake provider row, a model that fails as its id says (a token can call
    the selected model of a provider, and the admin's preferred one)."""
    fake_provider.configure(retry_after="0")  # the service's own retry of a 429 waits no time
    provider = fake_openai_provider(make_provider, fake_provider)

    def select(model_id: str) -> str:
        AIModel.objects.create(provider=provider, capability="chat", model_id=model_id, is_active=True)
        return f"{FAKE_SLUG}/{model_id}"

    return select


@pytest.mark.parametrize(
    ("model", "exception", "status", "code"),
    [
        # The provider refused the organisation's key: the caller's token is fine, so not a 401.
        ("fake-unauthorized", openai.InternalServerError, 502, "upstream_auth_failed"),
        ("fake-ratelimited", openai.RateLimitError, 429, "upstream_rate_limited"),
        ("fake-error500", openai.InternalServerError, 502, "upstream_error"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_provider_failures_are_the_sdk_exceptions_of_their_status(failing, api_server, token, issued, model, exception, status, code, streamed):
    with pytest.raises(exception) as excinfo:
        sync_client(api_server, token).chat.completions.create(
            model=failing(model), messages=[{"role": "user", "content": PROMPT}], stream=streamed
        )
    err = excinfo.value
    assert (err.status_code, err.code) == (status, code)
    assert "test-key" not in err.message and "test-key" not in err.response.text  # the provider's key never shows
    if status == 429:
        assert int(err.response.headers["retry-after"]) >= 1
    rows = ledger_rows(api_server, 1)
    assert rows[0].status not in ("ok", "cancelled") and rows[0].api_token_id == issued.token.id


def test_an_error_mid_stream_is_raised_by_the_sdk_after_the_first_chunks(failing, api_server, token, issued):
    received = []
    stream = sync_client(api_server, token).chat.completions.create(
        model=failing("fake-midstream-error"), messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    with pytest.raises(openai.APIError) as excinfo:
        for chunk in stream:
            received += content_of([chunk])
    assert received  # the status was 200 and text had arrived
    assert excinfo.value.message and "test-key" not in excinfo.value.message
    [row] = ledger_rows(api_server, 1)
    assert row.status not in ("ok", "cancelled") and row.api_token_id == issued.token.id


def test_an_answer_cut_at_max_tokens_finishes_with_length_streamed_or_not(api_server, token, fake_provider, make_provider, sandbox):
    provider = fake_openai_provider(make_provider, fake_provider)
    AIModel.objects.create(provider=provider, capability="chat", model_id=FAKE_CHAT_MODEL, is_active=True)
    client = sync_client(api_server, token)
    call = {"model": f"{FAKE_SLUG}/{FAKE_CHAT_MODEL}", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 3}
    whole = client.chat.completions.create(**call)
    assert whole.choices[0].finish_reason == "length"
    assert whole.usage.completion_tokens == 3
    chunks = list(client.chat.completions.create(**call, stream=True, stream_options={"include_usage": True}))
    assert "".join(content_of(chunks)) == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_client_that_times_out_before_the_first_token_cancels_the_call(api_server, token, issued, fake_provider, make_provider, sandbox, streamed):
    provider = fake_openai_provider(make_provider, fake_provider)
    AIModel.objects.create(provider=provider, capability="chat", model_id="fake-slow-4000ms", is_active=True)
    client = openai.OpenAI(base_url=api_server.api_url, api_key=token, max_retries=0, timeout=0.5)
    with pytest.raises(openai.APITimeoutError):
        response = client.chat.completions.create(
            model=f"{FAKE_SLUG}/fake-slow-4000ms", messages=[{"role": "user", "content": PROMPT}], stream=streamed
        )
        list(response) if streamed else None
    upstream = fake_provider.wait_for(lambda request: "slow" in (request.model or "") and request.client_disconnected)
    assert upstream.finished_at - upstream.started_at < 3.0
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.api_token_id) == ("cancelled", issued.token.id)


def test_a_revoked_token_stops_working_at_once(api_server, sandbox, token, issued):
    client = sync_client(api_server, token)
    assert client.models.list().data  # checked, and kept in the server's token cache
    token_revoke(token=issued.token)
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.models.list()
    assert excinfo.value.code == "token_revoked"


def test_too_many_bad_tokens_from_one_address_get_429_even_with_a_good_token(api_server, sandbox, token):
    bad = sync_client(api_server, "aia_0123456789_" + "z" * 40)
    for _ in range(aiadmin_settings.API_AUTH_FAILURES_PER_MINUTE):
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
    with pytest.raises(openai.RateLimitError) as excinfo:
        sync_client(api_server, token).chat.completions.create(
            model="sandbox/sandbox-chat", messages=[{"role": "user", "content": PROMPT}]
        )
    assert excinfo.value.code == "too_many_failed_attempts"
    assert excinfo.value.response.headers["retry-after"] == "60"


def test_a_persian_prompt_streams_back_intact(api_server, sandbox, token):
    prompt = "سه فانوس دریایی قدیمی را نام ببر"
    chunks = list(
        sync_client(api_server, token).chat.completions.create(
            model="sandbox/sandbox-chat", messages=[{"role": "user", "content": prompt}], stream=True
        )
    )
    text = "".join(content_of(chunks))
    assert text == _chat_reply([ChatMessage("user", prompt)])
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)  # the sandbox answers in the prompt's script


# --------------------------------------------------------------------------- images, audio, content


@pytest.fixture(params=["sandbox", "fake"])
def media(request, sandbox):
    """``{capability: public model id}`` for images, speech, transcription and content, on
    the sandbox or on the fake provider (one active audio model per provider: speech's)."""
    if request.param == "sandbox":
        return {
            "provider": sandbox, "image": "sandbox/sandbox-image", "speech": "sandbox/sandbox-voice",
            "transcription": "sandbox/sandbox-voice", "content": "sandbox/sandbox-writer", "fake": None,
        }
    fake = request.getfixturevalue("fake_provider")
    provider = fake_openai_provider(request.getfixturevalue("make_provider"), fake)
    for capability, model_id in {"image": "gpt-image-1", "audio": "tts-1", "content": "gpt-4.1"}.items():
        AIModel.objects.create(provider=provider, capability=capability, model_id=model_id, is_active=True)
    # A transcription model the admin prefers beside the selected speech model.
    AdminProviderSettings.objects.create(
        admin=request.getfixturevalue("staff_user"), provider=provider, preferred_models={"audio": "whisper-1"}
    )
    return {
        "provider": provider, "image": f"{FAKE_SLUG}/gpt-image-1", "speech": f"{FAKE_SLUG}/tts-1",
        "transcription": f"{FAKE_SLUG}/whisper-1", "content": f"{FAKE_SLUG}/gpt-4.1", "fake": fake,
    }


def test_images_generate_b64(api_server, media, token, issued):
    result = sync_client(api_server, token).images.generate(
        model=media["image"], prompt="a lighthouse at dusk", n=2, size="256x256", response_format="b64_json"
    )
    assert len(result.data) == 2
    for image in result.data:
        assert base64.b64decode(image.b64_json).startswith(b"\x89PNG")
    [row] = ledger_rows(api_server, 1)
    assert (row.status, row.capability, row.api_token_id) == ("ok", "image", issued.token.id)


def test_images_generate_async(api_server, media, token):
    async def scenario():
        async with async_client(api_server, token) as client:
            return await client.images.generate(model=media["image"], prompt="a lighthouse", size="256x256")

    result = asyncio.run(scenario())
    assert base64.b64decode(result.data[0].b64_json).startswith(b"\x89PNG")


def test_images_bad_parameter_and_scope(api_server, media, token, staff_user):
    with pytest.raises(openai.BadRequestError) as excinfo:
        sync_client(api_server, token).images.generate(model=media["image"], prompt="a lighthouse", n=50)
    assert excinfo.value.param == "n"
    chat_only = token_create(admin=staff_user, name="chat only", capabilities=["chat"]).plaintext
    with pytest.raises(openai.PermissionDeniedError):
        sync_client(api_server, chat_only).images.generate(model=media["image"], prompt="a lighthouse")


def test_speech_then_transcription(api_server, media, token, issued):
    client = sync_client(api_server, token)
    speech = client.audio.speech.create(model=media["speech"], voice="alloy", input="Hello from the lighthouse", response_format="wav")
    audio = speech.read()
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    ledger_rows(api_server, 1)  # one call at a time on SQLite (see the monthly limit test)
    transcript = client.audio.transcriptions.create(model=media["transcription"], file=("hello.wav", audio, "audio/wav"))
    assert transcript.text
    ledger_rows(api_server, 2)
    as_text = client.audio.transcriptions.create(
        model=media["transcription"], file=("hello.wav", audio, "audio/wav"), response_format="text"
    )
    assert as_text.strip() == transcript.text.strip()
    rows = ledger_rows(api_server, 3)
    assert {(row.status, row.capability, row.api_token_id) for row in rows} == {("ok", "audio", issued.token.id)}


def test_speech_and_transcription_async(api_server, media, token):
    async def scenario():
        async with async_client(api_server, token) as client:
            speech = await client.audio.speech.create(model=media["speech"], voice="alloy", input="Hello", response_format="wav")
            audio = await speech.aread()
            await asyncio.to_thread(api_server.ledger_flush)
            transcript = await client.audio.transcriptions.create(model=media["transcription"], file=("hello.wav", audio, "audio/wav"))
            return audio, transcript

    audio, transcript = asyncio.run(scenario())
    assert audio[:4] == b"RIFF" and transcript.text


def test_a_transcription_upload_that_is_not_audio_is_a_bad_request(api_server, media, token):
    with pytest.raises(openai.BadRequestError):
        sync_client(api_server, token).audio.transcriptions.create(
            model=media["transcription"], file=("notes.wav", b"these are not audio bytes at all", "audio/wav")
        )


def test_content_generation_whole_and_streamed(api_server, media, token, issued):
    client = sync_client(api_server, token)
    body = {"model": media["content"], "topic": "Lighthouses of Brittany", "word_count": 120, "keywords": ["Brittany"]}
    article = client.post("/content/generations", body=body, cast_to=object)
    assert article["object"] == "content.generation" and article["model"] == media["content"]
    assert article["markdown"] and article["usage"]["total_tokens"] > 0
    ledger_rows(api_server, 1)
    stream = client.post(
        "/content/generations", body={**body, "stream": True}, cast_to=object, stream=True, stream_cls=openai.Stream[object]
    )
    events = list(stream)
    chunks, final = events[:-1], events[-1]
    assert chunks and all(chunk["object"] == "content.generation.chunk" for chunk in chunks)
    assert final["object"] == "content.generation"
    assert final["markdown"] == "".join(chunk["delta"]["content"] for chunk in chunks).strip()
    rows = ledger_rows(api_server, 2)
    assert {(row.status, row.capability, row.api_token_id) for row in rows} == {("ok", "content", issued.token.id)}


def test_content_generation_errors_are_sdk_exceptions(api_server, media, token):
    client = sync_client(api_server, token)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.post("/content/generations", body={"model": media["content"], "topic": ""}, cast_to=object)
    assert excinfo.value.param == "topic"
    with pytest.raises(openai.NotFoundError):
        client.post("/content/generations", body={"model": "sandbox/no-such-writer", "topic": "Tea"}, cast_to=object)


def test_an_endpoint_aiadmin_does_not_serve_is_a_not_found_error_in_openai_s_body(api_server, sandbox, token):
    client = sync_client(api_server, token)
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.embeddings.create(model="sandbox/sandbox-chat", input="lighthouse")
    assert isinstance(excinfo.value.body, dict) and excinfo.value.message  # JSON, not an HTML page
    assert "/v1/chat/completions" in excinfo.value.message
