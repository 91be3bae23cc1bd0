"""The unified service end to end over the database: model and key choice, errors, usage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry

from aiadmin.adapters import errors
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider, AIRequestLog
from aiadmin.unified import StreamSummary, UnifiedAIService
from aiadmin.unified.errors import NoAccessError

pytestmark = pytest.mark.django_db(transaction=True)

service = UnifiedAIService()
SHARED = "sk-shared-test-key-000000000001"
PERSONAL = "sk-personal-test-key-0000000002"


def test_chat_on_the_sandbox_returns_text_and_records_usage(superuser):
    from django.core.management import call_command

    call_command("import_providers", verbosity=0)
    reply = service.chat("Hello sandbox", superuser, provider_slug="sandbox")
    assert "sandbox" in reply.text.lower()
    assert reply.provider == "sandbox" and reply.model == "sandbox-chat"
    entry = AIRequestLog.objects.get()
    assert (entry.status, entry.capability, entry.model_name, entry.admin) == ("ok", "chat", "sandbox-chat", superuser)
    assert entry.output_tokens == reply.usage.output_tokens > 0
    sandbox = AIProvider.objects.get(slug="sandbox")
    assert sandbox.total_requests == 1 and sandbox.last_used_at is not None
    assert AIModel.objects.get(provider=sandbox, capability="chat", is_active=True).total_requests == 1


def test_sandbox_latency_and_first_token_are_measured_never_zero(superuser):
    """The sandbox answers in well under a millisecond; its figures must still read as a
    measurement (rounded up), not as a "0 ms" that looks like nothing was timed."""
    import time

    from django.core.management import call_command

    from aiadmin.unified.service import _ms

    assert _ms(time.perf_counter()) == 1  # a few microseconds read as 1 ms, not 0
    call_command("import_providers", verbosity=0)
    *_, summary = service.stream_chat("Hello sandbox", superuser, provider_slug="sandbox")
    assert summary.info.latency_ms >= 1 and summary.time_to_first_token_ms >= 1
    speech = service.text_to_speech("Hi", superuser, provider_slug="sandbox")
    assert speech.info.latency_ms >= 1
    rows = AIRequestLog.objects.order_by("created_at")
    assert [(row.status, row.latency_ms >= 1) for row in rows] == [("ok", True), ("ok", True)]
    assert rows[0].time_to_first_token_ms >= 1


def test_counters_and_cost_follow_the_model_pricing(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    reply = service.chat("hi", superuser, provider_slug=provider.slug)
    # 10 input tokens at 2/M + 20 output tokens at 8/M
    assert reply.info.cost == Decimal("0.00018")
    assert AIRequestLog.objects.get().estimated_cost == Decimal("0.00018")


def test_streamed_chat_yields_chunks_then_a_summary(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, script={"words": ["one ", "two ", "three"]})
    items = list(service.stream_chat("count", superuser, provider_slug=provider.slug))
    assert items[:3] == ["one ", "two ", "three"]
    assert isinstance(items[-1], StreamSummary) and items[-1].usage.output_tokens == 20
    entry = AIRequestLog.objects.get()
    assert entry.status == "ok" and entry.time_to_first_token_ms is not None


def test_a_stream_the_consumer_abandons_is_recorded_as_cancelled(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, script={"words": ["a ", "b ", "c "]})
    stream = service.stream_chat("go", superuser, provider_slug=provider.slug)
    assert next(stream) == "a "
    stream.close()
    assert AIRequestLog.objects.get().status == "cancelled"


# --- model choice ---------------------------------------------------------------------


def test_explicit_model_wins_over_the_active_one(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    reply = service.chat("hi", superuser, provider_slug=provider.slug, model_id="beta")
    assert reply.model == "beta"


def test_admin_preference_wins_over_the_organisation_model(scripted_provider, staff_user):
    provider = scripted_provider()
    AdminProviderSettings.objects.create(
        admin=staff_user, provider=provider, personal_api_key=PERSONAL, preferred_models={"chat": "beta"}
    )
    assert service.chat("hi", staff_user, provider_slug=provider.slug).model == "beta"


def test_a_call_on_a_personal_preference_model_is_priced_from_the_cached_model_list(
    scripted_provider, scripted_adapter, staff_user
):
    """The preferred model has no AIModel row: its price comes from the model list the admin
    chose it from (cached), so the ledger row has a cost like any other call."""
    provider = scripted_provider(script={"prices": {"beta": ["3", "15"]}})
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=PERSONAL)
    assert service.select_model(provider.slug, "chat", "beta", staff_user).scope == "personal"
    assert not AIModel.objects.filter(provider=provider, model_id="beta").exists()

    reply = service.chat("hi", staff_user, provider_slug=provider.slug)

    # 10 input tokens at 3/M + 20 output tokens at 15/M
    assert reply.model == "beta" and reply.info.cost == Decimal("0.00033")
    entry = AIRequestLog.objects.get()
    assert (entry.model, entry.model_name, entry.estimated_cost) == (None, "beta", Decimal("0.00033"))
    provider.refresh_from_db()
    assert provider.total_requests == 1  # per-model counters exist only on AIModel rows
    assert AIModel.objects.get(provider=provider, model_id="alpha").total_requests == 0
    assert scripted_adapter.calls.count("list_models") == 1  # the browse: the call only read the cache


def test_a_model_row_without_prices_is_priced_from_the_cached_model_list(scripted_provider, superuser):
    """A catalogue default model row carries no prices: the list the provider publishes does."""
    provider = scripted_provider(model=None, shared_api_key=SHARED, script={"prices": {"alpha": ["2", "8"]}})
    AIModel.objects.create(provider=provider, capability="chat", model_id="alpha", is_active=True)
    service.browse_models(provider.slug, "chat", superuser)  # caches the list

    reply = service.chat("hi", superuser, provider_slug=provider.slug)

    assert reply.info.cost == Decimal("0.00018") and AIRequestLog.objects.get().estimated_cost == Decimal("0.00018")


def test_without_a_provider_the_first_usable_by_sort_order_is_used(scripted_provider, staff_user):
    scripted_provider(slug="switched-off", sort_order=1, shared_api_key=SHARED, allow_shared_for_normal_admins=True, is_active=False)
    scripted_provider(slug="no-key-for-staff", sort_order=2, shared_api_key=SHARED)  # shared not allowed for staff
    scripted_provider(slug="no-model", sort_order=3, model=None, shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    scripted_provider(slug="usable", sort_order=4, shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    scripted_provider(slug="later", sort_order=5, shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    assert service.chat("hi", staff_user).provider == "usable"


def test_missing_adapter_providers_are_skipped_when_choosing(scripted_provider, make_provider, superuser):
    ghost = make_provider(slug="ghost", adapter="gone", sort_order=0, capabilities={"chat": {"supported": True}})
    AIModel.objects.create(provider=ghost, capability="chat", model_id="x", is_active=True)
    scripted_provider(slug="real", sort_order=9, shared_api_key=SHARED)
    assert service.chat("hi", superuser).provider == "real"


# --- keys -----------------------------------------------------------------------------


def test_personal_key_is_used_before_the_shared_key(scripted_provider, scripted_adapter, staff_user):
    provider = scripted_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=PERSONAL)
    reply = service.chat("hi", staff_user, provider_slug=provider.slug)
    assert reply.info.key_source == "personal"
    assert scripted_adapter.calls == [f"chat:alpha:{PERSONAL}"]


def test_admin_who_opts_for_the_shared_key_gets_it(scripted_provider, scripted_adapter, staff_user):
    provider = scripted_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=PERSONAL, use_shared_api=True)
    assert service.chat("hi", staff_user, provider_slug=provider.slug).info.key_source == "shared"
    assert scripted_adapter.calls == [f"chat:alpha:{SHARED}"]


def test_missing_key_is_a_clear_error_naming_provider_and_remedy(scripted_provider, staff_user):
    provider = scripted_provider(name="Acme AI", shared_api_key=SHARED)  # shared key not for normal admins
    with pytest.raises(NoAccessError) as excinfo:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    message = str(excinfo.value)
    assert "Acme AI" in message and "personal key" in message and "ask a superadmin" in message
    entry = AIRequestLog.objects.get()
    assert entry.status == "no_access" and entry.provider == provider


def test_disabled_provider_is_a_clear_error(scripted_provider, superuser):
    provider = scripted_provider(name="Old AI", shared_api_key=SHARED, is_active=False)
    with pytest.raises(errors.ConfigurationError, match="Old AI is switched off"):
        service.chat("hi", superuser, provider_slug=provider.slug)


def test_missing_adapter_is_a_clear_error(make_provider, superuser):
    make_provider(slug="ghost", name="Ghost AI", adapter="uninstalled-adapter")
    with pytest.raises(errors.AdapterMissingError) as excinfo:
        service.chat("hi", superuser, provider_slug="ghost")
    assert "Ghost AI" in str(excinfo.value) and "'uninstalled-adapter' is not installed" in str(excinfo.value)
    assert AIRequestLog.objects.get().status == "adapter_missing"


def test_unknown_provider_and_no_selected_model_are_clear_errors(scripted_provider, superuser):
    with pytest.raises(errors.NotFoundError, match="no provider “nope”"):
        service.chat("hi", superuser, provider_slug="nope")
    provider = scripted_provider(model=None, shared_api_key=SHARED)
    with pytest.raises(errors.ConfigurationError, match="No chat model is selected"):
        service.chat("hi", superuser, provider_slug=provider.slug)


def test_empty_message_is_refused_before_any_call(scripted_provider, superuser):
    with pytest.raises(errors.BadRequestError, match="empty"):
        service.chat("   ", superuser, provider_slug=scripted_provider(shared_api_key=SHARED).slug)
    assert not AIRequestLog.objects.exists()


def test_upstream_errors_are_recorded_and_raised(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, script={"raise": "RateLimitedError"})
    with pytest.raises(errors.RateLimitedError):
        service.chat("hi", superuser, provider_slug=provider.slug)
    entry = AIRequestLog.objects.get()
    assert entry.status == "rate_limited" and entry.latency_ms is not None
    provider.refresh_from_db()
    assert provider.total_requests == 1  # it reached the provider, so it counts


# --- base URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    # Other names are decided when the connection is made (tests/unified/test_service_outbound.py).
    ["http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://10.0.0.7/v1", "http://[::1]:8080/v1",
     "http://[::ffff:10.0.0.7]/v1", "http://169.254.169.254/latest"],
)
def test_private_network_base_urls_are_refused_by_default(scripted_provider, superuser, base_url):
    provider = scripted_provider(shared_api_key=SHARED)
    AIProvider.objects.filter(pk=provider.pk).update(api_base_url=base_url)
    with pytest.raises(errors.ConfigurationError, match="private-network"):
        service.chat("hi", superuser, provider_slug=provider.slug)


def test_private_network_is_allowed_when_the_provider_config_says_so(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED, api_base_url="http://127.0.0.1:11434/v1")
    AIProvider.objects.filter(pk=provider.pk).update(config={"script": {}, "allow_private_network": True})
    assert service.chat("hi", superuser, provider_slug=provider.slug).text == "Hello world"


@pytest.mark.parametrize("base_url", ["ftp://files.example/v1", "https://{resource}.openai.azure.com/openai/v1"])
def test_non_http_and_placeholder_base_urls_are_refused(scripted_provider, superuser, base_url):
    provider = scripted_provider(shared_api_key=SHARED)
    AIProvider.objects.filter(pk=provider.pk).update(api_base_url=base_url)
    with pytest.raises(errors.ConfigurationError):
        service.chat("hi", superuser, provider_slug=provider.slug)


def test_the_caller_cannot_pass_a_base_url():
    import inspect

    for name in ("achat", "astream_chat", "agenerate_content", "agenerate_image", "atext_to_speech", "aspeech_to_text"):
        assert not any("url" in parameter for parameter in inspect.signature(getattr(service, name)).parameters), name


# --- selection ------------------------------------------------------------------------


def test_superadmin_selects_the_organisation_model_with_history(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    selection = service.select_model(provider.slug, "chat", "beta", superuser)
    assert selection.scope == "organisation"
    assert AIModel.objects.get(provider=provider, capability="chat", is_active=True).model_id == "beta"
    assert LogEntry.objects.filter(change_message__contains="Selected chat model beta (was alpha)").exists()


def test_staff_selection_is_a_personal_preference(scripted_provider, staff_user):
    provider = scripted_provider(shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    selection = service.select_model(provider.slug, "chat", "beta", staff_user)
    assert selection.scope == "personal"
    assert AIModel.objects.get(provider=provider, capability="chat", is_active=True).model_id == "alpha"
    assert AdminProviderSettings.objects.get(admin=staff_user).preferred_models == {"chat": "beta"}


def test_selecting_a_model_the_provider_does_not_offer_is_refused(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=SHARED)
    with pytest.raises(errors.NotFoundError, match="not in the provider's current chat list"):
        service.select_model(provider.slug, "chat", "omega", superuser)


def test_available_models_list_selected_models_with_access(scripted_provider, staff_user):
    scripted_provider(slug="open", shared_api_key=SHARED, allow_shared_for_normal_admins=True)
    scripted_provider(slug="closed", shared_api_key=SHARED)
    states = {m.provider: m.access_state for m in service.get_available_models("chat", staff_user)}
    assert states == {"open": "available_shared", "closed": "no_access"}
