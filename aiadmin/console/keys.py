"""Forms and helpers for the keys pages. Both forms build on the providers app's forms, so a
key goes through the same write-only path as in the admin: encrypted on save, never rendered
back, a masked hint (last 4 characters at most), clearing by an explicit checkbox."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from unfold.widgets import UnfoldBooleanWidget

from aiadmin.providers.access import AccessDecision, ModelAccessState, access_decide, provider_needs_key
from aiadmin.providers.forms import AdminProviderSettingsForm, AIProviderForm, shared_key_offered
from aiadmin.providers.models import AdminProviderSettings, AIProvider

# "none" is for providers that need no key (the sandbox): the check tests the provider itself.
KEY_SOURCES = ("shared", "personal", "none")


class _PlainLabelsMixin:
    """Labels without a colon, as the playgrounds write theirs (one form style in the console)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class _ForgetsCheckMixin:
    """A new or cleared key makes the stored "Test connection" verdict about another key: drop it,
    so the page never says "Works" beside a key nobody has tested."""

    def apply_secrets(self, instance) -> None:
        super().apply_secrets(instance)
        name = self.secret_fields[0]
        if self.cleaned_data.get(name) or self.cleaned_data.get(f"clear_{name}"):
            instance.key_validated_at = instance.key_validation_ok = None
            instance.key_validation_message = ""


class SharedKeyForm(_PlainLabelsMixin, _ForgetsCheckMixin, AIProviderForm):
    """The provider's shared key and sharing policy; nothing else of the provider."""

    adapter = None  # drop the parent's declared field: the adapter is edited on the provider page
    field_order = ("shared_api_key", "clear_shared_api_key", "allow_shared_for_normal_admins", "allow_personal_keys")

    class Meta:
        model = AIProvider
        fields = ("allow_shared_for_normal_admins", "allow_personal_keys")
        widgets = {"allow_shared_for_normal_admins": UnfoldBooleanWidget(), "allow_personal_keys": UnfoldBooleanWidget()}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.shared_api_key:  # nothing to clear
            del self.fields["clear_shared_api_key"]


class PersonalKeyForm(_PlainLabelsMixin, _ForgetsCheckMixin, AdminProviderSettingsForm):
    """The admin's own key and the "use the shared key" choice. Admin and provider are set by
    the view, never posted, so nobody can write someone else's row. Options the admin cannot
    use are left out (the parent form decides, and refuses them if posted)."""

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
    # current_user: the parent form's duplicate-row check and which options it offers.
    return PersonalKeyForm(data, instance=row, current_user=admin)


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
    # The page's status line: what calls use now.
    status: str
    # The "My key" panel's sentence: what the admin can do on this page (not "go elsewhere").
    advice: str


def keys_state(*, admin, provider: AIProvider, row: AdminProviderSettings) -> KeysState:
    decision = access_decide(admin=admin, provider=provider, settings=row if row.pk else None)
    return KeysState(
        needs_key=provider_needs_key(provider),
        decision=decision,
        status=_status(provider=provider, decision=decision),
        advice=_advice(admin=admin, provider=provider, row=row, decision=decision),
    )


def _status(*, provider: AIProvider, decision: AccessDecision) -> str:
    if decision.state == ModelAccessState.AVAILABLE_PERSONAL:
        return f"Calls to {provider} use your personal key."
    if decision.state == ModelAccessState.AVAILABLE_SHARED:
        return f"Calls to {provider} use the organisation's shared key." if decision.key_source == "shared" else decision.reason
    if decision.state == ModelAccessState.NO_ACCESS:
        return f"You cannot call {provider} yet: there is no key you may use."
    return decision.reason  # switched off or broken: the reason says who fixes it


def _advice(*, admin, provider: AIProvider, row: AdminProviderSettings, decision: AccessDecision) -> str:
    """The access decision in this page's words: the card's reasons point here ("My provider
    settings"), so here they say "below" and "above" instead."""
    shared_offered = shared_key_offered(admin=admin, provider=provider)
    if decision.state == ModelAccessState.AVAILABLE_PERSONAL:
        if shared_offered:
            return "Calls use your personal key. Tick “Use the shared key” below to use the organisation's instead."
        return "Calls use your personal key."
    if decision.state == ModelAccessState.AVAILABLE_SHARED:
        if row.personal_api_key and row.use_shared_api and provider.allow_personal_keys:
            return "Calls use the organisation's shared key, as you chose below; untick “Use the shared key” to use your own."
        if provider.allow_personal_keys:
            return "Calls use the organisation's shared key. A personal key added below is used instead."
        return "Calls use the organisation's shared key."
    if decision.state != ModelAccessState.NO_ACCESS:
        return decision.reason
    if not provider.allow_personal_keys:
        if admin.is_superuser:
            return f"No key yet. {provider} takes no personal keys: set the shared key above."
        return f"No key yet. {provider} takes no personal keys: ask a superadmin to share the organisation's key."
    if admin.is_superuser:
        return "No key yet: add your personal key below, or set the shared key above."
    if provider.shared_api_key:
        return "No key yet: add your personal key below, or ask a superadmin to let normal admins use the shared key."
    return "No key yet: add your personal key below, or ask a superadmin to set a shared key."
