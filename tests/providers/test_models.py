"""Database-enforced rules of the domain models, on every configured database engine."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import IntegrityError, connections, transaction

from aiadmin.providers.models import AIModel, AIProvider
from aiadmin.providers.services import aimodel_select

# CI runs on PostgreSQL with an extra SQLite alias; locally only SQLite is there.
DATABASE_ALIASES = [alias for alias in ("default", "sqlite") if alias in settings.DATABASES]


def engine(alias: str) -> str:
    return connections[alias].vendor


@pytest.fixture
def provider_on(request):
    def make(alias: str) -> AIProvider:
        return AIProvider.objects.using(alias).create(slug=f"p-{alias}", name="P", adapter="sandbox")

    return make


@pytest.mark.django_db(databases=DATABASE_ALIASES)
@pytest.mark.parametrize("alias", DATABASE_ALIASES)
def test_second_active_model_via_bulk_create_is_refused_by_the_database(alias, provider_on):
    provider = provider_on(alias)
    AIModel.objects.using(alias).create(provider=provider, capability="chat", model_id="a", is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic(using=alias):
        AIModel.objects.using(alias).bulk_create(
            [AIModel(provider=provider, capability="chat", model_id="b", is_active=True)]
        )


@pytest.mark.django_db(databases=DATABASE_ALIASES)
@pytest.mark.parametrize("alias", DATABASE_ALIASES)
def test_second_active_model_via_raw_sql_is_refused_by_the_database(alias, provider_on):
    provider = provider_on(alias)
    AIModel.objects.using(alias).create(provider=provider, capability="chat", model_id="a", is_active=True)
    table = AIModel._meta.db_table
    true = "TRUE" if engine(alias) == "postgresql" else "1"
    false = "FALSE" if engine(alias) == "postgresql" else "0"
    sql = (
        f"INSERT INTO {table} (provider_id, capability, model_id, display_name, is_free, config, is_active, "
        f"total_requests, created_at) VALUES (%s, 'chat', 'b', '', {false}, '{{}}', {true}, 0, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError), transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [provider.pk])


@pytest.mark.django_db(databases=DATABASE_ALIASES)
@pytest.mark.parametrize("alias", DATABASE_ALIASES)
def test_inactive_models_and_other_capabilities_are_not_limited(alias, provider_on):
    provider = provider_on(alias)
    models = AIModel.objects.using(alias)
    models.create(provider=provider, capability="chat", model_id="a", is_active=True)
    models.create(provider=provider, capability="chat", model_id="b", is_active=False)
    models.create(provider=provider, capability="chat", model_id="c", is_active=False)
    models.create(provider=provider, capability="image", model_id="d", is_active=True)
    assert models.filter(is_active=True).count() == 2


def test_constraint_tests_cover_postgresql_in_ci():
    import os

    if os.environ.get("CI") == "true":
        assert {engine(alias) for alias in DATABASE_ALIASES} == {"postgresql", "sqlite"}


@pytest.mark.django_db
def test_selecting_a_model_deactivates_the_previous_one_and_records_who(make_provider, superuser):
    provider = make_provider()
    first = aimodel_select(provider=provider, capability="chat", model_id="model-a", user=superuser)
    second = aimodel_select(provider=provider, capability="chat", model_id="model-b", user=superuser)
    first.refresh_from_db()
    assert not first.is_active and second.is_active
    assert second.selected_by == superuser
    assert AIModel.objects.filter(provider=provider, capability="chat", is_active=True).get() == second
    messages = list(LogEntry.objects.order_by("action_time").values_list("change_message", flat=True))
    assert messages[-1] == "Selected chat model model-b (was model-a)."


@pytest.mark.django_db
def test_reselecting_a_previous_model_reactivates_its_row(make_provider, superuser):
    provider = make_provider()
    aimodel_select(provider=provider, capability="chat", model_id="model-a", user=superuser)
    aimodel_select(provider=provider, capability="chat", model_id="model-b", user=superuser)
    again = aimodel_select(provider=provider, capability="chat", model_id="model-a", user=superuser)
    assert again.is_active
    assert AIModel.objects.filter(provider=provider, capability="chat").count() == 2


@pytest.mark.django_db
def test_a_failed_switch_leaves_the_previous_model_active(make_provider, superuser, monkeypatch):
    provider = make_provider()
    first = aimodel_select(provider=provider, capability="chat", model_id="model-a", user=superuser)

    def explode(*args, **kwargs):
        raise RuntimeError("history write failed")

    monkeypatch.setattr(LogEntry.objects, "log_actions", explode)
    with pytest.raises(RuntimeError):
        aimodel_select(provider=provider, capability="chat", model_id="model-b", user=superuser)
    first.refresh_from_db()
    assert first.is_active  # one transaction: nothing of the half-done switch remains
    assert not AIModel.objects.filter(model_id="model-b").exists()


@pytest.mark.django_db
def test_provider_with_unknown_adapter_loads_and_reports_it(make_provider):
    provider = AIProvider.objects.get(pk=make_provider(adapter="does-not-exist").pk)
    assert provider.adapter_available is False
    assert provider.adapter_status == "adapter missing"


@pytest.mark.django_db
def test_supported_capabilities_read_the_capabilities_json(make_provider):
    provider = make_provider(
        capabilities={"chat": {"supported": True}, "image": {"supported": False}, "audio": {"supported": True}}
    )
    assert provider.supported_capabilities == ["chat", "audio"]


def test_limit_ordering_needs_no_particular_user_field():
    """A host's user model may have no ``username``; Django's model check (models.E015) then
    refuses any ordering that names one."""
    from aiadmin.providers.models import AdminProviderLimit

    user_fields = [name for name in AdminProviderLimit._meta.ordering if name.lstrip("-").startswith("admin__")]
    assert user_fields == []
