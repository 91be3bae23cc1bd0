"""Choosing provider, model and key for one call (sync, runs in one thread hop).

Model choice: the explicit model, else the admin's preference, else the provider's active
model; without a provider, the first active provider by sort order that has a model for the
capability and that the admin may use.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.errors import (
    AIAdminError,
    ConfigurationError,
    NotFoundError,
    UnsupportedOperationError,
)
from aiadmin.adapters.registry import registry
from aiadmin.providers.access import AccessDecision, access_api_key, access_decide
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider
from aiadmin.providers.usage import ModelPrice, quota_consume, quota_remaining

from .errors import NoAccessError, ScopeError
from .model_lists import model_list_price, provider_fingerprint


def provider_require_usable_settings(provider: AIProvider) -> None:
    """Refuse a provider whose stored capabilities or config are malformed (edited in SQL, an
    old import): a clear error instead of an adapter tripping over them."""
    broken = provider.broken_reason
    if broken:
        raise ConfigurationError(broken, provider=str(provider))


def provider_adapter(provider: AIProvider, api_key: str | None) -> BaseAdapter:
    """The provider's adapter, set up with its base URL, config and the key a call uses."""
    adapter_class = registry.require(provider.adapter, provider=str(provider))
    provider_require_usable_settings(provider)
    return adapter_class(
        base_url=provider.api_base_url, api_key=api_key, config=provider.config or {}, provider_name=str(provider)
    )


@dataclass
class CallPlan:
    admin: object
    capability: str
    provider: AIProvider
    settings_row: AdminProviderSettings | None
    decision: AccessDecision
    model: AIModel | None  # the selected row, when the model is one (pricing, counters)
    model_id: str
    api_key: str | None
    # The superadmin's limit for (admin, provider), looked up on its own: having no settings
    # row never means "no limit".
    limit_row: AdminProviderLimit | None = None
    counted_against_limit: bool = False
    remaining_quota: int | None = None
    # Prices for the ledger: the model row's, else the cached model list's (None: unknown).
    price: ModelPrice | None = None
    # The API token the call came through (None: the console or host code).
    api_token_id: int | None = None

    def adapter(self) -> BaseAdapter:
        return provider_adapter(self.provider, self.api_key)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,) if self.api_key else ()


class PlanError(Exception):
    """A call refused before it reached the provider; carries what the ledger needs."""

    def __init__(self, error: AIAdminError, *, provider: AIProvider | None, provider_slug: str, model_id: str, key_source: str):
        super().__init__(str(error))
        self.error = error
        self.provider = provider
        self.provider_slug = provider_slug
        self.model_id = model_id
        self.key_source = key_source


def _settings_for(admin, providers: list[AIProvider]) -> dict[int, AdminProviderSettings]:
    if not getattr(admin, "pk", None):
        return {}
    rows = AdminProviderSettings.objects.filter(admin=admin, provider__in=providers).order_by()
    return {row.provider_id: row for row in rows}


def _limit_for(admin, provider: AIProvider) -> AdminProviderLimit | None:
    if not getattr(admin, "pk", None):
        return None
    return AdminProviderLimit.objects.filter(admin=admin, provider=provider).order_by().first()


def _active_models(providers: list[AIProvider], capability: str) -> dict[int, AIModel]:
    rows = AIModel.objects.filter(provider__in=providers, capability=capability, is_active=True).order_by()
    return {row.provider_id: row for row in rows}


def _model_for(
    *, provider: AIProvider, capability: str, model_id: str | None, settings_row: AdminProviderSettings | None, active: AIModel | None
) -> tuple[AIModel | None, str | None]:
    if model_id:
        if active is not None and active.model_id == model_id:
            return active, model_id
        row = AIModel.objects.filter(provider=provider, capability=capability, model_id=model_id).first()
        return row, model_id
    preferred = (settings_row.preferred_models or {}).get(capability) if settings_row else None
    if preferred:
        if active is not None and active.model_id == preferred:
            return active, preferred
        row = AIModel.objects.filter(provider=provider, capability=capability, model_id=preferred).first()
        return row, preferred
    if active is not None:
        return active, active.model_id
    return None, None


def plan_resolve(
    *,
    admin,
    capability: str,
    provider_slug: str | None = None,
    model_id: str | None = None,
    providers: frozenset[str] | None = None,
) -> CallPlan:
    """Provider, settings, model and key for a call (reads only; the limit is counted by
    :func:`plan_consume_quota`). ``providers``: the only provider slugs the call may use (an
    API token's scope); None: any the admin may use."""
    if provider_slug:
        if providers is not None and provider_slug not in providers:
            raise _refuse(
                ScopeError(f"This API token may not use the provider “{provider_slug}”."),
                provider=None, slug=provider_slug, model_id=model_id,
            )
        return _plan_for_provider(admin=admin, capability=capability, provider_slug=provider_slug, model_id=model_id)
    return _plan_first_usable(admin=admin, capability=capability, model_id=model_id, providers=providers)


def plan_routing_key(
    *, admin, capability: str, provider_slug: str | None, model_id: str | None, providers: frozenset[str] | None = None
) -> tuple:
    return (getattr(admin, "pk", None), capability, provider_slug, model_id, providers)


