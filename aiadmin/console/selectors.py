"""Read-side queries for the console pages. The cards page costs the same three queries
whatever the number of providers (plus one for the admin's layout preference)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet

from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import CAPABILITIES
from aiadmin.providers.access import AccessDecision, KeySource, ModelAccessState, access_decide
from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider
from aiadmin.providers.schema import capability_flag, config_allows_private_network

from .stored_json import json_as_text, stored_json


_STATE_LABELS = {
    "available_personal": "personal key",
    "available_shared": "shared key",
    "no_access": "no access",
    "disabled": "disabled",
    "broken": "settings broken",
}


@dataclass(frozen=True, slots=True)
class CapabilityRow:
    capability: str
    supported: bool
    dynamic_models: bool
    active_model: str | None
    active_model_name: str | None
    preferred_model: str | None


@dataclass(frozen=True, slots=True)
class CardProvider:
    """What a card shows of a provider and what its access decision reads, as plain values:
    building a hundred model instances cost the cards page more than its queries. The shared
    key is the stored ciphertext, only ever tested for presence here."""

    pk: int
    slug: str
    name: str
    display_name: str
    adapter: str
    key_url: str
    capabilities: dict
    config: dict
    shared_api_key: object
    allow_personal_keys: bool
    allow_shared_for_normal_admins: bool
    is_active: bool
    sort_order: int
    total_requests: int
    last_used_at: datetime | None

    def __str__(self) -> str:
        return self.display_name or self.name

    @property
    def self_hosted(self) -> bool:
        return config_allows_private_network(self.config)


@dataclass(frozen=True, slots=True)
class CardSettings:
    """The admin's settings row for a provider, as far as a card needs it."""

    provider_id: int
    personal_api_key: object
    use_shared_api: bool
    is_active: bool
    preferred_models: dict
    total_requests: int


# The JSON columns come as their stored text (decoded through a memo: stored_json.py).
_JSON_FIELDS = frozenset({"capabilities", "config", "preferred_models"})


@functools.cache
def _columns(cls) -> tuple[list[str], list, list[int]]:
    """``values_list`` arguments for the dataclass's fields, in its order, and the positions
    of the JSON columns among them."""
    names = [field.name for field in dataclasses.fields(cls)]
    return (
        [name for name in names if name not in _JSON_FIELDS],
        [json_as_text(name) for name in names if name in _JSON_FIELDS],
        [position for position, name in enumerate(names) if name in _JSON_FIELDS],
    )


def _rows(queryset: QuerySet, cls) -> list:
    """``cls`` instances of the queryset's rows, the JSON columns decoded by the memo."""
    plain, json_columns, json_positions = _columns(cls)
    rows = []
    for row in queryset.values_list(*plain, *json_columns):
        values = list(row[: len(plain)])
        for position, text in zip(json_positions, row[len(plain) :]):
            values.insert(position, stored_json(text))
        rows.append(cls(*values))
    return rows


