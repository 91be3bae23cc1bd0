"""A canary key driven through every error path appears in no log record, exception message,
ledger row or admin history entry."""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import LogEntry

from aiadmin.adapters import errors
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIRequestLog
from aiadmin.unified import UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)

CANARY = "sk-canary-9f8e7d6c5b4a39281706"
service = UnifiedAIService()

ERROR_KINDS = [
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitedError",
    "QuotaExceededError",
    "BadRequestError",
    "UpstreamError",
    "ProviderTimeoutError",
    "ProviderConnectionError",
    "MalformedResponseError",
]


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_canary_key_never_leaks_from_an_upstream_error(scripted_provider, staff_user, superuser, caplog, kind):
    caplog.set_level(logging.DEBUG)
    provider = scripted_provider(script={"raise": kind}, shared_api_key=CANARY)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=CANARY)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=5)
    with pytest.raises(getattr(errors, kind)) as excinfo:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    with pytest.raises(getattr(errors, kind)):
        list(service.stream_chat("hi", staff_user, provider_slug=provider.slug))
    service.select_model(provider.slug, "chat", "beta", superuser)  # an admin-history entry too
    assert_no_canary(caplog, excinfo.value)


def test_canary_key_never_leaks_from_refusals(scripted_provider, staff_user, caplog):
    caplog.set_level(logging.DEBUG)
    provider = scripted_provider()
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=CANARY)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=0)
    with pytest.raises(errors.LimitExceededError) as limit:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    AdminProviderLimit.objects.filter(admin=staff_user).update(monthly_limit=None)
    provider.api_base_url = "http://127.0.0.1:9/v1"  # a base URL change: refused as private
    provider.save()
    with pytest.raises(errors.ConfigurationError) as private:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    assert_no_canary(caplog, limit.value, private.value)


def test_key_validation_result_carries_no_key(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=CANARY, script={"list_fails": True})
    result = service.validate_key(provider.slug, superuser)
    assert result.ok is False and CANARY not in result.message
    provider.refresh_from_db()
    assert provider.key_validation_ok is False and CANARY not in provider.key_validation_message


def assert_no_canary(caplog, *exceptions):
    for exception in exceptions:
        assert CANARY not in str(exception) and CANARY not in repr(exception)
        assert CANARY not in str(exception.__cause__ or "")
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.exc_info or "")
    for row in AIRequestLog.objects.values():
        assert CANARY not in str(row)
    for entry in LogEntry.objects.values():
        assert CANARY not in str(entry)
    assert AIRequestLog.objects.exists()
