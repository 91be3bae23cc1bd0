"""A canary key driven through every error path appears in no log record, exception message,
ledger row or admin history entry.

Records are checked as they are emitted, before the handlers' redaction filter
(aiadmin/logging.py) rewrites them: the filter is the last guard, not the reason these pass.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import LogEntry

from aiadmin.adapters import errors
from aiadmin.providers.errors import LimitExceededError
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIRequestLog
from aiadmin.unified import UnifiedAIService

pytestmark = pytest.mark.django_db(transaction=True)

CANARY = "sk-canary-9f8e7d6c5b4a39281706"
service = UnifiedAIService()


class _RawRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def handle(self, record: logging.LogRecord) -> bool:
        # Copied as emitted: the filter on a later handler rewrites the record in place.
        self.records.append(logging.makeLogRecord(dict(record.__dict__)))
        return True


@pytest.fixture
def emitted(caplog):
    """Every record at DEBUG and above as emitted, before any handler's filter rewrote it."""
    caplog.set_level(logging.DEBUG)
    raw = _RawRecords()
    root = logging.getLogger()
    root.handlers.insert(0, raw)  # ahead of the handler LOGGING installs with its filter
    try:
        yield raw.records
    finally:
        root.removeHandler(raw)

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
def test_canary_key_never_leaks_from_an_upstream_error(scripted_provider, staff_user, superuser, emitted, kind):
    provider = scripted_provider(script={"raise": kind}, shared_api_key=CANARY)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=CANARY)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=5)
    with pytest.raises(getattr(errors, kind)) as excinfo:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    with pytest.raises(getattr(errors, kind)):
        list(service.stream_chat("hi", staff_user, provider_slug=provider.slug))
    service.select_model(provider.slug, "chat", "beta", superuser)  # an admin-history entry too
    assert_no_canary(emitted, excinfo.value)


def test_canary_key_never_leaks_from_refusals(scripted_provider, staff_user, emitted):
    provider = scripted_provider()
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key=CANARY)
    AdminProviderLimit.objects.create(admin=staff_user, provider=provider, monthly_limit=0)
    with pytest.raises(LimitExceededError) as limit:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    AdminProviderLimit.objects.filter(admin=staff_user).update(monthly_limit=None)
    provider.api_base_url = "http://127.0.0.1:9/v1"  # a base URL change: refused as private
    provider.save()
    with pytest.raises(errors.ConfigurationError) as private:
        service.chat("hi", staff_user, provider_slug=provider.slug)
    assert_no_canary(emitted, limit.value, private.value)


def test_key_validation_result_carries_no_key(scripted_provider, superuser):
    provider = scripted_provider(shared_api_key=CANARY, script={"list_fails": True})
    result = service.validate_key(provider.slug, superuser)
    assert result.ok is False and CANARY not in result.message
    provider.refresh_from_db()
    assert provider.key_validation_ok is False and CANARY not in provider.key_validation_message


def assert_no_canary(records, *exceptions):
    for exception in exceptions:
        assert CANARY not in str(exception) and CANARY not in repr(exception)
        assert CANARY not in str(exception.__cause__ or "")
    assert records
    for record in records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.exc_info or "")
    for row in AIRequestLog.objects.values():
        assert CANARY not in str(row)
    for entry in LogEntry.objects.values():
        assert CANARY not in str(entry)
    assert AIRequestLog.objects.exists()
