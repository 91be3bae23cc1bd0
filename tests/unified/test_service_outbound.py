"""The service's calls go only where the URL guard looked: a base URL whose name answers the
service's pre-check one way and the connection another never receives the shared key.

Real adapter, real shared transport, a loopback server standing in for the target; the
resolver is scripted (tests/fake_network.py) and no other address is ever reached.
"""

from __future__ import annotations

import pytest

from aiadmin.adapters import errors, retries, shared_client
from aiadmin.providers.models import AIModel, AIRequestLog
from aiadmin.unified import UnifiedAIService
from tests.fake_network import FakeNetwork, LoopbackServer, fake_network, loopback  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
SHARED = "sk-shared-outbound-key-00000000001"
PUBLIC = ("93.184.215.14",)
LOOPBACK = ("127.0.0.1",)


@pytest.fixture(autouse=True)
def _real_transport(monkeypatch: pytest.MonkeyPatch):
    shared_client.set_transport_for_tests(None)
    monkeypatch.setattr(retries, "backoff_delay", lambda attempt, **kwargs: 0.0)
    yield
    shared_client.set_transport_for_tests(None)


@pytest.fixture
def openai_provider(make_provider):
    def make(base_url: str, **config):
        provider = make_provider(
            adapter="openai",
            api_base_url=base_url,
            capabilities={"chat": {"supported": True, "dynamic_models": True}},
            config={"auth": {"style": "bearer"}, **config},
            shared_api_key=SHARED,
        )
        AIModel.objects.create(provider=provider, capability="chat", model_id="gpt-4o", is_active=True)
        return provider

    return make


def shared_key_reached(server: LoopbackServer) -> bool:
    return any(SHARED.encode() in head for head in server.heads)


@pytest.mark.parametrize(
    "first_answer",
    [PUBLIC, OSError("Temporary failure in name resolution")],
    ids=["public-then-loopback", "lookup-fails-then-loopback"],
)
def test_a_name_that_changes_its_answer_never_gets_the_shared_key(
    openai_provider, superuser, fake_network: FakeNetwork, loopback: LoopbackServer, first_answer
):
    fake_network.answer("rebind.test", first_answer, LOOPBACK)
    provider = openai_provider(f"http://rebind.test:{loopback.port}/v1")

    with pytest.raises(errors.ConfigurationError) as caught:
        service.chat("hi", superuser, provider_slug=provider.slug)

    assert loopback.connections == 0 and not shared_key_reached(loopback)
    assert "127.0.0.1" not in fake_network.dials
    assert SHARED not in str(caught.value)
    assert AIRequestLog.objects.get().status == "configuration"


def test_a_self_hosted_provider_on_a_private_name_is_called(
    openai_provider, superuser, fake_network: FakeNetwork, loopback: LoopbackServer
):
    loopback.body = (
        b'{"id": "1", "object": "chat.completion", "model": "gpt-4o", "choices": [{"index": 0, '
        b'"message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}], '
        b'"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}'
    )
    fake_network.answer("ollama.corp.test", LOOPBACK)
    provider = openai_provider(f"http://ollama.corp.test:{loopback.port}/v1", allow_private_network=True)

    assert service.chat("hi", superuser, provider_slug=provider.slug).text == "hello"
    assert loopback.hosts() == [f"ollama.corp.test:{loopback.port}"]
    assert fake_network.dials == ["127.0.0.1"]
