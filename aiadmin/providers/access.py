"""Who may call a provider, and with which key (SPEC section 3). Pure decisions over loaded
rows: no queries here, so list pages can decide for many providers at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aiadmin.adapters.registry import registry

from .models import AdminProviderSettings, AIProvider, AIRequestLog
from .schema import config_auth_style, provider_broken_reason


class ModelAccessState(enum.StrEnum):
    AVAILABLE_PERSONAL = "available_personal"
    AVAILABLE_SHARED = "available_shared"
    NO_ACCESS = "no_access"
    DISABLED = "disabled"
    BROKEN = "broken"  # the stored settings are malformed; a superadmin must fix them


KeySource = AIRequestLog.KeySource


@dataclass(frozen=True, slots=True)
class AccessDecision:
    state: ModelAccessState
    key_source: str
    # What the admin can do about it, for the card and for error messages.
    reason: str

    @property
    def allowed(self) -> bool:
        return self.state in (ModelAccessState.AVAILABLE_PERSONAL, ModelAccessState.AVAILABLE_SHARED)


def provider_needs_key(provider: AIProvider) -> bool:
    adapter_class = registry.get(provider.adapter)
    if adapter_class is not None and not adapter_class.requires_key:
        return False
    return config_auth_style(provider.config) != "none"


def shared_key_permitted(*, admin, provider: AIProvider) -> bool:
    """Whether calls by this admin may use the provider's shared key (a key is set, and the
    admin is a superadmin or the provider shares it with normal admins)."""
    return bool(provider.shared_api_key) and (admin.is_superuser or provider.allow_shared_for_normal_admins)


def access_decide(
    *, admin, provider: AIProvider, settings: AdminProviderSettings | None
) -> AccessDecision:
    """Personal key (if allowed and not opted out) -> shared key (if set and permitted) -> none.
    A provider whose stored settings are malformed is unusable until a superadmin fixes it."""
    broken = provider_broken_reason(provider)
    if broken:
        return AccessDecision(ModelAccessState.BROKEN, KeySource.NONE, broken)
    if not provider.is_active:
        return AccessDecision(ModelAccessState.DISABLED, KeySource.NONE, f"{provider} is switched off by a superadmin.")
    if settings is not None and not settings.is_active:
        return AccessDecision(
            ModelAccessState.DISABLED, KeySource.NONE, f"Your settings for {provider} are switched off; switch them on to use it."
        )
    if not provider_needs_key(provider):
        return AccessDecision(ModelAccessState.AVAILABLE_SHARED, KeySource.NONE, f"{provider} needs no key.")
    has_personal = bool(provider.allow_personal_keys and settings is not None and settings.personal_api_key)
    shared_permitted = shared_key_permitted(admin=admin, provider=provider)
    wants_shared = settings is not None and settings.use_shared_api
    if has_personal and not (wants_shared and shared_permitted):
        return AccessDecision(ModelAccessState.AVAILABLE_PERSONAL, KeySource.PERSONAL, "Calls use your personal key.")
    if shared_permitted:
        return AccessDecision(ModelAccessState.AVAILABLE_SHARED, KeySource.SHARED, "Calls use the organisation's shared key.")
    return AccessDecision(ModelAccessState.NO_ACCESS, KeySource.NONE, _no_access_reason(admin=admin, provider=provider))


def _no_access_reason(*, admin, provider: AIProvider) -> str:
    if provider.allow_personal_keys:
        personal = "add your personal key under “My provider settings”"
        if provider.shared_api_key and not admin.is_superuser:
            return f"No key for {provider}: {personal}, or ask a superadmin to let normal admins use the shared key."
        if admin.is_superuser:
            return f"No key for {provider}: set its shared key on the provider page, or {personal}."
        return f"No key for {provider}: {personal}, or ask a superadmin to set a shared key."
    if admin.is_superuser:
        return f"No key for {provider}: set its shared key on the provider page."
    return f"No key for {provider}: it takes no personal keys; ask a superadmin to share the organisation's key."


def access_api_key(*, decision: AccessDecision, provider: AIProvider, settings: AdminProviderSettings | None) -> str | None:
    """The plaintext key a call would use (decrypted only here, only when needed)."""
    if decision.key_source == KeySource.PERSONAL and settings is not None:
        return settings.reveal_secret("personal_api_key")
    if decision.key_source == KeySource.SHARED:
        return provider.reveal_secret("shared_api_key")
    return None