def plan_under_limit(plan: CallPlan) -> bool:
    return plan.limit_row is not None and plan.limit_row.monthly_limit is not None


def _refuse(error: AIAdminError, *, provider: AIProvider | None, slug: str, model_id: str | None, key_source: str = "none"):
    return PlanError(error, provider=provider, provider_slug=slug, model_id=model_id or "", key_source=key_source)


def _plan_for_provider(*, admin, capability: str, provider_slug: str, model_id: str | None) -> CallPlan:
    provider = AIProvider.objects.filter(slug=provider_slug).order_by().first()
    if provider is None:
        raise _refuse(
            NotFoundError(f"There is no provider “{provider_slug}”. Check the slug on the providers page."),
            provider=None, slug=provider_slug, model_id=model_id,
        )
    settings_row = _settings_for(admin, [provider]).get(provider.pk)
    active = _active_models([provider], capability).get(provider.pk)
    return _checked_plan(admin=admin, capability=capability, provider=provider, settings_row=settings_row, active=active, model_id=model_id)


def _checked_plan(
    *, admin, capability: str, provider: AIProvider, settings_row, active: AIModel | None, model_id: str | None
) -> CallPlan:
    name = str(provider)

    def refuse(error: AIAdminError, key_source: str = "none") -> PlanError:
        return _refuse(error, provider=provider, slug=provider.slug, model_id=model_id, key_source=key_source)

    try:
        registry.require(provider.adapter, provider=name)
        provider_require_usable_settings(provider)
    except AIAdminError as err:
        raise refuse(err) from err
    if not provider.supports(capability):
        raise refuse(UnsupportedOperationError(f"{name} is not set up for {capability}. Pick another provider.", provider=name))
    decision = access_decide(admin=admin, provider=provider, settings=settings_row)
    if not decision.allowed:
        error_class = ConfigurationError if decision.state == "disabled" else NoAccessError
        raise refuse(error_class(decision.reason, provider=name))
    model, chosen = _model_for(provider=provider, capability=capability, model_id=model_id, settings_row=settings_row, active=active)
    if not chosen:
        raise refuse(
            ConfigurationError(f"No {capability} model is selected for {name}. Pick one in its model browser.", provider=name),
            decision.key_source,
        )
    limit_row = _limit_for(admin, provider)
    api_key = access_api_key(decision=decision, provider=provider, settings=settings_row)
    return CallPlan(
        admin=admin,
        capability=capability,
        provider=provider,
        settings_row=settings_row,
        decision=decision,
        model=model,
        model_id=chosen,
        api_key=api_key,
        limit_row=limit_row,
        remaining_quota=quota_remaining(limit_row=limit_row),
        price=_model_price(provider=provider, model=model, model_id=chosen, api_key=api_key),
    )


def _model_price(*, provider: AIProvider, model: AIModel | None, model_id: str, api_key: str | None) -> ModelPrice | None:
    """A model row's prices; for a model without a row (a personal preference, an explicit id)
    or a row without prices (a catalogue default), those of the provider's cached model list,
    so its calls are priced like any other."""
    row_price = ModelPrice.of(model)
    if row_price is not None and (row_price.input is not None or row_price.output is not None):
        return row_price
    fingerprint = provider_fingerprint(adapter=provider.adapter, base_url=provider.api_base_url, config=provider.config or {})
    return model_list_price(provider_id=provider.pk, fingerprint=fingerprint, api_key=api_key, model_id=model_id) or row_price


def _plan_first_usable(*, admin, capability: str, model_id: str | None, providers: frozenset[str] | None = None) -> CallPlan:
    candidates = AIProvider.objects.filter(is_active=True).order_by("sort_order", "name")
    if providers is not None:
        candidates = candidates.filter(slug__in=providers)
    providers = list(candidates)
    active = _active_models(providers, capability)
    settings_rows = _settings_for(admin, providers)
    for provider in providers:
        selected = active.get(provider.pk)
        settings_row = settings_rows.get(provider.pk)
        preferred = (settings_row.preferred_models or {}).get(capability) if settings_row else None
        if selected is None and not preferred:
            continue
        if model_id and model_id not in {getattr(selected, "model_id", None), preferred}:
            continue
        if provider.adapter not in registry or not provider.supports(capability):
            continue
        if not access_decide(admin=admin, provider=provider, settings=settings_row).allowed:
            continue
        return _checked_plan(
            admin=admin, capability=capability, provider=provider, settings_row=settings_row, active=selected, model_id=model_id
        )
    wanted = f"model {model_id}" if model_id else f"{capability} model"
    raise _refuse(
        NoAccessError(
            f"No provider you can use has a {wanted} selected. Select one in a provider's model browser, "
            "or add a key for a provider that has one."
        ),
        provider=None, slug="", model_id=model_id,
    )


def plan_consume_quota(plan: CallPlan) -> None:
    if not plan_under_limit(plan):
        return
    try:
        plan.remaining_quota = quota_consume(limit_row=plan.limit_row, provider=plan.provider)
    except AIAdminError as err:
        raise _refuse(err, provider=plan.provider, slug=plan.provider.slug, model_id=plan.model_id, key_source=plan.decision.key_source) from err
    plan.counted_against_limit = True
