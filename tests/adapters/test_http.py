"""The shared transport: one client per loop, one error mapping, safe retries, auth styles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from aiadmin.adapters import http as transport
from aiadmin.adapters.errors import (
    AIAdminError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    UpstreamError,
)
from aiadmin.adapters.http import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    RETRY_AFTER_CAP,
    auth_headers_and_params,
    backoff_delay,
    error_from_response,
    exception_from_transport_error,
    get_client,
    parse_retry_after,
    send_with_retries,
    set_transport_for_tests,
)

CANARY = "sk-canary-0123456789abcdef"
URL = "https://api.example.com/v1/chat/completions"


class FakeServer:
    """A MockTransport handler that plays back a script of responses or exceptions."""

    def __init__(self, *script: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def use_server() -> AsyncIterator[Callable[[FakeServer], FakeServer]]:
    def install(server: FakeServer) -> FakeServer:
        set_transport_for_tests(httpx.MockTransport(server))
        return server

    yield install
    await transport.aclose_clients()
    set_transport_for_tests(None)


async def post_with_retries(server: FakeServer, sleeps: SleepRecorder, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        return await send_with_retries(
            lambda: client.post(URL, json={"model": "m"}),
            provider=kwargs.pop("provider", "Acme"),
            sleep=sleeps,
            jitter=lambda: 1.0,
            **kwargs,
        )


def json_error(status: int, message: str = "nope", **extra: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, **extra}})


# --- Status mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, QuotaExceededError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, ProviderTimeoutError),
        (409, UpstreamError),
        (413, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitedError),
        (500, UpstreamError),
        (502, UpstreamError),
        (503, UpstreamError),
        (504, UpstreamError),
        (529, UpstreamError),
    ],
)
def test_status_codes_map_to_the_error_tree(status, expected):
    error = error_from_response(status, b'{"error": {"message": "x"}}', {}, provider="Acme")
    assert type(error) is expected
    assert error.status_code == status
    assert error.provider == "Acme"


@pytest.mark.parametrize(("status", "retryable"), [(408, True), (409, True), (429, True), (500, True), (529, True), (400, False), (401, False), (402, False), (403, False), (404, False)])
def test_only_transient_statuses_are_retryable(status, retryable):
    assert error_from_response(status, "", {}, provider="P").retryable is retryable


def test_413_says_the_request_is_too_large():
    assert "too large" in error_from_response(413, "", {}, provider="P").message


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}},
        {"error": {"message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits", "code": 429}},
        {"error": {"message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock more.", "code": 429}},
    ],
)
def test_429_about_quota_or_credits_is_quota_exceeded_not_retryable(body):
    error = error_from_response(429, body, {}, provider="P")
    assert type(error) is QuotaExceededError
    assert error.retryable is False


def test_plain_429_is_rate_limited_with_retry_after():
    error = error_from_response(429, {"error": {"message": "Slow down", "type": "rate_limit_error"}}, {"Retry-After": "7"}, provider="P")
    assert type(error) is RateLimitedError
    assert error.retry_after == 7.0
    assert "wait 7 seconds" in error.message


def test_gemini_per_minute_limit_with_retry_info_is_rate_limited():
    body = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}],
        }
    }
    error = error_from_response(429, body, {}, provider="Gemini")
    assert type(error) is RateLimitedError
    assert error.retry_after == 37.0


def test_gemini_invalid_key_under_400_is_authentication_error():
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    assert type(error_from_response(400, body, {}, provider="Gemini")) is AuthenticationError


def test_anthropic_low_credit_balance_under_400_is_quota_exceeded():
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "Your credit balance is too low to access the Anthropic API."}}
    assert type(error_from_response(400, body, {}, provider="Anthropic")) is QuotaExceededError


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error": {"message": "Invalid model gpt-9", "type": "invalid_request_error", "code": "model_not_found"}}', "Invalid model gpt-9"),
        ('{"type": "error", "error": {"type": "not_found_error", "message": "model: claude-x"}}', "model: claude-x"),
        ('{"error": {"code": 404, "message": "models/gem is not found", "status": "NOT_FOUND"}}', "models/gem is not found"),
        ('[{"error": {"code": 404, "message": "wrapped gemini", "status": "NOT_FOUND"}}]', "wrapped gemini"),
        ('{"error": "Model hf/x does not exist"}', "Model hf/x does not exist"),
        ('{"error": ["first problem", "second problem"]}', "first problem; second problem"),
        ('{"detail": "FastAPI says no"}', "FastAPI says no"),
        ("plain text failure", "plain text failure"),
        ("<html><body><h1>404 Not Found</h1><hr>nginx</body></html>", "404 Not Found nginx"),
    ],
)
def test_provider_message_is_extracted_from_common_shapes(body, expected):
    error = error_from_response(404, body.encode(), {}, provider="P")
    assert error.message.startswith(NotFoundError.default_message)
    assert error.message.endswith(expected)


def test_provider_message_is_truncated():
    error = error_from_response(400, {"error": {"message": "x" * 5000}}, {}, provider="P")
    assert len(error.message) < len(BadRequestError.default_message) + 350
    assert error.message.endswith("…")


def test_empty_body_gives_the_default_message():
    assert error_from_response(401, b"", {}, provider="P").message == AuthenticationError.default_message


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_response_is_a_configuration_error_naming_the_target_host(status):
    error = error_from_response(status, b"", {"Location": f"https://evil.example/steal?key={CANARY}"}, provider="P", secrets=(CANARY,))
    assert type(error) is ConfigurationError
    assert "redirected" in error.message and "base URL" in error.message
    assert "evil.example" in error.message
    assert CANARY not in str(error)


# --- Retry-After ------------------------------------------------------------------------------


def test_retry_after_in_seconds():
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5


def test_retry_after_as_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"Retry-After": header}, now=now) == 30.0


def test_retry_after_date_in_the_past_means_no_wait():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after({"Retry-After": "Wed, 01 Jan 2020 00:00:00 GMT"}, now=now) == 0.0


def test_retry_after_ms_takes_precedence():
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25


def test_missing_or_garbage_retry_after_is_none():
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "soon"}) is None


# --- Transport errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("t"), ProviderTimeoutError),
        (httpx.ReadTimeout("t"), ProviderTimeoutError),
        (httpx.WriteTimeout("t"), ProviderTimeoutError),
        (httpx.PoolTimeout("t"), ProviderTimeoutError),
        (httpx.ConnectError("refused"), ProviderConnectionError),
        (httpx.ReadError("reset"), ProviderConnectionError),
        (httpx.RemoteProtocolError("bad"), ProviderConnectionError),
        (httpx.ProxyError("proxy"), ProviderConnectionError),
        (httpx.UnsupportedProtocol("ftp"), ConfigurationError),
        (httpx.DecodingError("gzip"), MalformedResponseError),
    ],
)
def test_transport_errors_map_to_the_error_tree(exc, expected):
    assert type(exception_from_transport_error(exc, provider="P")) is expected


def test_transport_error_details_are_redacted():
    error = exception_from_transport_error(httpx.ConnectError(f"failed for {CANARY}"), provider="P", secrets=(CANARY,))
    assert CANARY not in str(error)


# --- Retries ----------------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap():
    assert [backoff_delay(n, jitter=lambda: 1.0) for n in range(3)] == [BACKOFF_BASE, BACKOFF_BASE * 2, BACKOFF_BASE * 4]
    assert backoff_delay(50, jitter=lambda: 1.0) == BACKOFF_MAX
    assert backoff_delay(3, jitter=lambda: 0.0) == 0.0
    assert all(0 <= backoff_delay(2) <= BACKOFF_BASE * 4 for _ in range(100))


async def test_503_503_200_succeeds_after_two_retries_with_backoff(sleeps):
    server = FakeServer(httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": True}))
    response = await post_with_retries(server, sleeps)
    assert response.json() == {"ok": True}
    assert len(server.requests) == 3
    assert sleeps.delays == [BACKOFF_BASE, BACKOFF_BASE * 2]


async def test_persistent_5xx_gives_up_after_max_retries(sleeps):
    server = FakeServer(httpx.Response(500, json={"error": {"message": "kaput"}}))
    with pytest.raises(UpstreamError, match="kaput"):
        await post_with_retries(server, sleeps, max_retries=2)
    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
async def test_client_errors_are_never_retried(status, sleeps):
    server = FakeServer(json_error(status), httpx.Response(200))
    with pytest.raises(AIAdminError):
        await post_with_retries(server, sleeps)
    assert len(server.requests) == 1
    assert sleeps.delays == []


async def test_429_insufficient_quota_is_not_retried(sleeps):
    server = FakeServer(json_error(429, "You exceeded your current quota", type="insufficient_quota"), httpx.Response(200))
    with pytest.raises(QuotaExceededError):
        await post_with_retries(server, sleeps)
    assert len(server.requests) == 1


async def test_retry_after_is_waited_exactly(sleeps):
    server = FakeServer(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200))
    await post_with_retries(server, sleeps)
    assert sleeps.delays == [3.0]


async def test_retry_after_above_cap_fails_fast_with_rate_limited_error(sleeps):
    wait = RETRY_AFTER_CAP + 40
    server = FakeServer(httpx.Response(429, headers={"Retry-After": str(int(wait))}), httpx.Response(200))
    with pytest.raises(RateLimitedError) as excinfo:
        await post_with_retries(server, sleeps)
    assert excinfo.value.retry_after == wait
    assert len(server.requests) == 1
    assert sleeps.delays == []


async def test_408_and_409_are_retried(sleeps):
    server = FakeServer(httpx.Response(408), httpx.Response(409), httpx.Response(200))
    await post_with_retries(server, sleeps)
    assert len(server.requests) == 3


async def test_connection_error_is_retried(sleeps):
    server = FakeServer(httpx.ConnectError("refused"), httpx.Response(200, json={"ok": 1}))
    response = await post_with_retries(server, sleeps)
    assert response.status_code == 200
    assert len(server.requests) == 2
    assert sleeps.delays == [BACKOFF_BASE]


async def test_connection_error_exhausting_retries_raises_connection_error_from_cause(sleeps):
    cause = httpx.ConnectError("refused")
    server = FakeServer(cause)
    with pytest.raises(ProviderConnectionError) as excinfo:
        await post_with_retries(server, sleeps)
    assert excinfo.value.__cause__ is cause
    assert len(server.requests) == 3


async def test_read_timeout_on_media_call_is_attempted_exactly_once(sleeps):
    cause = httpx.ReadTimeout("read timed out")
    server = FakeServer(cause, httpx.Response(200))
    with pytest.raises(ProviderTimeoutError) as excinfo:
        await post_with_retries(server, sleeps, media=True)
    assert len(server.requests) == 1
    assert "not retried" in excinfo.value.message
    assert "charged" in excinfo.value.message
    assert excinfo.value.retryable is False  # no layer above may retry it silently either
    assert excinfo.value.__cause__ is cause


async def test_read_timeout_on_chat_call_is_not_retried_either(sleeps):
    server = FakeServer(httpx.ReadTimeout("read timed out"), httpx.Response(200))
    with pytest.raises(ProviderTimeoutError):
        await post_with_retries(server, sleeps)
    assert len(server.requests) == 1


async def test_connect_timeout_on_media_call_is_retried_because_nothing_was_sent(sleeps):
    server = FakeServer(httpx.ConnectTimeout("connect timed out"), httpx.Response(200))
    await post_with_retries(server, sleeps, media=True)
    assert len(server.requests) == 2


async def test_streamed_error_response_is_read_mapped_and_closed(sleeps):
    server = FakeServer(json_error(401, "Incorrect API key provided"))
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:

        async def send() -> httpx.Response:
            response = await client.send(client.build_request("POST", URL), stream=True)
            responses.append(response)
            return response

        with pytest.raises(AuthenticationError, match="Incorrect API key provided"):
            await send_with_retries(send, provider="P", sleep=sleeps)
    assert responses[0].is_closed


async def test_streamed_success_is_returned_open_for_reading(sleeps):
    async def body():
        yield b"data: hi\n\n"

    server = FakeServer(httpx.Response(200, content=body()))
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        response = await send_with_retries(
            lambda: client.send(client.build_request("POST", URL), stream=True), provider="P", sleep=sleeps
        )
        try:
            assert not response.is_closed and not response.is_stream_consumed
            assert await response.aread() == b"data: hi\n\n"
        finally:
            await response.aclose()


# --- Redirects and the shared client ----------------------------------------------------------


async def test_redirect_is_not_followed_and_key_never_reaches_the_other_host(use_server, sleeps):
    server = use_server(FakeServer(httpx.Response(302, headers={"Location": "https://evil.example/steal"})))
    client = get_client()
    with pytest.raises(ConfigurationError, match="redirected"):
        await send_with_retries(
            lambda: client.post(URL, headers={"Authorization": f"Bearer {CANARY}"}), provider="P", sleep=sleeps
        )
    assert [request.url.host for request in server.requests] == ["api.example.com"]


async def test_shared_client_is_configured_from_the_named_constants(use_server):
    client = get_client()
    assert client.follow_redirects is False
    assert client.timeout.connect == transport.CONNECT_TIMEOUT
    assert client.timeout.read == transport.READ_TIMEOUT
    assert client.timeout.write == transport.WRITE_TIMEOUT
    assert client.timeout.pool == transport.POOL_TIMEOUT


async def test_get_client_returns_one_client_per_loop(use_server):
    assert get_client() is get_client()


def test_each_event_loop_gets_its_own_client_and_run_sync_closes_it():
    set_transport_for_tests(httpx.MockTransport(FakeServer(httpx.Response(200))))
    try:
        seen: list[httpx.AsyncClient] = []

        async def grab() -> httpx.AsyncClient:
            client = get_client()
            seen.append(client)
            await client.get(URL)
            return client

        first = transport.run_sync(grab)
        second = transport.run_sync(grab)
        assert first is not second
        assert first.is_closed and second.is_closed
    finally:
        set_transport_for_tests(None)


def test_get_client_outside_a_loop_is_an_error():
    with pytest.raises(RuntimeError):
        get_client()


async def test_aclose_clients_closes_and_forgets_this_loops_client(use_server):
    client = get_client()
    await transport.aclose_clients()
    assert client.is_closed
    assert get_client() is not client


# --- Secrets never leak -----------------------------------------------------------------------


def _echo_key_in_json(status: int) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        seen = request.headers.get("authorization", "") + " " + request.url.params.get("key", "")
        return httpx.Response(status, json={"error": {"message": f"Incorrect API key provided: {seen}", "type": "invalid_request_error"}})

    return respond


def _echo_key_in_text(status: int) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=f"bad header {request.headers.get('authorization')}")

    return respond


@pytest.mark.parametrize(
    "respond",
    [_echo_key_in_json(401), _echo_key_in_json(500), _echo_key_in_text(403), _echo_key_in_text(429)],
    ids=["json-401", "json-500", "text-403", "text-429"],
)
async def test_key_echoed_by_the_server_never_appears_in_the_error(respond, sleeps):
    server = FakeServer(respond)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        with pytest.raises(AIAdminError) as excinfo:
            await send_with_retries(
                lambda: client.post(URL, headers={"Authorization": f"Bearer {CANARY}"}, params={"key": CANARY}),
                provider="P",
                secrets=(CANARY,),
                sleep=sleeps,
            )
    rendered = f"{excinfo.value} {excinfo.value.message!r} {excinfo.value.args!r}"
    assert CANARY not in rendered
    assert "0123456789abcdef" not in rendered


def test_key_that_does_not_look_like_a_key_is_still_redacted_when_passed_as_secret():
    odd_key = "plainsecretvalue42"
    error = error_from_response(401, {"error": {"message": f"bad {odd_key}"}}, {}, provider="P", secrets=(odd_key,))
    assert odd_key not in str(error)


def test_key_beyond_truncation_point_is_redacted_before_cutting():
    message = "x" * 290 + CANARY
    error = error_from_response(400, {"error": {"message": message}}, {}, provider="P", secrets=(CANARY,))
    assert "sk-canary" not in str(error)


# --- Auth styles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "headers", "params"),
    [
        ({"style": "bearer"}, {"Authorization": f"Bearer {CANARY}"}, {}),
        ({}, {"Authorization": f"Bearer {CANARY}"}, {}),
        ({"style": "header", "header": "x-api-key", "prefix": ""}, {"x-api-key": CANARY}, {}),
        ({"style": "header", "header": "x-goog-api-key"}, {"x-goog-api-key": CANARY}, {}),
        ({"style": "header", "header": "Authorization", "prefix": "Token "}, {"Authorization": f"Token {CANARY}"}, {}),
        ({"style": "query", "param": "key"}, {}, {"key": CANARY}),
        ({"style": "none"}, {}, {}),
    ],
)
def test_auth_styles(auth, headers, params):
    assert auth_headers_and_params(auth, CANARY) == (headers, params)


def test_no_key_means_no_auth():
    assert auth_headers_and_params({"style": "bearer"}, None) == ({}, {})
    assert auth_headers_and_params({"style": "header", "header": "x-api-key"}, "") == ({}, {})


def test_pasted_key_with_trailing_newline_is_trimmed():
    assert auth_headers_and_params({}, CANARY + "\n") == ({"Authorization": f"Bearer {CANARY}"}, {})


def test_key_with_inner_newline_is_rejected_without_echoing_it():
    with pytest.raises(ConfigurationError) as excinfo:
        auth_headers_and_params({}, "sk-abc\r\nX-Evil: 1")
    assert "sk-abc" not in str(excinfo.value)


def test_unknown_auth_style_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        auth_headers_and_params({"style": "carrier-pigeon"}, CANARY)


async def test_transport_override_is_reset_after_each_test():
    # Runs after tests that installed a fake server: none of them may leak it.
    assert transport._test_transport is None
    await asyncio.sleep(0)
