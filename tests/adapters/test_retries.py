"""Sending with retries: only what is safe is retried, waits are honoured, bodies are closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from aiadmin.adapters import retries
from aiadmin.adapters.errors import (
    AIAdminError,
    AuthenticationError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    UpstreamError,
)
from aiadmin.adapters.retries import BACKOFF_BASE, BACKOFF_MAX, RETRY_AFTER_CAP, backoff_delay, send_with_retries
from aiadmin.adapters.shared_client import aclose_clients, get_client, set_transport_for_tests

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
    await aclose_clients()
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


# --- Redirects ----------------------------------------------------------------------------------


async def test_redirect_is_not_followed_and_key_never_reaches_the_other_host(use_server, sleeps):
    server = use_server(FakeServer(httpx.Response(302, headers={"Location": "https://evil.example/steal"})))
    client = get_client()
    with pytest.raises(ConfigurationError, match="redirected"):
        await send_with_retries(
            lambda: client.post(URL, headers={"Authorization": f"Bearer {CANARY}"}), provider="P", sleep=sleeps
        )
    assert [request.url.host for request in server.requests] == ["api.example.com"]


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


# --- retries_configure ----------------------------------------------------------------------------


@pytest.fixture
def restore_max_retries():
    before = retries.MAX_RETRIES
    yield
    retries.retries_configure(max_retries=before)


async def test_retries_configure_sets_how_often_the_next_call_retries(sleeps, restore_max_retries):
    retries.retries_configure(max_retries=0)
    server = FakeServer(httpx.Response(503), httpx.Response(200))
    with pytest.raises(UpstreamError):
        await post_with_retries(server, sleeps)
    assert len(server.requests) == 1
    retries.retries_configure(max_retries=3)
    server = FakeServer(httpx.Response(503))
    with pytest.raises(UpstreamError):
        await post_with_retries(server, sleeps)
    assert len(server.requests) == 4


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_retries_configure_refuses_a_count_that_is_not_a_whole_number(bad, restore_max_retries):
    with pytest.raises(ValueError, match="max_retries"):
        retries.retries_configure(max_retries=bad)
    assert retries.MAX_RETRIES == 2
