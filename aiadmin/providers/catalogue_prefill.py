""""Start from the catalogue" on the provider add form: the catalogue's entries to pick from,
and the initial form values of one (nothing is saved until the admin saves the form)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalogue import CatalogueError, catalogue_load
from .models import AIProvider

# The catalogue entry's fields the form takes as they are.
_FORM_FIELDS = (
    "slug", "name", "display_name", "description", "adapter", "api_base_url", "website", "docs_url", "key_url",
    "capabilities", "config", "sort_order", "is_active", "allow_personal_keys", "allow_shared_for_normal_admins",
)


@dataclass(frozen=True)
class CatalogueChoice:
    slug: str
    label: str
    added: bool  # a provider with this slug exists already


def catalogue_choices() -> list[CatalogueChoice]:
    """The catalogue's providers by name (empty when the catalogue file is broken: the form
    still works by hand, and ``import_providers`` names the problem)."""
    try:
        entries = catalogue_load()
    except CatalogueError:
        return []
    existing = set(AIProvider.objects.filter(slug__in=[entry["slug"] for entry in entries]).values_list("slug", flat=True))
    return sorted(
        (CatalogueChoice(slug=entry["slug"], label=entry.get("display_name") or entry["name"], added=entry["slug"] in existing) for entry in entries),
        key=lambda choice: choice.label.lower(),
    )


def catalogue_initial(*, slug: str) -> dict[str, Any] | None:
    """The add form's initial values from the catalogue entry ``slug`` (None: no such entry)."""
    try:
        entries = catalogue_load()
    except CatalogueError:
        return None
    entry = next((entry for entry in entries if entry["slug"] == slug), None)
    if entry is None:
        return None
    return {name: entry[name] for name in _FORM_FIELDS if entry.get(name) is not None}
