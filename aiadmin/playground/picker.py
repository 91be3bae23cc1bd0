"""The model picker shared by the playgrounds: the selected models for a capability, which of
them the admin may use, and the monthly requests left where a limit applies.

An option's value is ``"provider_slug::model_id"``. A posted value is checked against the same
list, so a hand-made request cannot reach a model nobody selected (cost control).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from aiadmin.providers.models import AdminProviderLimit
from aiadmin.providers.usage import quota_remaining
from aiadmin.unified import AvailableModel, UnifiedAIService

SEPARATOR = "::"
_USABLE_STATES = frozenset({"available_personal", "available_shared"})
_WHY_NOT = {"no_access": "no key", "disabled": "switched off", "broken": "settings broken"}

service = UnifiedAIService()


class ChoiceError(ValueError):
    """The posted model is not one the admin can pick."""


@dataclass(frozen=True, slots=True)
class ModelChoice:
    value: str
    provider: str
    provider_name: str
    model_id: str
    label: str
    usable: bool
    # Why the option is disabled ("no key", ...); empty when usable.
    unavailable_reason: str
    # Requests left this month with this provider; None when the admin has no limit there.
    remaining_quota: int | None
    # The admin's preferred model for this capability at this provider (AdminProviderSettings).
    is_preference: bool = False


def choice_value(provider_slug: str, model_id: str) -> str:
    return f"{provider_slug}{SEPARATOR}{model_id}"


def choice_split(value: str) -> tuple[str, str]:
    provider_slug, separator, model_id = value.partition(SEPARATOR)
    if not separator or not provider_slug or not model_id:
        raise ChoiceError("Pick a model from the list.")
    return provider_slug, model_id


def choice_usable(model: AvailableModel) -> tuple[bool, str]:
    """Whether the admin can call this model now, and if not, why (for the disabled option)."""
    if model.extra.get("adapter_missing"):
        return False, "adapter missing"
    if model.access_state in _USABLE_STATES:
        return True, ""
    return False, _WHY_NOT.get(model.access_state, "unavailable")


def choice_label(model: AvailableModel) -> str:
    return f"{model.provider_name} · {model.display_name}" + (" (my choice)" if model.is_preference else "")


def quota_by_provider(admin, slugs: Iterable[str]) -> dict[str, int | None]:
    """Remaining monthly requests per provider slug, for the providers where a limit is set."""
    rows = AdminProviderLimit.objects.filter(
        admin=admin, provider__slug__in=list(slugs), monthly_limit__isnull=False
    ).select_related("provider")
    return {row.provider.slug: quota_remaining(limit_row=row) for row in rows}


def choice_default(choices: Iterable[ModelChoice]) -> ModelChoice | None:
    """The option preselected in a picker: the admin's preferred model if they can use it, else
    the first usable one (the providers' sort order)."""
    usable = [choice for choice in choices if choice.usable]
    return next((choice for choice in usable if choice.is_preference), usable[0] if usable else None)


def preferred_value(models: Iterable[AvailableModel]) -> str | None:
    """The picker value of the admin's usable preferred model, for a form's initial value."""
    for model in models:
        if model.is_preference and choice_usable(model)[0]:
            return choice_value(model.provider, model.model_id)
    return None


async def model_choices(capability: str, admin) -> list[ModelChoice]:
    available = await service.aget_available_models(capability, admin)
    quotas = await sync_to_async(quota_by_provider)(admin, {model.provider for model in available}) if available else {}
    choices = []
    for model in available:
        usable, reason = choice_usable(model)
        label = choice_label(model)
        choices.append(
            ModelChoice(
                value=choice_value(model.provider, model.model_id),
                provider=model.provider,
                provider_name=model.provider_name,
                model_id=model.model_id,
                label=label,
                usable=usable,
                unavailable_reason=reason,
                remaining_quota=quotas.get(model.provider),
                is_preference=model.is_preference,
            )
        )
    return choices


async def choice_resolve(value: str, capability: str, admin) -> tuple[str | None, str | None]:
    """``(provider_slug, model_id)`` for a posted picker value; ``(None, None)`` for "no
    choice", which lets the service take the first provider the admin can use."""
    if not value:
        return None, None
    provider_slug, model_id = choice_split(value)
    # An unusable choice still goes to the service: its refusal says what to do about it
    # (which key to add) and lands in the usage ledger like any refused call.
    available = await service.aget_available_models(capability, admin)
    if any(model.provider == provider_slug and model.model_id == model_id for model in available):
        return provider_slug, model_id
    raise ChoiceError(f"{model_id} is not a selected {capability} model. Pick a model from the list.")
