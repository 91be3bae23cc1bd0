"""Stream caps over real HTTP: an upstream that streams forever (the fake provider's
``endless`` mode) is stopped at AIADMIN["STREAM_MAX_CHARS"] or ["STREAM_MAX_SECONDS"] with
StreamLimitError and a ledger row, in every adapter family."""

from __future__ import annotations

import time

import pytest

from aiadmin.providers.models import AIRequestLog
from aiadmin.unified import UnifiedAIService
from aiadmin.unified.errors import StreamLimitError
from tests.aiadmin_overrides import aiadmin_override

from .test_unified_against_fake_provider import family  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
FAMILIES = [("openai", "endless-gpt"), ("anthropic", "claude-endless"), ("gemini", "gemini-endless"), ("huggingface", "org/endless")]


@pytest.fixture
def bounded_fake(fake_provider):
    # Without the caps under test the stream would run this long, then end unfinished.
    fake_provider.configure(stall_max_seconds=8)
    return fake_provider


def _stream(provider, admin) -> tuple[str, StreamLimitError]:
    received: list[str] = []
    with pytest.raises(StreamLimitError) as caught:
        for item in service.stream_chat("go on", admin, provider_slug=provider.slug):
            received.append(item)
    return "".join(received), caught.value


@aiadmin_override(STREAM_MAX_CHARS=2_000)
@pytest.mark.parametrize(("adapter", "model"), FAMILIES)
def test_an_endless_stream_stops_at_the_size_cap(family, bounded_fake, superuser, adapter, model):  # noqa: F811
    provider = family(adapter, chat=model)
    started = time.monotonic()
    text, error = _stream(provider, superuser)
    assert 0 < len(text) <= 2_000 and "2,000 characters" in str(error)
    assert time.monotonic() - started < 6
    row = AIRequestLog.objects.get()
    assert row.status == "stream_limit" and row.error_message


@aiadmin_override(STREAM_MAX_SECONDS=0.5)
@pytest.mark.parametrize(("adapter", "model"), FAMILIES[:1])
def test_an_endless_stream_stops_at_the_duration_cap(family, bounded_fake, superuser, adapter, model):  # noqa: F811
    provider = family(adapter, chat=model)
    started = time.monotonic()
    text, error = _stream(provider, superuser)
    assert text and "0.5 seconds" in str(error)
    assert time.monotonic() - started < 6
    assert AIRequestLog.objects.get().status == "stream_limit"
