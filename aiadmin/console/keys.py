"""Forms and helpers for the keys pages. Both forms build on the providers app's forms, so a
key goes through the same write-only path as in the admin: encrypted on save, never rendered
back, a masked hint (last 4 characters at most), clearing by an explicit checkbox."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from unfold.widgets import UnfoldBooleanWidget

from aiadmin.providers.access import AccessDecision, access_decide, provider_needs_key
from aiadmin.providers.forms import AdminProviderSettingsForm, AIProviderForm
from aiadmin.providers.models import AdminProviderSettings, AIProvider

# "none" is for providers that need no key (the sandbox): the check tests the provider itself.
KEY_SOURCES = ("shared", "personal", "none")


class SharedKeyForm(AIProviderForm):
    """The provider's shared key and sharing policy; nothing else of the provider."""

    adapter = None  # drop the parent's declared field: the adapter is edited on the provider page
    field_order = ("shared_api_key", "clear_shared_api_key", "allow_shared_for_normal_admins", "allow_personal_keys")

    class Meta:
        model = AIProvider
        fields = ("allow_shared_for_normal_admins", "allow_personal_keys")
        widgets = {"allow_shared_for_normal_admins": UnfoldBooleanWidget(), "allow_personal_keys": UnfoldBooleanWidget()}


class PersonalKeyForm(AdminProviderSettingsForm):
    """The admin's own key and the "use the shared key" choice. Admin and provider are set by
    the view, never posted, so nobody can write someone else's row."""

    field_order = ("personal_api_key", "clear_personal_api_key", "use_shared_api")

    class Meta:
        model = AdminProviderSettings
        fields = ("use_shared_api",)
        widgets = {"use_shared_api": UnfoldBooleanWidget()}


def shared_key_save(*, user, form: SharedKeyForm) -> AIProvider:
    """Save a valid shared-key form: the shared key and the sharing policy are the
    superadmins' call, refused here for anyone else whatever view called."""
    if not (user.is_active and user.is_superuser):
        raise PermissionDenied("Only superadmins set the shared key and the sharing policy.")
    provider = form.save()
    change_log(user=user, obj=provider, form=form, secret="shared_api_key", label="shared key")
    return provider


def settings_row_for(*, admin, provider: AIProvider) -> AdminProviderSettings:
    """The admin's row, or an unsaved one: it is created on the first save."""
    row = AdminProviderSettings.objects.filter(admin=admin, provider=provider).first()
    return row or AdminProviderSettings(admin=admin, provider=provider)


def personal_form(*, admin, row: AdminProviderSettings, data=None) -> PersonalKeyForm:
    form = PersonalKeyForm(data, instance=row)
    form.current_user = admin  # enables the parent form's duplicate-row check
    return form


def change_log(*, user, obj, form, secret: str, label: str, added: bool = False) -> None:
    """Admin history for a keys page save: what changed, never a key or its hint."""
    parts = []
    if form.cleaned_data.get(f"clear_{secret}"):
        parts.append(f"{label} cleared")
    elif form.cleaned_data.get(secret):
        parts.append(f"{label} set")
    changed = [name for name in form.changed_data if name in form.Meta.fields]
    if changed:
        parts.append("changed " + ", ".join(str(form.fields[name].label).lower() for name in changed))
    if parts:
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[obj],
            action_flag=ADDITION if added else CHANGE,
            change_message="; ".join(parts).capitalize() + " on the keys page.",
            single_object=True,
        )


@dataclass(frozen=True, slots=True)
class KeysState:
    needs_key: bool
    decision: AccessDecision


def keys_state(*, admin, provider: AIProvider, row: AdminProviderSettings) -> KeysState:
    return KeysState(
        needs_key=provider_needs_key(provider),
        decision=access_decide(admin=admin, provider=provider, settings=row if row.pk else None),
    )
