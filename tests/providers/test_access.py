"""ModelAccessState and key priority (SPEC section 3), decided without queries."""

from __future__ import annotations

import pytest

from aiadmin.providers.access import ModelAccessState, access_decide
from aiadmin.providers.models import AdminProviderSettings

pytestmark = pytest.mark.django_db

S = ModelAccessState


@pytest.mark.parametrize(
    ("provider_values", "settings_values", "is_superuser", "expected"),
    [
        ({"is_active": False, "shared_api_key": "sk-x-123456789"}, None, True, (S.DISABLED, "none")),
        ({"shared_api_key": "sk-x-123456789"}, {"is_active": False, "personal_api_key": "sk-p-1234567"}, False, (S.DISABLED, "none")),
        ({}, {"personal_api_key": "sk-p-1234567"}, False, (S.AVAILABLE_PERSONAL, "personal")),
        ({"allow_personal_keys": False}, {"personal_api_key": "sk-p-1234567"}, False, (S.NO_ACCESS, "none")),
        ({"shared_api_key": "sk-x-123456789"}, None, True, (S.AVAILABLE_SHARED, "shared")),
        ({"shared_api_key": "sk-x-123456789"}, None, False, (S.NO_ACCESS, "none")),
        ({"shared_api_key": "sk-x-123456789", "allow_shared_for_normal_admins": True}, None, False, (S.AVAILABLE_SHARED, "shared")),
        (
            {"shared_api_key": "sk-x-123456789", "allow_shared_for_normal_admins": True},
            {"personal_api_key": "sk-p-1234567", "use_shared_api": True},
            False,
            (S.AVAILABLE_SHARED, "shared"),
        ),
        # Asked for the shared key but may not use it: the personal key still works.
        ({"shared_api_key": "sk-x-123456789"}, {"personal_api_key": "sk-p-1234567", "use_shared_api": True}, False, (S.AVAILABLE_PERSONAL, "personal")),
        ({}, None, True, (S.NO_ACCESS, "none")),
        ({"adapter": "sandbox", "config": {}}, None, False, (S.AVAILABLE_SHARED, "none")),
        ({"adapter": "openai", "config": {"auth": {"style": "none"}}}, None, False, (S.AVAILABLE_SHARED, "none")),
    ],
)
def test_access_state_and_key_source(make_provider, django_user_model, provider_values, settings_values, is_superuser, expected):
    provider_values.setdefault("adapter", "keyed")
    provider = make_provider(**provider_values)
    admin = django_user_model.objects.create_user("u", password="pw-u-123456", is_staff=True, is_superuser=is_superuser)
    settings_row = (
        AdminProviderSettings.objects.create(admin=admin, provider=provider, **settings_values) if settings_values else None
    )
    decision = access_decide(admin=admin, provider=provider, settings=settings_row)
    assert (decision.state, decision.key_source) == expected
    assert decision.reason
