"""The one schema of a provider's JSON fields, ``AIProvider.capabilities`` and
``AIProvider.config``: what the adapters and the service read, checked wherever the fields
are written (admin form, catalogue import) and, leniently, wherever a stored row is read, so
a row that is wrong anyway (edited in SQL, an old import) is shown as broken instead of
breaking a page.

``capabilities``: ``{capability: {"supported": bool, "dynamic_models": bool}}`` for the
capabilities in :data:`~aiadmin.adapters.types.CAPABILITIES` (both flags optional).

``config`` (every key optional): ``auth``, ``extra_headers``, ``models_path``,
``key_check_path``, ``capability_rules``, ``default_params``, ``allow_private_network`` (the
superadmin's mark for a self-hosted server on the organisation's network), the OpenAI-format
keys (``max_tokens_param``, ``parameter_rules``, ``stream_include_usage``,
``image_response_format``, ``transcription_request``), the Hugging
Face keys (``hub_url``, ``hub_inference_provider``, ``hub_sort``, ``hub_limit``), Gemini's
``transcription_model``, the sandbox's ``stream_delay`` and the catalogue's
``requires_base_url_edit``. See the adapters' docstrings for what each one does.

A written value with an unknown key is refused (a typo such as ``allow_private_networks``
would otherwise be silently ignored); a stored one is not broken by it, since nothing reads it.
Every problem names its field path, e.g. ``config.auth.style: must be one of ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiadmin.adapters.parameter_rules import MAX_TOKENS_PARAMS, parameter_rules_problems
from aiadmin.adapters.registry import registry
from aiadmin.adapters.urlguard import base_url_save_problem
from aiadmin.adapters.types import CAPABILITIES

from .endpoint_url import endpoint_url_problem

CAPABILITY_FLAGS = ("supported", "dynamic_models")
# Each auth style and the keys it needs.
AUTH_STYLES: dict[str, tuple[str, ...]] = {"bearer": (), "header": ("header",), "query": ("param",), "none": ()}
AUTH_KEYS = ("style", "header", "prefix", "param")
RULE_KEYS = ("include", "exclude")
MAX_PATTERNS = 200
MAX_PATTERN_CHARS = 500
MAX_TEXT_CHARS = 2_000

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP token (RFC 9110)
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # what httpx sends as ASCII, no line breaks
_QUERY_PARAM = re.compile(r"[A-Za-z0-9_.~-]+")
_PATH_OR_URL = re.compile(r"(/|https?://[^\s/]+/)\S*")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str  # e.g. "config.auth.style"
    message: str

    @property
    def field(self) -> str:
        """The model field the problem belongs to ("capabilities" or "config")."""
        return self.path.split(".", 1)[0]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# JSON objects are plain dicts (json.loads, JSONField), and ``isinstance(x, dict)`` costs a
# fraction of the Mapping ABC check: the cards page checks every provider on every request.
Problems = Iterator[Problem]
Check = Callable[[str, Any], Problems]


# ------------------------------------------------------------------ value checks


def _bool(path: str, value: Any) -> Problems:
    if not isinstance(value, bool):
        yield Problem(path, "must be true or false")


def _text(path: str, value: Any) -> Problems:
    if not isinstance(value, str) or not value.strip():
        yield Problem(path, "must be non-empty text")
    elif len(value) > MAX_TEXT_CHARS:
        yield Problem(path, f"must be at most {MAX_TEXT_CHARS} characters")


def _text_or_null(path: str, value: Any) -> Problems:
    if value is not None:
        yield from _text(path, value)


def _path_or_url(path: str, value: Any) -> Problems:
    if value is not None and not (isinstance(value, str) and _PATH_OR_URL.fullmatch(value)):
        yield Problem(path, "must be a path starting with /, an http(s) URL, or null")


def _http_url(path: str, value: Any) -> Problems:
    # The syntax of the provider's URL fields (a docker-compose service name included).
    if endpoint_url_problem(value) is not None:
        yield Problem(path, "must be an http(s) URL")


def _whole_number(low: int, high: int) -> Check:
    def check(path: str, value: Any) -> Problems:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            yield Problem(path, f"must be a whole number from {low} to {high}")

    return check


def _number(low: float, high: float) -> Check:
    def check(path: str, value: Any) -> Problems:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            yield Problem(path, f"must be a number from {low:g} to {high:g}")

    return check


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(path: str, value: Any) -> Problems:
        if value not in choices:
            yield Problem(path, f"must be one of {', '.join(choices)}")

    return check


def _unknown(path: str, value: Mapping, known: tuple[str, ...]) -> Problems:
    for key in value:
        if key not in known:
            yield Problem(f"{path}.{key}", f"unknown key (expected one of {', '.join(known)})")


# ------------------------------------------------------------------ config keys


def _auth(path: str, value: Any, *, strict: bool) -> Problems:
    if not isinstance(value, dict):
        yield Problem(path, 'must be an object such as {"style": "bearer"}')
        return
    style = value.get("style", "bearer")
    if style not in AUTH_STYLES:
        yield Problem(f"{path}.style", f"must be one of {', '.join(AUTH_STYLES)}")
        return
    for required in AUTH_STYLES[style]:
        if required not in value:
            yield Problem(f"{path}.{required}", f"required for auth style {style!r}")
    if "header" in value and not (isinstance(value["header"], str) and _HEADER_NAME.fullmatch(value["header"])):
        yield Problem(f"{path}.header", "must be a header name (letters, digits and - without spaces)")
    if "prefix" in value and not (isinstance(value["prefix"], str) and _HEADER_VALUE.fullmatch(value["prefix"])):
        yield Problem(f"{path}.prefix", "must be text of printable ASCII characters")
    if "param" in value and not (isinstance(value["param"], str) and _QUERY_PARAM.fullmatch(value["param"])):
        yield Problem(f"{path}.param", "must be a query parameter name (letters, digits, _ . ~ -)")
    if strict:
        yield from _unknown(path, value, AUTH_KEYS)


def _extra_headers(path: str, value: Any, *, strict: bool) -> Problems:
    if not isinstance(value, dict):
        yield Problem(path, "must map header names to text")
        return
    for name, text in value.items():
        if not (isinstance(name, str) and _HEADER_NAME.fullmatch(name)):
            yield Problem(f"{path}.{name}", "is not a valid header name")
        elif not (isinstance(text, str) and _HEADER_VALUE.fullmatch(text)):
            yield Problem(f"{path}.{name}", "must be text of printable ASCII characters, on one line")


def _patterns(path: str, value: Any) -> Problems:
    if not isinstance(value, list):
        yield Problem(path, "must be a list of regular expressions")
        return
    if len(value) > MAX_PATTERNS:
        yield Problem(path, f"at most {MAX_PATTERNS} patterns")
        return
    for pattern in value:
        if not isinstance(pattern, str):
            # Not echoed: str() of a deeply nested value would recurse without bound.
            yield Problem(path, f"every pattern must be text, not {type(pattern).__name__}")
            continue
        if len(pattern) > MAX_PATTERN_CHARS:
            yield Problem(path, f"{pattern[:40]!r}... is longer than {MAX_PATTERN_CHARS} characters")
            continue
        try:
            re.compile(pattern)
        except re.error:
            yield Problem(path, f"{pattern!r} is not a valid regular expression")


def _capability_rules(path: str, value: Any, *, strict: bool) -> Problems:
    if not isinstance(value, dict):
        yield Problem(path, "must be an object")
        return
    for key, rule in value.items():
        where = f"{path}.{key}"
        if key == "exclude":
            yield from _patterns(where, rule)
        elif key in CAPABILITIES:
            if not isinstance(rule, dict):
                yield Problem(where, 'must be an object such as {"include": [...], "exclude": [...]}')
                continue
            for name in RULE_KEYS:
                if name in rule:
                    yield from _patterns(f"{where}.{name}", rule[name])
            if strict:
                yield from _unknown(where, rule, RULE_KEYS)
        elif strict:
            yield Problem(where, f"unknown rule (expected exclude or one of {', '.join(CAPABILITIES)})")


_MAX_TOKENS = _whole_number(1, 10_000_000)


def _default_params(path: str, value: Any, *, strict: bool) -> Problems:
    if not isinstance(value, dict):
        yield Problem(path, "must be an object")
        return
    for name in MAX_TOKENS_PARAMS:  # read as numbers by the adapters
        if name in value:
            yield from _MAX_TOKENS(f"{path}.{name}", value[name])


def _parameter_rules(path: str, value: Any) -> Problems:
    # One parser for the adapter and the schema (aiadmin/adapters/parameter_rules.py).
    for message in parameter_rules_problems(value):
        yield Problem(path, message)


def _lenient(check: Check) -> Callable[..., Problems]:
    def nested(path: str, value: Any, *, strict: bool) -> Problems:
        return check(path, value)

    return nested


CONFIG_KEYS: dict[str, Callable[..., Problems]] = {
    "auth": _auth,
    "extra_headers": _extra_headers,
    "models_path": _lenient(_path_or_url),
    "key_check_path": _lenient(_path_or_url),
    "capability_rules": _capability_rules,
    "default_params": _default_params,
    "allow_private_network": _lenient(_bool),
    "requires_base_url_edit": _lenient(_bool),
    "max_tokens_param": _lenient(_one_of(tuple(sorted(MAX_TOKENS_PARAMS)))),
    "stream_include_usage": _lenient(_bool),
    "image_response_format": _lenient(_text_or_null),
    "hub_url": _lenient(_http_url),
    "hub_inference_provider": _lenient(_text),
    "hub_sort": _lenient(_text),
    "hub_limit": _lenient(_whole_number(1, 1000)),
    "transcription_model": _lenient(_text),
    "transcription_request": _lenient(_one_of(("json", "multipart"))),
    "parameter_rules": _lenient(_parameter_rules),
    "stream_delay": _lenient(_number(0, 10)),
}


# ------------------------------------------------------------------ the two fields


def capabilities_problems(value: Any, *, strict: bool = True) -> list[Problem]:
    """Problems of a ``capabilities`` value; ``strict`` also refuses unknown keys."""
    if not strict and not value:
        return []  # read as {} (``provider.capabilities or {}``)
    if not isinstance(value, dict):
        return [Problem("capabilities", 'must be an object such as {"chat": {"supported": true}}' + (" ({} for none)" if value is None else ""))]
    problems = []
    for capability, spec in value.items():
        path = f"capabilities.{capability}"
        if capability not in CAPABILITIES:
            if strict:
                problems.append(Problem(path, f"unknown capability (expected one of {', '.join(CAPABILITIES)})"))
            continue
        if not isinstance(spec, dict):
            problems.append(Problem(path, 'must be an object such as {"supported": true, "dynamic_models": true}'))
            continue
        for flag in CAPABILITY_FLAGS:
            if flag in spec:
                problems.extend(_bool(f"{path}.{flag}", spec[flag]))
        if strict:
            problems.extend(_unknown(path, spec, CAPABILITY_FLAGS))
    return problems


def config_problems(value: Any, *, strict: bool = True, extra_keys: frozenset[str] = frozenset()) -> list[Problem]:
    """Problems of a ``config`` value; ``strict`` also refuses unknown keys other than
    ``extra_keys`` (those an adapter declares for itself, whose values it checks)."""
    if not strict and not value:
        return []  # read as {} (``provider.config or {}``)
    if not isinstance(value, dict):
        return [Problem("config", "must be an object" + (" ({} for none)" if value is None else ""))]
    problems = []
    for key, item in value.items():
        if item is None and not strict:
            continue  # every adapter reads a null key as unset
        check = CONFIG_KEYS.get(key)
        if check is not None:
            problems.extend(check(f"config.{key}", item, strict=strict))
        elif strict and key not in extra_keys:
            problems.append(Problem(f"config.{key}", "unknown key (see the provider documentation for the keys an adapter reads)"))
    if strict and not problems and value.get("hub_url"):
        # The Hub is called with the provider's key too: the same rule as the base URL.
        hub_problem = base_url_save_problem(
            value["hub_url"], allow_private_network=config_allows_private_network(value), name="Hub URL"
        )
        if hub_problem:
            problems.append(Problem("config.hub_url", hub_problem))
    return problems


def provider_json_problems(*, capabilities: Any, config: Any, adapter: str | None = None, strict: bool = True) -> list[Problem]:
    """Every problem of a provider's two JSON fields, each naming its field path. ``adapter``
    (the registry key) adds the config keys that adapter declares."""
    adapter_class = registry.get(adapter) if adapter else None
    extra_keys = adapter_class.extra_config_keys if adapter_class is not None else frozenset()
    return [*capabilities_problems(capabilities, strict=strict), *config_problems(config, strict=strict, extra_keys=extra_keys)]


def provider_broken_reason(provider: Any) -> str:
    """Why a stored provider cannot be used as it is (empty when it can): its JSON fields do
    not have the shape the service and the adapters read. Unknown keys do not break a row."""
    problems = provider_json_problems(capabilities=provider.capabilities, config=provider.config, strict=False)
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{provider}'s settings are broken: {problems[0]}{more}. A superadmin can fix them on the provider page."


# ------------------------------------------------------------------ safe reads of stored rows


def capability_flag(capabilities: Any, capability: str, flag: str, *, default: bool) -> bool:
    """``capabilities[capability][flag]`` of a stored row, ``default`` where it is missing and
    False where the row is malformed (a broken row offers nothing)."""
    if not isinstance(capabilities, dict):
        return False
    spec = capabilities.get(capability, {})
    if not isinstance(spec, dict):
        return False
    value = spec.get(flag, default)
    return value if isinstance(value, bool) else False


def config_auth_style(config: Any) -> str:
    """The auth style of a stored config ("bearer" when unset), or "" when it is malformed."""
    if not isinstance(config, dict):
        return "" if config else "bearer"
    auth = config.get("auth") or {}
    style = auth.get("style", "bearer") if isinstance(auth, dict) else None
    return style if style in AUTH_STYLES else ""


def config_allows_private_network(config: Any) -> bool:
    """The superadmin's "self-hosted on our network" mark; only a real ``true`` counts."""
    return isinstance(config, dict) and config.get("allow_private_network") is True
