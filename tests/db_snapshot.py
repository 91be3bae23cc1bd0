"""What a staff admin must never be able to change, as stored, for before/after comparisons
in the staff-route tests (ciphertext and ``updated_at`` included, so any save shows)."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog


def snapshot(*, settings: bool = True) -> dict:
    """``settings=False`` leaves out the settings rows, for routes where staff may edit their own."""
    state = {
        "providers": list(AIProvider.objects.order_by("pk").values()),
        "models": list(AIModel.objects.order_by("pk").values()),
        "limits": list(AdminProviderLimit.objects.order_by("pk").values()),
        "ledger": list(AIRequestLog.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values("pk", "username", "is_staff", "is_superuser", "is_active")),
        "groups": list(Group.objects.order_by("pk").values()),
    }
    if settings:
        state["settings"] = list(AdminProviderSettings.objects.order_by("pk").values())
    return state
