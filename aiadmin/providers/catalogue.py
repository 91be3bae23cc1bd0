"""The provider catalogue: validation of catalogue files and their idempotent import.

A re-import changes a catalogue field only where the admin has not edited it: each provider
keeps the catalogue values it was last imported with (``catalogue_data``), so a field whose
current value differs from that snapshot is an admin edit and is left alone. Keys, activation,
sort order and sharing policy are set when a provider is created and never again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from aiadmin.adapters import safejson
from aiadmin.adapters.types import CAPABILITIES
from aiadmin.adapters.urlguard import base_url_save_problem

from .models import AIModel, AIProvider
from .schema import config_allows_private_network, provider_json_problems

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue" / "providers.json"

# Fields the catalogue owns (until an admin edits them).
MANAGED_FIELDS = (
    "name",
    "display_name",
    "description",
    "adapter",
    "api_base_url",
    "website",
    "docs_url",
    "key_url",
    "capabilities",
    "config",
)
# Fields the catalogue sets on creation only.
CREATE_ONLY_FIELDS = ("sort_order", "is_active", "allow_personal_keys", "allow_shared_for_normal_admins")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MISSING = object()


class CatalogueError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # (slug, field) pairs left alone because an admin changed them.
    kept_admin_edits: list[tuple[str, str]] = field(default_factory=list)
    # Providers whose shared key was cleared because the catalogue moved their base URL.
    keys_cleared: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)


def catalogue_load(*, path: Path = CATALOGUE_PATH) -> list[dict[str, Any]]:
    """Read and validate a catalogue file; every problem is reported, with slug and field."""
    try:
        raw = safejson.loads(Path(path).read_bytes())
    except FileNotFoundError as err:
        raise CatalogueError([f"{path}: file not found"]) from err
    except safejson.UnsafeJSONError as err:
        raise CatalogueError([f"{path}: {err}"]) from err
    entries = raw.get("providers") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise CatalogueError([f"{path}: expected a list of providers (or an object with 'providers')"])
    _raise_problems(entries)
    return entries


def _raise_problems(entries: list[Any]) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = entry.get("slug") if isinstance(entry, dict) and isinstance(entry.get("slug"), str) else f"#{index}"
        entry_problems = list(_entry_problems(entry))
        problems.extend(f"{label}: {problem}" for problem in entry_problems)
        if not entry_problems:
            if label in seen:
                problems.append(f"{label}: slug: appears more than once")
            seen.add(label)
    if problems:
        raise CatalogueError(problems)


def _entry_problems(entry: Any):
    if not isinstance(entry, dict):
        yield "entry: must be an object"
        return
    slug = entry.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        yield "slug: must be lowercase letters, digits and hyphens"
    for name in ("name", "adapter"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            yield f"{name}: required text"
    for name in ("display_name", "description"):
        if not isinstance(entry.get(name, ""), str):
            yield f"{name}: must be text"
    for name in ("api_base_url", "website", "docs_url", "key_url"):
        value = entry.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
            yield f"{name}: must be an http(s) URL"
        elif name == "api_base_url":
            problem = base_url_save_problem(value, allow_private_network=config_allows_private_network(entry.get("config")))
            if problem:
                yield f"{name}: {problem}"
    capabilities, config = entry.get("capabilities", {}), entry.get("config", {})
    adapter = entry.get("adapter") if isinstance(entry.get("adapter"), str) else None
    yield from map(str, provider_json_problems(capabilities=capabilities, config=config, adapter=adapter))
    if not isinstance(entry.get("sort_order", 0), int) or entry.get("sort_order", 0) < 0:
        yield "sort_order: must be a whole number >= 0"
    for name in ("is_active", "allow_personal_keys", "allow_shared_for_normal_admins"):
        if not isinstance(entry.get(name, True), bool):
            yield f"{name}: must be true or false"
    default_models = entry.get("default_models", {})
    if not isinstance(default_models, dict) or any(
        capability not in CAPABILITIES or not isinstance(model_id, str) or not model_id
        for capability, model_id in default_models.items()
    ):
        yield "default_models: must map capabilities to model ids"


def _managed_values(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": entry["name"],
        "display_name": entry.get("display_name") or "",
        "description": entry.get("description") or "",
        "adapter": entry["adapter"],
        "api_base_url": entry.get("api_base_url") or "",
        "website": entry.get("website") or "",
        "docs_url": entry.get("docs_url") or "",
        "key_url": entry.get("key_url") or "",
        "capabilities": entry.get("capabilities") or {},
        "config": entry.get("config") or {},
    }


@transaction.atomic
def catalogue_import(*, entries: list[dict[str, Any]]) -> ImportReport:
    """Import validated entries; entries that were not loaded by :func:`catalogue_load` are
    checked here too, so nothing malformed is written (and nothing at all if one is)."""
    _raise_problems(entries)
    report = ImportReport()
    existing = {provider.slug: provider for provider in AIProvider.objects.filter(slug__in=[e["slug"] for e in entries])}
    for entry in entries:
        provider = existing.get(entry["slug"])
        if provider is None:
            _create(entry)
            report.created.append(entry["slug"])
        elif _merge(provider, _managed_values(entry), report):
            report.updated.append(entry["slug"])
        else:
            report.unchanged.append(entry["slug"])
    return report


def _create(entry: Mapping[str, Any]) -> None:
    values = _managed_values(entry)
    provider = AIProvider.objects.create(
        slug=entry["slug"],
        **values,
        sort_order=entry.get("sort_order", 100),
        is_active=entry.get("is_active", True),
        allow_personal_keys=entry.get("allow_personal_keys", True),
        allow_shared_for_normal_admins=entry.get("allow_shared_for_normal_admins", False),
        catalogue_data=values,
    )
    AIModel.objects.bulk_create(
        AIModel(provider=provider, capability=capability, model_id=model_id, is_active=True)
        for capability, model_id in entry.get("default_models", {}).items()
    )


def _merge(provider: AIProvider, values: dict[str, Any], report: ImportReport) -> bool:
    snapshot = provider.catalogue_data or {}
    changed_fields = []
    for name, new in values.items():
        current = getattr(provider, name)
        if current == new:
            continue
        imported = snapshot.get(name, _MISSING)
        # No snapshot at all: the row was made by hand, so every difference is an admin edit.
        if (not snapshot) or (imported is not _MISSING and current != imported):
            report.kept_admin_edits.append((provider.slug, name))
            continue
        setattr(provider, name, new)
        changed_fields.append(name)
    if not changed_fields and snapshot == values:
        return False
    had_key = bool(provider.shared_api_key)
    provider.catalogue_data = values
    provider.save(update_fields=[*changed_fields, "catalogue_data", "updated_at"])
    if had_key and not provider.shared_api_key:
        report.keys_cleared.append(provider.slug)
    return bool(changed_fields)
