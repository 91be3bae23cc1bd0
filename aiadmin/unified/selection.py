"""Sync helpers of the unified service for model lists, selection and key checks."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.errors import (
    AIAdminError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    UnsupportedOperationError,
)
from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import CAPABILITIES, KeyValidation
from aiadmin.providers.access import ModelAccessState, access_api_key, access_decide
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider
from aiadmin.providers.schema import capability_flag
from aiadmin.providers.services import aimodel_select

from .errors import NoAccessError
from .plan import provider_adapter, provider_require_usable_settings
from .results import AvailableModel, BrowsedModel


@dataclass
class ProviderContext:
    provider: AIProvider
    api_key: str | None
    selected_model_id: str | None = None
    settings_row: AdminProviderSettings | None = None
    key_source: str = "none"

    def adapter(self) -> BaseAdapter:
        return provider_adapter(self.provider, self.api_key)


@dataclass(frozen=True)
class Selection:
    provider: str
    capability: str
    model_id: str
    # "organisation" (the provider's active model) or "personal" (the admin's preference).
    scope: str


def _provider(slug: str) -> AIProvider:
    provider = AIProvider.objects.filter(slug=slug).first()
    if provider is None:
        raise NotFoundError(f"There is no provider “{slug}”. Check the slug on the providers page.")
    return provider


def _settings_row(admin, provider: AIProvider) -> AdminProviderSettings | None:
    if not getattr(admin, "pk", None):
        return None
    return AdminProviderSettings.objects.filter(admin=admin, provider=provider).first()


def _check_capability(provider: AIProvider, capability: str) -> None:
    if capability not in CAPABILITIES:
        raise UnsupportedOperationError(f"Unknown capability “{capability}”.", provider=str(provider))
    provider_require_usable_settings(provider)
    if not provider.supports(capability):
        raise UnsupportedOperationError(f"{provider} is not set up for {capability}.", provider=str(provider))


def browse_context(*, provider_slug: str, capability: str, admin) -> ProviderContext:
    provider = _provider(provider_slug)
    registry.require(provider.adapter, provider=str(provider))
    _check_capability(provider, capability)
    if not capability_flag(provider.capabilities, capability, "dynamic_models", default=True):
        raise UnsupportedOperationError(
            f"{provider} publishes no {capability} model list: enter the model id by hand.", provider=str(provider)
        )
    settings_row = _settings_row(admin, provider)
    decision = access_decide(admin=admin, provider=provider, settings=settings_row)
    if not decision.allowed:
        error_class = ConfigurationError if decision.state == ModelAccessState.DISABLED else NoAccessError
        raise error_class(decision.reason, provider=str(provider))
    active = AIModel.objects.filter(provider=provider, capability=capability, is_active=True).values_list("model_id", flat=True).first()
    preferred = (settings_row.preferred_models or {}).get(capability) if settings_row else None
    return ProviderContext(
        provider=provider,
        api_key=access_api_key(decision=decision, provider=provider, settings=settings_row),
        selected_model_id=preferred or active,
        settings_row=settings_row,
        key_source=decision.key_source,
    )


def selection_save(*, provider_slug: str, capability: str, model_id: str, admin, info: BrowsedModel | None) -> Selection:
    """Superadmins set the organisation's active model; other admins a personal preference."""
    provider = _provider(provider_slug)
    _check_capability(provider, capability)
    if getattr(admin, "is_superuser", False):
        aimodel_select(provider=provider, capability=capability, model_id=model_id, user=admin, info=info.info() if info else None)
        return Selection(provider.slug, capability, model_id, "organisation")
    if not getattr(admin, "is_staff", False):
        raise PermissionDeniedError("Only admins can choose models.", provider=str(provider))
    with transaction.atomic():
        row, _ = AdminProviderSettings.objects.select_for_update().get_or_create(admin=admin, provider=provider)
        previous = (row.preferred_models or {}).get(capability)
        row.preferred_models = {**(row.preferred_models or {}), capability: model_id}
        row.save(update_fields=["preferred_models", "updated_at"])
        was = f" (was {previous})" if previous else ""
        LogEntry.objects.log_actions(
            user_id=admin.pk,
            queryset=[row],
            action_flag=CHANGE,
            change_message=f"Preferred {capability} model set to {model_id}{was}.",
            single_object=True,
        )
    return Selection(provider.slug, capability, model_id, "personal")


