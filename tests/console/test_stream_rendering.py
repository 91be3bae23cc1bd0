"""The playground keeps bounded memory for a stream that never ends: past MAX_RENDERED_CHARS
it stops the answer with a clear error event, closes the service stream (the ledger records the
turn as cancelled) and never renders or keeps more."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from django.test import AsyncClient
from django.urls import reverse

from aiadmin.adapters.types import ChatChunk
from aiadmin.console import sse as console_sse
from aiadmin.providers.models import AIRequestLog
from aiadmin.unified import UnifiedAIService
from tests.aiadmin_overrides import aiadmin_override

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = reverse("aiadmin_console:chat_stream")


async def endless_text(self, request):
    while True:
        await asyncio.sleep(0)
        yield ChatChunk("word ")


@aiadmin_override(STREAM_MAX_CHARS=10**12)  # the page's own bound, not the service's
async def test_an_endless_stream_is_stopped_at_the_render_bound(superuser, scripted_provider, scripted_adapter, monkeypatch):
    monkeypatch.setattr(scripted_adapter, "stream_chat", endless_text)
    monkeypatch.setattr(console_sse, "MAX_RENDERED_CHARS", 5_000, raising=False)
    provider = await asyncio.to_thread(scripted_provider, shared_api_key="sk-render-bound-0000000001")
    client = AsyncClient()
    await client.aforce_login(superuser)
    response = await client.post(STREAM, data=json.dumps({"message": "go", "model": f"{provider.slug}::alpha"}), content_type="application/json")
    assert response.status_code == 200, response.content
    frames, received, started = [], 0, time.monotonic()
    async for chunk in response.streaming_content:
        frames.append(chunk)
        received += len(chunk)
        if time.monotonic() - started > 10 or received > 5_000_000:
            pytest.fail("the stream was not bounded")  # without a bound it never ends
    events = [frame.decode().split("\n")[0] for frame in frames]
    texts = [json.loads(frame.decode().split("\n")[1][len("data: "):]) for frame in frames]
    assert events[-1] == "event: error" and "5,000 characters" in texts[-1]["message"]
    assert texts[-1]["kind"] == "stream_limit"
    assert sum(len(text.get("text", "")) for text in texts[:-1]) <= 5_000
    await UnifiedAIService().aflush()
    row = await AIRequestLog.objects.aget()
    assert row.status == "cancelled"  # the page closed the service stream
