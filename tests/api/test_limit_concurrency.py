"""A monthly limit of N lets exactly N calls through when 50 official-SDK calls arrive at once,
on PostgreSQL (the database production runs; SQLite serialises writers anyway)."""

from __future__ import annotations

import asyncio
import time

import openai
import pytest
from django.conf import settings

from aiadmin.providers import usage
from aiadmin.providers.models import AdminProviderLimit, AIModel, AIRequestLog
from tests.api.server import FAKE_SLUG, aiadmin_server, api_server, fake_openai_provider, wait_until  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the concurrent limit test runs on PostgreSQL (CI=true make test)",
    ),
]

CALLS = 50
LIMIT = 7
UPSTREAM_MS = 400  # each allowed call waits this long at the fake provider, so they overlap
MODEL = f"fake-echo-slow-{UPSTREAM_MS}ms"


def max_in_flight(requests) -> int:
    """The most requests the fake provider was answering at one moment."""
    events = sorted([(r.started_at, 1) for r in requests] + [(r.finished_at, -1) for r in requests])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def test_a_monthly_limit_of_n_lets_exactly_n_of_50_concurrent_calls_through(
    api_server, fake_provider, make_provider, staff_user, sandbox, token, issued
):
    provider = fake_openai_provider(make_provider, fake_provider)
    AIModel.objects.create(provider=provider, capability="chat", model_id=MODEL, is_active=True)
    limit = AdminProviderLimit.objects.create(
        admin=staff_user, provider=provider, monthly_limit=LIMIT, usage_month=usage.month_start()
    )
    model = f"{FAKE_SLUG}/{MODEL}"

    async def one(client: openai.AsyncOpenAI, index: int):
        prompt = f"call {index}"
        messages = [{"role": "user", "content": prompt}]
        try:
            if index % 2:  # half streamed, half not: both plan the call the same way
                stream = await client.chat.completions.create(
                    model=model, messages=messages, stream=True, stream_options={"include_usage": True}
                )
                text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            else:
                completion = await client.chat.completions.create(model=model, messages=messages)
                text = completion.choices[0].message.content
        except openai.RateLimitError as err:
            return err
        assert text == f"You said: {prompt}"
        return text

    async def scenario():
        client = openai.AsyncOpenAI(base_url=api_server.api_url, api_key=token, max_retries=0, timeout=60)
        async with client:
            started = time.perf_counter()
            results = await asyncio.gather(*(one(client, index) for index in range(CALLS)), return_exceptions=True)
            return results, time.perf_counter() - started

    results, elapsed = asyncio.run(scenario())

    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, openai.RateLimitError)]
    assert not unexpected, unexpected[:3]
    allowed = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert (len(allowed), len(refused)) == (LIMIT, CALLS - LIMIT)
    assert {err.code for err in refused} == {"monthly_limit_reached"}
    assert all(int(err.response.headers["retry-after"]) > 0 for err in refused)

    # Real concurrency: the allowed calls were at the fake provider at the same time.
    upstream = fake_provider.requests_to("/chat/completions")
    assert len(upstream) == LIMIT  # a refused call never went upstream
    assert max_in_flight(upstream) >= 3

    def written():
        api_server.ledger_flush()
        rows = list(AIRequestLog.objects.all())
        return rows if len(rows) >= CALLS else None

    rows = wait_until(written, timeout=20)
    assert len(rows) == CALLS
    assert sum(row.status == "ok" for row in rows) == LIMIT
    assert sum(row.status == "limit" for row in rows) == CALLS - LIMIT
    assert {row.api_token_id for row in rows} == {issued.token.id}
    limit.refresh_from_db()
    assert (limit.usage_month, limit.usage_month_requests) == (usage.month_start(), LIMIT)