def available_models(*, capability: str, admin) -> list[AvailableModel]:
    """The selected models for a capability (and the admin's preferences), with access."""
    providers = [
        provider
        for provider in AIProvider.objects.filter(is_active=True).order_by("sort_order", "name")
        if provider.supports(capability)
    ]
    active = {
        row.provider_id: row
        for row in AIModel.objects.filter(provider__in=providers, capability=capability, is_active=True)
    }
    settings_rows = (
        {row.provider_id: row for row in AdminProviderSettings.objects.filter(admin=admin, provider__in=providers)}
        if getattr(admin, "pk", None)
        else {}
    )
    found = []
    for provider in providers:
        settings_row = settings_rows.get(provider.pk)
        decision = access_decide(admin=admin, provider=provider, settings=settings_row)
        preferred = (settings_row.preferred_models or {}).get(capability) if settings_row else None
        selected = active.get(provider.pk)
        for model_id, display, is_preference in (
            # The selected model is also "my choice" when the admin's preference names it.
            (selected.model_id, selected.display_name or selected.model_id, selected.model_id == preferred) if selected else (None, None, False),
            (preferred, preferred, True) if preferred and preferred != getattr(selected, "model_id", None) else (None, None, True),
        ):
            if model_id:
                found.append(
                    AvailableModel(
                        provider=provider.slug,
                        provider_name=str(provider),
                        capability=capability,
                        model_id=model_id,
                        display_name=display,
                        access_state=str(decision.state),
                        key_source=decision.key_source,
                        is_preference=is_preference,
                        extra={"adapter_missing": provider.adapter not in registry, "adapter": provider.adapter},
                    )
                )
    return found


def validation_target(*, provider_slug: str, admin, key_source: str | None) -> ProviderContext:
    """Whose key to test: superadmins test the shared key, everyone may test their own."""
    provider = _provider(provider_slug)
    registry.require(provider.adapter, provider=str(provider))
    settings_row = _settings_row(admin, provider)
    if key_source is None:
        key_source = access_decide(admin=admin, provider=provider, settings=settings_row).key_source
    if key_source == "shared":
        if not getattr(admin, "is_superuser", False):
            raise PermissionDeniedError("Only superadmins test the shared key.", provider=str(provider))
        if not provider.shared_api_key:
            raise NoAccessError(f"{provider} has no shared key to test.", provider=str(provider))
        return ProviderContext(provider=provider, api_key=provider.reveal_secret("shared_api_key"), key_source="shared")
    if key_source == "personal":
        if settings_row is None or not settings_row.personal_api_key:
            raise NoAccessError(f"You have no personal key for {provider} to test.", provider=str(provider))
        return ProviderContext(
            provider=provider, api_key=settings_row.reveal_secret("personal_api_key"), settings_row=settings_row, key_source="personal"
        )
    return ProviderContext(provider=provider, api_key=None, key_source="none")


def validation_store(*, target: ProviderContext, result: KeyValidation, admin=None) -> None:
    """Personal checks go on the admin's settings row; shared-key checks, and checks of a
    provider that needs no key made by a superadmin, on the provider row."""
    values = {"key_validated_at": timezone.now(), "key_validation_ok": result.ok, "key_validation_message": result.message[:500]}
    if target.key_source == "personal" and target.settings_row is not None:
        AdminProviderSettings.objects.filter(pk=target.settings_row.pk).update(**values)
    elif target.key_source == "shared" or (target.key_source == "none" and getattr(admin, "is_superuser", False)):
        AIProvider.objects.filter(pk=target.provider.pk).update(**values)


__all__ = ["AIAdminError", "ProviderContext", "Selection"]
