"""A streamed answer has a cap on its size and on its duration (AIADMIN["STREAM_MAX_CHARS"],
AIADMIN["STREAM_MAX_SECONDS"]): past either it ends with StreamLimitError and a ledger row,
whether the upstream keeps sending text or sends nothing at all."""

from __future__ import annotations

import asyncio
import time

import pytest

from aiadmin.adapters.types import ChatChunk
from aiadmin.providers.models import AIRequestLog
from aiadmin.unified import UnifiedAIService
from aiadmin.conf import DEFAULTS
from aiadmin.unified.errors import StreamLimitError
from aiadmin.unified.stream_limits import stream_limits_get
from tests.aiadmin_overrides import aiadmin_override

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = "sk-shared-stream-limits-0001"
service = UnifiedAIService()


async def endless_text(self, request):
    """An upstream that never stops talking."""
    while True:
        await asyncio.sleep(0)
        yield ChatChunk("word ")


async def endless_trickle(self, request):
    """An upstream that talks slowly forever (well inside any idle timeout)."""
    while True:
        await asyncio.sleep(0.01)
        yield ChatChunk("x")


async def silence(self, request):
    """An upstream that sends one word, then nothing for a long while (keep-alives only)."""
    yield ChatChunk("thinking")
    await asyncio.sleep(4)
    yield ChatChunk("never")


def _consume(provider, admin) -> tuple[list, StreamLimitError]:
    received: list = []
    started = time.monotonic()
    stream = service.stream_chat("go", admin, provider_slug=provider.slug)
    with pytest.raises(StreamLimitError) as caught:
        for item in stream:
            received.append(item)
            if time.monotonic() - started > 10:  # without a cap the stream would never end
                stream.close()
                pytest.fail("the stream did not end")
    return received, caught.value


@aiadmin_override(STREAM_MAX_CHARS=1000)
def test_an_endless_answer_ends_at_the_size_cap_with_an_error_and_a_ledger_row(scripted_provider, scripted_adapter, superuser, monkeypatch):
    monkeypatch.setattr(scripted_adapter, "stream_chat", endless_text)
    provider = scripted_provider(shared_api_key=SHARED)
    received, error = _consume(provider, superuser)
    assert sum(len(text) for text in received) <= 1000
    assert "1,000 characters" in str(error)
    row = AIRequestLog.objects.get()
    assert row.status == "stream_limit" and "1,000 characters" in row.error_message


@aiadmin_override(STREAM_MAX_SECONDS=0.3)
def test_a_trickling_answer_ends_at_the_duration_cap(scripted_provider, scripted_adapter, superuser, monkeypatch):
    monkeypatch.setattr(scripted_adapter, "stream_chat", endless_trickle)
    provider = scripted_provider(shared_api_key=SHARED)
    started = time.monotonic()
    received, error = _consume(provider, superuser)
    assert time.monotonic() - started < 5
    assert received and "0.3 seconds" in str(error)
    assert AIRequestLog.objects.get().status == "stream_limit"


@aiadmin_override(STREAM_MAX_SECONDS=0.3)
def test_a_silent_upstream_ends_at_the_duration_cap_too(scripted_provider, scripted_adapter, superuser, monkeypatch):
    monkeypatch.setattr(scripted_adapter, "stream_chat", silence)
    provider = scripted_provider(shared_api_key=SHARED)
    started = time.monotonic()
    received, error = _consume(provider, superuser)
    assert time.monotonic() - started < 5
    assert received == ["thinking"]
    assert AIRequestLog.objects.get().status == "stream_limit"


def test_the_defaults_are_sane():
    limits = stream_limits_get()
    assert limits.max_chars == DEFAULTS["STREAM_MAX_CHARS"] == 500_000
    assert limits.max_seconds == DEFAULTS["STREAM_MAX_SECONDS"] == 600
