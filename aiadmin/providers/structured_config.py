"""The provider form's structured fields, as plain values, and their way to and from the two
JSON fields (``capabilities`` and ``config``, whose one schema is :mod:`.schema`).

The fields come in *groups*, one per JSON key they write (``capabilities.chat``,
``config.auth``, ``config.extra_headers``...). Which side wins when an admin edits both the
structured fields and the Advanced JSON is decided per group, in :func:`provider_json_merge`:

* the posted Advanced JSON is the starting point, so every key the structured fields do not
  cover (``parameter_rules``, ``max_tokens_param``, an adapter's own keys...) is kept;
* a group whose structured fields were changed (compared with the values the form was shown
  with) replaces its key in that JSON;
* a group changed on both sides, to different values, is a conflict: an error on the
  structured field, and nothing is saved (both edits stay on screen; making them agree, or
  setting one back, resolves it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from aiadmin.adapters.types import CAPABILITIES

from .schema import AUTH_STYLES

RULE_SCOPES = ("exclude", *(f"{capability}_{kind}" for capability in CAPABILITIES for kind in ("include", "exclude")))


def capability_field(capability: str, flag: str) -> str:
    return f"cap_{capability}_{'dynamic' if flag == 'dynamic_models' else 'supported'}"


def rule_field(scope: str) -> str:
    return f"rules_{scope}"


# Each group: the form fields it is made of (in the order they are read).
GROUPS: dict[str, tuple[str, ...]] = {
    **{
        f"capabilities.{capability}": (capability_field(capability, "supported"), capability_field(capability, "dynamic_models"))
        for capability in CAPABILITIES
    },
    "config.auth": ("auth_style", "auth_header", "auth_prefix", "auth_param"),
    "config.extra_headers": ("extra_headers",),
    "config.models_path": ("models_path",),
    "config.capability_rules": tuple(rule_field(scope) for scope in RULE_SCOPES),
    "config.default_params": ("default_params",),
    "config.allow_private_network": ("allow_private_network",),
}
STRUCTURED_FIELDS = tuple(name for names in GROUPS.values() for name in names)


def group_of_path(path: str) -> str | None:
    """The group a schema problem path belongs to (``config.auth.header`` -> ``config.auth``)."""
    for group in GROUPS:
        if path == group or path.startswith(group + "."):
            return group
    return None


def field_of_path(path: str) -> str | None:
    """The structured field a schema problem path is about, as precisely as it can tell."""
    group = group_of_path(path)
    if group is None:
        return None
    rest = path[len(group) + 1 :]
    if group == "config.auth" and f"auth_{rest}" in GROUPS[group]:
        return f"auth_{rest}"
    if group == "config.capability_rules":
        scope = rest.replace(".", "_")
        return rule_field(scope) if scope in RULE_SCOPES else rule_field("exclude")
    if group.startswith("capabilities."):
        return GROUPS[group][1] if rest == "dynamic_models" else GROUPS[group][0]
    return GROUPS[group][0]


# ------------------------------------------------------------------ JSON -> field values


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _lines(value: Any) -> str:
    return "\n".join(item for item in value if isinstance(item, str)) if isinstance(value, list) else ""


def structured_values(*, capabilities: Any, config: Any) -> dict[str, Any]:
    """The structured fields' values for stored (or catalogue) JSON. Malformed parts read as
    their defaults; the Advanced JSON still shows them as they are."""
    capabilities, config = _dict(capabilities), _dict(config)
    values: dict[str, Any] = {}
    for capability in CAPABILITIES:
        spec = _dict(capabilities.get(capability))
        for flag in ("supported", "dynamic_models"):
            values[capability_field(capability, flag)] = spec.get(flag) is True
    auth = _dict(config.get("auth"))
    style = auth.get("style", "bearer")
    values["auth_style"] = style if style in AUTH_STYLES else "bearer"
    for key in ("header", "prefix", "param"):
        values[f"auth_{key}"] = auth.get(key) if isinstance(auth.get(key), str) else ""
    values["extra_headers"] = [
        (name, text) for name, text in _dict(config.get("extra_headers")).items() if isinstance(text, str)
    ]
    models_path = config.get("models_path")
    values["models_path"] = models_path if isinstance(models_path, str) else ""
    rules = _dict(config.get("capability_rules"))
    values[rule_field("exclude")] = _lines(rules.get("exclude"))
    for capability in CAPABILITIES:
        for kind in ("include", "exclude"):
            values[rule_field(f"{capability}_{kind}")] = _lines(_dict(rules.get(capability)).get(kind))
    values["default_params"] = _dict(config.get("default_params"))
    values["allow_private_network"] = config.get("allow_private_network") is True
    return values


def _group_values(values: dict[str, Any], group: str) -> tuple:
    return tuple(_comparable(values.get(name)) for name in GROUPS[group])


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, list):
        return tuple(tuple(item) if isinstance(item, list | tuple) else item for item in value)
    return value


# ------------------------------------------------------------------ field values -> JSON


def _pattern_list(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _group_json(group: str, values: dict[str, Any]) -> Any:
    """The JSON value one group writes (``_ABSENT`` to drop the key)."""
    if group.startswith("capabilities."):
        supported, dynamic = (bool(values.get(name)) for name in GROUPS[group])
        return {"supported": supported, "dynamic_models": dynamic}
    if group == "config.auth":
        style = values.get("auth_style") or "bearer"
        auth: dict[str, str] = {"style": style}
        if style == "header":
            auth["header"] = values.get("auth_header") or ""
            if values.get("auth_prefix"):
                auth["prefix"] = values["auth_prefix"]
        if style == "query":
            auth["param"] = values.get("auth_param") or ""
        return auth
    if group == "config.extra_headers":
        return dict(values.get("extra_headers") or [])
    if group == "config.models_path":
        return values.get("models_path") or _ABSENT
    if group == "config.capability_rules":
        rules: dict[str, Any] = {}
        excluded = _pattern_list(values.get(rule_field("exclude")))
        if excluded:
            rules["exclude"] = excluded
        for capability in CAPABILITIES:
            rule = {
                kind: patterns
                for kind in ("include", "exclude")
                if (patterns := _pattern_list(values.get(rule_field(f"{capability}_{kind}"))))
            }
            if rule:
                rules[capability] = rule
        return rules
    if group == "config.default_params":
        return values.get("default_params") or {}
    if group == "config.allow_private_network":
        return True if values.get("allow_private_network") else _ABSENT
    raise KeyError(group)


_ABSENT = object()


@dataclass
class Merged:
    capabilities: Any
    config: Any
    # group -> "structured" (the form fields wrote it) or "json" (the Advanced JSON did)
    source: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)  # groups edited on both sides, differently


def provider_json_merge(
    *,
    posted: dict[str, Any],
    shown: dict[str, Any],
    capabilities: Any,
    config: Any,
    shown_capabilities: Any,
    shown_config: Any,
) -> Merged:
    """Apply the structured fields the admin changed onto the posted Advanced JSON.

    ``posted``: the structured fields' cleaned values; ``shown``: the values the form was
    rendered with (:func:`structured_values` of ``shown_capabilities``/``shown_config``, the
    JSON the page showed); ``capabilities``/``config``: the Advanced JSON as posted."""
    merged = Merged(capabilities=copy.deepcopy(capabilities), config=copy.deepcopy(config))
    typed_json = structured_values(capabilities=capabilities, config=config)
    for group in GROUPS:
        posted_group = _group_values(posted, group)
        if posted_group == _group_values(shown, group):
            merged.source[group] = "json"
            continue
        merged.source[group] = "structured"
        json_edited = _json_at(capabilities, config, group) != _json_at(shown_capabilities, shown_config, group)
        if json_edited and _group_values(typed_json, group) != posted_group:
            merged.conflicts.append(group)
            continue
        _json_set(merged, group, _group_json(group, posted))
    return merged


def _json_at(capabilities: Any, config: Any, group: str) -> Any:
    root, key = group.split(".", 1)
    return _dict(capabilities if root == "capabilities" else config).get(key, _ABSENT)


def _json_set(merged: Merged, group: str, value: Any) -> None:
    root, key = group.split(".", 1)
    target = merged.capabilities if root == "capabilities" else merged.config
    if not isinstance(target, dict):
        return  # the Advanced JSON is not an object: its own error says so
    if value is _ABSENT:
        target.pop(key, None)
    else:
        target[key] = value


def provider_json_from_structured(values: dict[str, Any]) -> tuple[dict, dict]:
    """(capabilities, config) written by the structured fields alone."""
    merged = Merged(capabilities={}, config={})
    for group in GROUPS:
        _json_set(merged, group, _group_json(group, values))
    return merged.capabilities, merged.config
