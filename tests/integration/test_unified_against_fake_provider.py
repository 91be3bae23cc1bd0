"""The unified service end to end over real HTTP against the fake provider on loopback:
every adapter family, streaming included, and the failure modes chosen by model name."""

from __future__ import annotations

import time
import wave
from io import BytesIO

import pytest

from aiadmin.adapters import errors
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider, AIRequestLog
from aiadmin.unified import StreamSummary, UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
KEY = "test-key"


@pytest.fixture
def family(fake_provider, make_provider):
    """A provider row of the given adapter family pointing at the fake provider."""

    def make(adapter: str, *, chat: str = "fake-chat", **models: str) -> AIProvider:
        urls = {
            "openai": (fake_provider.openai_base_url, {"auth": {"style": "bearer"}}),
            "anthropic": (fake_provider.anthropic_base_url, {"auth": {"style": "header", "header": "x-api-key"}, "extra_headers": {"anthropic-version": "2023-06-01"}}),
            "gemini": (fake_provider.gemini_base_url, {"auth": {"style": "header", "header": "x-goog-api-key"}}),
            "huggingface": (fake_provider.hf_router_url, {"auth": {"style": "bearer"}, "hub_url": fake_provider.hf_hub_url}),
        }
        base_url, config = urls[adapter]
        provider = make_provider(
            slug=f"fake-{adapter}",
            adapter=adapter,
            api_base_url=base_url,
            capabilities={c: {"supported": True, "dynamic_models": True} for c in ("chat", "content", "image", "audio")},
            config={**config, "allow_private_network": True},
            shared_api_key=KEY,
        )
        for capability, model_id in {"chat": chat, **models}.items():
            AIModel.objects.create(provider=provider, capability=capability, model_id=model_id, is_active=True)
        return provider

    return make


@pytest.mark.parametrize(
    ("adapter", "model"),
    [("openai", "gpt-fake"), ("anthropic", "claude-fake"), ("gemini", "gemini-fake"), ("huggingface", "org/hf-chat")],
)
def test_streamed_chat_works_for_every_family(family, superuser, adapter, model):
    provider = family(adapter, chat=model)
    items = list(service.stream_chat("Hello there", superuser, provider_slug=provider.slug))
    text = "".join(item for item in items if isinstance(item, str))
    assert text.strip()
    summary = items[-1]
    assert isinstance(summary, StreamSummary) and summary.usage.output_tokens
    entry = AIRequestLog.objects.get()
    assert entry.status == "ok" and entry.output_tokens == summary.usage.output_tokens
    assert entry.time_to_first_token_ms is not None


@pytest.mark.parametrize(
    ("adapter", "model"),
    [("openai", "gpt-fake"), ("anthropic", "claude-fake"), ("gemini", "gemini-fake"), ("huggingface", "org/hf-chat")],
)
def test_non_streamed_chat_and_model_list_for_every_family(family, superuser, adapter, model):
    provider = family(adapter, chat=model)
    reply = service.chat("Hello there", superuser, provider_slug=provider.slug)
    assert reply.text.strip() and reply.usage.input_tokens
    listed = service.browse_models(provider.slug, "chat", superuser)
    assert listed.models  # paginated lists are followed to the end


def test_streamed_chunks_arrive_before_the_stream_ends(family, superuser):
    provider = family("openai", chat="paced-8x50")
    arrivals = []
    started = time.perf_counter()
    for item in service.stream_chat("count", superuser, provider_slug=provider.slug):
        if isinstance(item, str):
            arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 8
    assert arrivals[-1] - arrivals[0] > 0.25  # delivered as they came, not all at the end


