"""The HTTP API takes a bearer token and nothing else, throttles guessing, and keeps CORS off
unless configured."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient

from aiadmin.providers.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = {"model": "sandbox/sandbox-chat", "messages": [{"role": "user", "content": "hi"}]}


def error_of(response) -> dict:
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


async def test_a_call_without_a_token_is_a_401_in_openais_error_body(async_client, sandbox):
    response = await async_client.get("/v1/models")
    assert response.status_code == 401
    assert error_of(response)["code"] == "missing_api_key"
    assert "Authorization header, as “Bearer <token>”" in error_of(response)["message"]


@pytest.mark.parametrize("header", ["Basic abc", "Bearer ", "Token aia_x", "aia_abc"])
async def test_a_malformed_authorization_header_is_a_401(async_client, sandbox, header):
    response = await async_client.get("/v1/models", headers={"Authorization": header})
    assert response.status_code == 401 and error_of(response)["code"] == "invalid_api_key"


async def test_a_logged_in_session_alone_is_not_accepted(async_client, staff_user, sandbox):
    await async_client.aforce_login(staff_user)
    response = await async_client.get("/v1/models")
    assert response.status_code == 401


async def test_csrf_does_not_apply_to_token_calls(sandbox, auth):
    client = AsyncClient(enforce_csrf_checks=True)
    response = await client.post("/v1/chat/completions", CHAT, content_type="application/json", headers=auth)
    assert response.status_code == 200


async def test_a_revoked_token_is_refused_at_once_in_this_worker(async_client, issued, auth):
    assert (await async_client.get("/v1/models", headers=auth)).status_code == 200
    from asgiref.sync import sync_to_async

    await sync_to_async(token_revoke)(token=issued.token)
    response = await async_client.get("/v1/models", headers=auth)
    assert response.status_code == 401 and error_of(response)["code"] == "token_revoked"


async def test_a_revocation_made_elsewhere_is_seen_within_the_cache_time(async_client, issued, auth, settings):
    from asgiref.sync import sync_to_async

    from aiadmin.providers.models import APIToken

    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), "ROUTING_CACHE_SECONDS": 0.2}
    assert (await async_client.get("/v1/models", headers=auth)).status_code == 200
    # Another worker's revocation: a queryset update sends no signal to this process.
    await sync_to_async(APIToken.objects.filter(pk=issued.token.pk).update)(revoked_at="2026-01-01T00:00:00Z")
    import asyncio

    await asyncio.sleep(0.25)
    assert (await async_client.get("/v1/models", headers=auth)).status_code == 401


async def test_failed_checks_are_throttled_per_address_even_for_a_valid_token(async_client, auth, settings):
    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), "API_AUTH_FAILURES_PER_MINUTE": 3}
    wrong = {"Authorization": "Bearer aia_" + "W" * 10 + "_" + "w" * 40}
    for _ in range(3):
        assert (await async_client.get("/v1/models", headers=wrong)).status_code == 401
    refused = await async_client.get("/v1/models", headers=wrong)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert error_of(refused)["code"] == "too_many_failed_attempts"
    assert (await async_client.get("/v1/models", headers=auth)).status_code == 429
    from django.test import RequestFactory

    from aiadmin.api.views.models import models_list

    other_address = await models_list(RequestFactory().get("/v1/models", headers=auth, REMOTE_ADDR="10.0.0.9"))
    assert other_address.status_code == 200


async def test_cors_is_off_unless_configured(async_client, auth):
    response = await async_client.get("/v1/models", headers={**auth, "Origin": "https://app.example.com"})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response
    preflight = await async_client.options("/v1/chat/completions", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in preflight


async def test_cors_allows_only_the_configured_origins(async_client, auth, settings):
    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), "API_CORS_ORIGINS": ["https://app.example.com"]}
    preflight = await async_client.options(
        "/v1/chat/completions",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight
    answer = await async_client.get("/v1/models", headers={**auth, "Origin": "https://app.example.com"})
    assert answer["Access-Control-Allow-Origin"] == "https://app.example.com"
    foreign = await async_client.get("/v1/models", headers={**auth, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign


async def test_a_wrong_method_is_a_405_in_openais_error_body(async_client, auth):
    response = await async_client.get("/v1/chat/completions", headers=auth)
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


async def test_the_token_acts_as_its_admin_who_must_stay_an_admin(async_client, staff_user, issued, auth):
    from asgiref.sync import sync_to_async

    staff_user.is_active = False
    await sync_to_async(staff_user.save)()
    response = await async_client.get("/v1/models", headers=auth)
    assert response.status_code == 401 and error_of(response)["code"] == "inactive_user"


async def test_an_expired_token_is_refused_even_while_cached(async_client, staff_user, sandbox, monkeypatch):
    import datetime as dt

    from asgiref.sync import sync_to_async
    from django.utils import timezone

    issued = await sync_to_async(token_create)(
        admin=staff_user, name="short", expires_at=timezone.now() + dt.timedelta(seconds=60)
    )
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    assert (await async_client.get("/v1/models", headers=headers)).status_code == 200
    later = timezone.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr("aiadmin.api.auth.timezone.now", lambda: later)
    response = await async_client.get("/v1/models", headers=headers)
    assert response.status_code == 401 and error_of(response)["code"] == "token_expired"


@pytest.mark.parametrize("path", ["/v1/", "/v1/completions", "/v1/chat/completions/", "/v1/embeddings"])
async def test_an_unknown_api_path_is_a_404_in_openais_body_naming_the_endpoints(async_client, path):
    response = await async_client.post(path, {}, content_type="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    error = error_of(response)
    assert error["code"] == "unknown_endpoint" and "POST /v1/chat/completions" in error["message"]


@pytest.fixture
def token_checks(monkeypatch) -> list[int]:
    """One entry per database check of a token (aiadmin.api.auth's token_grant)."""
    from aiadmin.api import auth as api_auth
    from aiadmin.unified import routing

    routing.routing_clear()
    checks: list[int] = []
    real = api_auth.token_grant

    def counting(**kwargs):
        checks.append(1)
        return real(**kwargs)

    monkeypatch.setattr(api_auth, "token_grant", counting)
    return checks


async def test_a_burst_of_calls_with_one_token_checks_its_row_once(issued, auth, token_checks):
    # Fifty calls that arrive together after the token's cached check expired wait for one
    # database check instead of queueing fifty on the sync threads.
    import asyncio

    responses = await asyncio.gather(*(AsyncClient().get("/v1/models", headers=auth) for _ in range(50)))
    assert [response.status_code for response in responses] == [200] * 50
    assert len(token_checks) == 1


async def test_a_burst_of_calls_with_a_wrong_token_checks_and_counts_each(auth, settings, token_checks):
    import asyncio

    settings.AIADMIN = {**getattr(settings, "AIADMIN", {}), "API_AUTH_FAILURES_PER_MINUTE": 100}
    wrong = {"Authorization": "Bearer aia_" + "V" * 10 + "_" + "v" * 40}
    responses = await asyncio.gather(*(AsyncClient().get("/v1/models", headers=wrong) for _ in range(5)))
    assert [response.status_code for response in responses] == [401] * 5
    assert len(token_checks) == 5  # a refusal is never shared: each failed check counts for the throttle
