"""Which chat body fields a model family does not accept: the ``parameter_rules`` of a
provider's config (no Django here).

A rule is ``{"models": [regex, ...], "omit": [field, ...], "max_tokens_param": ...}``;
``models`` is required, the rest optional. The patterns are searched in the model id,
case-insensitively, as ``capability_rules`` are; every matching rule applies. ``omit`` names
body fields left out for those models whoever set them; ``max_tokens_param`` names the
token-limit field for them (the first matching rule that names one wins). See the ``openai``
adapter's module docstring for why OpenAI's reasoning models need this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_TOKENS_PARAMS = frozenset({"max_tokens", "max_completion_tokens"})
# What a rule may never leave out of a chat body: the call would mean nothing.
NEVER_OMITTED = frozenset({"model", "messages", "stream"})


class ParameterRulesError(ValueError):
    """``parameter_rules`` is malformed; the message says which rule and why."""


@dataclass(frozen=True, slots=True)
class ModelParameters:
    """What the matching rules say about one model."""

    omit: frozenset[str] = frozenset()
    max_tokens_param: str | None = None


def parameter_rules_problems(rules: Any) -> list[str]:
    """Every problem of a ``parameter_rules`` value, empty when it is well formed."""
    if rules is None:
        return []
    if not isinstance(rules, list):
        return ["must be a list of rules"]
    problems: list[str] = []
    for index, rule in enumerate(rules):
        where = f"rule {index + 1}"
        if not isinstance(rule, Mapping):
            problems.append(f"{where} must be an object")
            continue
        patterns = rule.get("models")
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
            problems.append(f'{where} needs "models": a list of regular expressions')
        else:
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error:
                    problems.append(f"{where}: {pattern!r} is not a valid regular expression")
        omit = rule.get("omit", [])
        if not isinstance(omit, list) or not all(isinstance(name, str) for name in omit):
            problems.append(f'{where}: "omit" must be a list of parameter names')
        elif protected := sorted(set(omit) & NEVER_OMITTED):
            problems.append(f'{where}: "omit" cannot name {", ".join(protected)}')
        if rule.get("max_tokens_param") not in (None, *MAX_TOKENS_PARAMS):
            problems.append(f'{where}: "max_tokens_param" must be one of {sorted(MAX_TOKENS_PARAMS)}')
        unknown = sorted(set(rule) - {"models", "omit", "max_tokens_param"})
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    return problems


def model_parameters(rules: Any, model_id: str) -> ModelParameters:
    """What ``rules`` (a config's ``parameter_rules``) say about ``model_id``.

    Raises :class:`ParameterRulesError` naming the first problem when the rules are malformed,
    so a broken config is reported before any request is sent."""
    problems = parameter_rules_problems(rules)
    if problems:
        raise ParameterRulesError(problems[0])
    omit: set[str] = set()
    max_tokens_param: str | None = None
    for rule in _matching(rules or [], model_id):
        omit.update(rule.get("omit") or ())
        max_tokens_param = max_tokens_param or rule.get("max_tokens_param")
    return ModelParameters(omit=frozenset(omit), max_tokens_param=max_tokens_param)


def _matching(rules: Sequence[Mapping[str, Any]], model_id: str) -> list[Mapping[str, Any]]:
    return [rule for rule in rules if any(re.search(p, model_id, re.IGNORECASE) for p in rule["models"])]