@dataclass(slots=True)
class ProviderCard:
    provider: CardProvider
    decision: AccessDecision
    adapter_missing: bool
    settings_row: CardSettings | None
    capabilities: list[CapabilityRow] = field(default_factory=list)
    # Empty when the admin can use the provider now; else one short reason ("Needs a key").
    setup_reason: str = ""

    @property
    def ready(self) -> bool:
        return not self.setup_reason

    @property
    def needs_key(self) -> bool:
        """False for keyless providers (local servers, the sandbox): no key badge for those."""
        return self.decision.key_source != KeySource.NONE

    @property
    def initials(self) -> str:
        words = [word for word in str(self.provider).replace("(", " ").split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"

    @property
    def state_label(self) -> str:
        return _STATE_LABELS.get(str(self.decision.state), str(self.decision.state))

    def row(self, capability: str) -> CapabilityRow | None:
        return next((row for row in self.capabilities if row.capability == capability), None)


def capability_row(*, provider: CardProvider, capability: str, active: tuple[str, str] | None, settings_row) -> CapabilityRow:
    """``active`` is the selected model as (model id, display name)."""
    return CapabilityRow(
        capability=capability,
        supported=capability_flag(provider.capabilities, capability, "supported", default=False),
        dynamic_models=capability_flag(provider.capabilities, capability, "dynamic_models", default=True),
        active_model=active[0] if active else None,
        active_model_name=(active[1] or active[0]) if active else None,
        preferred_model=(settings_row.preferred_models or {}).get(capability) if settings_row else None,
    )


def card_setup_reason(*, admin, provider: CardProvider, decision: AccessDecision, adapter_missing: bool) -> str:
    """One short reason why ``admin`` cannot use ``provider`` yet, "" when they can. The
    decision's full sentence stays available (as a tooltip); this is what a list shows."""
    if decision.state == ModelAccessState.BROKEN:
        return "Broken settings"
    if adapter_missing:
        return "Adapter missing"
    if decision.state == ModelAccessState.DISABLED:
        return "Inactive" if not provider.is_active else "Your settings are off"
    if decision.allowed:
        return ""
    if provider.allow_personal_keys:
        if provider.shared_api_key and not admin.is_superuser:
            return "Sharing off: add your own key"
        return "Needs a key"
    if provider.shared_api_key and not admin.is_superuser:
        return "Sharing off: ask a superadmin"
    return "Needs a shared key"


def cards_grouped(cards: list[ProviderCard]) -> tuple[list[ProviderCard], list[ProviderCard]]:
    """(ready to use, needs a key or setup), each in the providers' own order: what the admin
    can use comes first whatever its sort order."""
    ready = [card for card in cards if card.ready]
    return ready, [card for card in cards if not card.ready]


def provider_cards(*, admin, capability: str | None = None, query: str = "") -> list[ProviderCard]:
    providers = AIProvider.objects.order_by("sort_order", "name")
    if capability in CAPABILITIES:
        providers = providers.filter(**{f"capabilities__{capability}__supported": True})
    if query.strip():
        term = query.strip()
        providers = providers.filter(Q(name__icontains=term) | Q(display_name__icontains=term) | Q(slug__icontains=term))
    return _cards(admin=admin, providers=providers)


def _cards(*, admin, providers: QuerySet[AIProvider]) -> list[ProviderCard]:
    # Plain values, not model instances, throughout: building hundreds of instances costs more
    # than the queries.
    rows = _rows(providers, CardProvider)
    # The providers' filter as a subquery, not their keys as an IN list: building and sending
    # a hundred parameters cost more than the database's second look (about 0.3 ms a query).
    selected = providers.order_by().values("pk")
    active: dict[tuple[int, str], tuple[str, str]] = {
        (provider_id, capability): (model_id, display_name)
        for provider_id, capability, model_id, display_name in AIModel.objects.filter(
            provider_id__in=selected, is_active=True
        ).values_list("provider_id", "capability", "model_id", "display_name").order_by()
    }
    settings_rows = {
        row.provider_id: row
        for row in _rows(AdminProviderSettings.objects.filter(admin=admin, provider_id__in=selected).order_by(), CardSettings)
    }
    cards = []
    for provider in rows:
        settings_row = settings_rows.get(provider.pk)
        decision = access_decide(admin=admin, provider=provider, settings=settings_row)
        adapter_missing = provider.adapter not in registry
        cards.append(
            ProviderCard(
                provider=provider,
                decision=decision,
                adapter_missing=adapter_missing,
                settings_row=settings_row,
                setup_reason=card_setup_reason(admin=admin, provider=provider, decision=decision, adapter_missing=adapter_missing),
                capabilities=[
                    capability_row(provider=provider, capability=name, active=active.get((provider.pk, name)), settings_row=settings_row)
                    for name in CAPABILITIES
                ],
            )
        )
    return cards


def provider_card(*, admin, slug: str) -> ProviderCard | None:
    cards = _cards(admin=admin, providers=AIProvider.objects.filter(slug=slug))
    return cards[0] if cards else None
