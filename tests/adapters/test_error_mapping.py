"""Status codes, provider error bodies and transport exceptions -> the error tree."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from aiadmin.adapters.error_mapping import error_from_response, exception_from_transport_error, parse_retry_after
from aiadmin.adapters.errors import (
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

CANARY = "sk-canary-0123456789abcdef"


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


# --- Secrets never leak -----------------------------------------------------------------------


def test_key_that_does_not_look_like_a_key_is_still_redacted_when_passed_as_secret():
    odd_key = "plainsecretvalue42"
    error = error_from_response(401, {"error": {"message": f"bad {odd_key}"}}, {}, provider="P", secrets=(odd_key,))
    assert odd_key not in str(error)


def test_key_beyond_truncation_point_is_redacted_before_cutting():
    message = "x" * 290 + CANARY
    error = error_from_response(400, {"error": {"message": message}}, {}, provider="P", secrets=(CANARY,))
    assert "sk-canary" not in str(error)