def test_content_image_and_audio_through_the_openai_family(family, superuser):
    provider = family("openai", content="gpt-fake", image="gpt-image-1", audio="tts-1")
    article = service.generate_content("Reliable AI gateways", superuser, provider_slug=provider.slug, word_count=100)
    assert article.article.markdown
    images = service.generate_image("a lighthouse", superuser, provider_slug=provider.slug, n=2, size="256x256")
    assert len(images.images) == 2 and images.images[0].data.startswith(b"\x89PNG")
    speech = service.text_to_speech("Hello world", superuser, provider_slug=provider.slug, format="wav")
    assert speech.audio[:4] == b"RIFF"
    AIModel.objects.filter(provider=provider, capability="audio").update(model_id="whisper-1")
    transcript = service.speech_to_text(speech.audio, superuser, provider_slug=provider.slug, filename="hello.wav", mime_type="audio/wav")
    assert transcript.text
    assert set(AIRequestLog.objects.values_list("status", flat=True)) == {"ok"}


def test_gemini_image_and_speech(family, superuser):
    provider = family("gemini", image="imagen-fake", audio="gemini-fake-tts")
    images = service.generate_image("a lighthouse", superuser, provider_slug=provider.slug)
    assert images.images[0].data
    speech = service.text_to_speech("Hello world", superuser, provider_slug=provider.slug)
    with wave.open(BytesIO(speech.audio)) as wav:
        assert wav.getnframes() > 0


def test_flaky_upstream_is_retried_to_success(family, superuser, fake_provider):
    provider = family("openai", chat="flaky-model")
    reply = service.chat("hi", superuser, provider_slug=provider.slug)
    assert reply.text
    assert len(fake_provider.requests_to("/chat/completions")) == 2  # one 503, one success


def test_rate_limit_honours_retry_after_then_fails_clearly(family, superuser, fake_provider):
    fake_provider.configure(retry_after="0")
    provider = family("openai", chat="ratelimited-model")
    with pytest.raises(errors.RateLimitedError):
        service.chat("hi", superuser, provider_slug=provider.slug)
    assert len(fake_provider.requests_to("/chat/completions")) == 3  # first try and two retries
    assert AIRequestLog.objects.get().status == "rate_limited"


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("unauthorized-model", errors.AuthenticationError),
        ("error500-model", errors.UpstreamError),
        ("malformed-model", errors.MalformedResponseError),
        ("midstream-error-model", errors.AIAdminError),
        ("truncated-model", errors.MalformedResponseError),
    ],
)
def test_failure_modes_become_clear_errors_and_failed_ledger_rows(family, superuser, fake_provider, model, error):
    provider = family("openai", chat=model)
    with pytest.raises(error) as excinfo:
        list(service.stream_chat("hi", superuser, provider_slug=provider.slug))
    assert KEY not in str(excinfo.value)
    entry = AIRequestLog.objects.get()
    assert entry.status == excinfo.value.kind and KEY not in entry.error_message


def test_unauthorized_is_not_retried(family, superuser, fake_provider):
    provider = family("anthropic", chat="unauthorized-claude")
    with pytest.raises(errors.AuthenticationError):
        service.chat("hi", superuser, provider_slug=provider.slug)
    assert len(fake_provider.requests_to("/v1/messages")) == 1


def test_a_stalled_stream_is_a_failed_turn(family, superuser, monkeypatch):
    monkeypatch.setattr("aiadmin.adapters.shared_client.STREAM_IDLE_TIMEOUT", 0.5)
    provider = family("openai", chat="stall-model")
    started = time.perf_counter()
    with pytest.raises(errors.ProviderTimeoutError):
        list(service.stream_chat("hi", superuser, provider_slug=provider.slug))
    assert time.perf_counter() - started < 10
    assert AIRequestLog.objects.get().status == "timeout"


def test_wrong_key_is_reported_without_the_key(family, superuser):
    provider = family("openai")
    provider.shared_api_key = "sk-wrong-key-000000000000000000"
    provider.save()
    result = service.validate_key(provider.slug, superuser)
    assert result.ok is False and "sk-wrong-key" not in result.message


def test_personal_key_reaches_the_provider(family, staff_user, fake_provider):
    provider = family("openai")
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=KEY)
    service.chat("hi", staff_user, provider_slug=provider.slug)
    assert fake_provider.requests_to("/chat/completions")[-1].headers["authorization"] == f"Bearer {KEY}"
