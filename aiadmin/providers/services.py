"""Write-side services for providers and selected models (HackSoft style: keyword-only)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from aiadmin.adapters.types import CAPABILITIES, ModelInfo

from .models import AIModel, AIProvider


def aimodel_select(
    *,
    provider: AIProvider,
    capability: str,
    model_id: str,
    user: AbstractBaseUser | None,
    info: ModelInfo | None = None,
) -> AIModel:
    """Make ``model_id`` the provider's active model for ``capability`` in one transaction:
    the previous one is deactivated, the choice is recorded in the admin history.

    The organisation's active models are the superadmins' call: anyone else is refused here,
    whichever view, action or service asked (``PermissionDenied``: a 403 in any view)."""
    if not _is_superadmin(user):
        raise PermissionDenied("Only superadmins choose the organisation's active models.")
    if capability not in CAPABILITIES:
        raise ValueError(f"Unknown capability {capability!r}.")
    details = _model_details(info)
    with transaction.atomic():
        # Lock the provider row so two concurrent selections serialise instead of colliding
        # on the one-active-model constraint.
        AIProvider.objects.select_for_update().only("pk").get(pk=provider.pk)
        previous = (
            AIModel.objects.filter(provider=provider, capability=capability, is_active=True)
            .exclude(model_id=model_id)
            .first()
        )
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active"])
        selected, _ = AIModel.objects.update_or_create(
            provider=provider,
            capability=capability,
            model_id=model_id,
            defaults={
                **details,
                "is_active": True,
                "selected_by": user,
                "selected_at": timezone.now(),
            },
        )
        was = f" (was {previous.model_id})" if previous is not None else ""
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[provider],
            action_flag=CHANGE,
            change_message=f"Selected {capability} model {model_id}{was}.",
            single_object=True,
        )
    return selected


def _is_superadmin(user: AbstractBaseUser | None) -> bool:
    return bool(user is not None and user.pk and user.is_active and user.is_superuser)


def _model_details(info: ModelInfo | None) -> dict[str, object]:
    if info is None:
        return {}
    return {
        "display_name": info.name[:255],
        "is_free": info.is_free,
        "pricing_input": _price(info.pricing_input),
        "pricing_output": _price(info.pricing_output),
        "context_window": info.context_window,
    }


def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.000001"))
