"""A provider row whose JSON fields are malformed anyway (edited in SQL, an old import) is
refused by the service with a ConfigurationError that names the field, never an
AttributeError, and is recorded in the ledger like any refused call."""

from __future__ import annotations

import pytest

from aiadmin.adapters import errors
from aiadmin.providers.models import AIProvider, AIRequestLog
from aiadmin.unified import UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
SHARED = "sk-shared-test-key-000000000001"

BROKEN_SHAPES = [
    ({"config": {"script": {}, "auth": "oops"}}, "config.auth: must be an object"),
    ({"config": [1, 2]}, "config: must be an object"),
    ({"config": "oops"}, "config: must be an object"),
    ({"capabilities": [1]}, "capabilities: must be an object"),
    ({"capabilities": {"chat": "yes"}}, "capabilities.chat: must be an object"),
    ({"config": {"script": {}, "extra_headers": "x"}}, "config.extra_headers: must map header names to text"),
    ({"config": {"script": {}, "default_params": {"max_tokens": "lots"}}}, "config.default_params.max_tokens"),
]


def broken(scripted_provider, shape: dict) -> AIProvider:
    provider = scripted_provider(shared_api_key=SHARED, name="Broken AI")
    AIProvider.objects.filter(pk=provider.pk).update(**shape)
    return provider


@pytest.mark.parametrize(("shape", "field"), BROKEN_SHAPES)
def test_a_call_to_a_broken_provider_is_a_configuration_error_naming_the_field(scripted_provider, superuser, shape, field):
    provider = broken(scripted_provider, shape)
    with pytest.raises(errors.ConfigurationError) as excinfo:
        service.chat("hi", superuser, provider_slug=provider.slug)
    assert field in str(excinfo.value) and "Broken AI" in str(excinfo.value)
    entry = AIRequestLog.objects.get()
    assert entry.status == "configuration" and field in entry.error_message


@pytest.mark.parametrize(("shape", "field"), BROKEN_SHAPES[:4])
def test_streams_model_lists_and_key_checks_refuse_it_too(scripted_provider, superuser, shape, field):
    provider = broken(scripted_provider, shape)
    with pytest.raises(errors.ConfigurationError, match="settings are broken"):
        list(service.stream_chat("hi", superuser, provider_slug=provider.slug))
    with pytest.raises(errors.ConfigurationError, match="settings are broken"):
        service.browse_models(provider.slug, "chat", superuser)
    with pytest.raises(errors.ConfigurationError, match="settings are broken"):
        service.validate_key(provider.slug, superuser, key_source="shared")


def test_routing_without_a_provider_passes_over_a_broken_one(scripted_provider, superuser):
    first = broken(scripted_provider, {"config": {"script": {}, "auth": "oops"}, "sort_order": 1})
    healthy = scripted_provider(shared_api_key=SHARED, sort_order=2)
    reply = service.chat("hi", superuser)
    assert reply.provider == healthy.slug != first.slug
    assert [model.provider for model in service.get_available_models("chat", superuser) if model.access_state.startswith("available")] == [healthy.slug]
