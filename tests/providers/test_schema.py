"""The one schema of a provider's ``capabilities`` and ``config`` (aiadmin.providers.schema)."""

from __future__ import annotations

import json

import pytest

from aiadmin.providers.catalogue import CATALOGUE_PATH
from aiadmin.providers.schema import (
    capability_flag,
    config_allows_private_network,
    config_auth_style,
    provider_broken_reason,
    provider_json_problems,
)


def catalogue_entries() -> list[dict]:
    return json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["providers"]


def problems(*, capabilities=None, config=None, strict=True) -> list[str]:
    return [str(problem) for problem in provider_json_problems(capabilities=capabilities, config=config, strict=strict)]


def test_every_catalogue_entry_passes_the_schema():  # also: all 59 import (test_catalogue)
    entries = catalogue_entries()
    assert len(entries) == 59
    for entry in entries:
        assert problems(capabilities=entry["capabilities"], config=entry["config"]) == [], entry["slug"]


@pytest.mark.parametrize(
    ("capabilities", "config", "expected"),
    [
        ([1], {}, "capabilities: must be an object"),
        (None, {}, "capabilities: must be an object"),
        ({"chat": "yes"}, {}, "capabilities.chat: must be an object"),
        ({"chat": {"supported": "yes"}}, {}, "capabilities.chat.supported: must be true or false"),
        ({"chat": {"dynamic_models": 1}}, {}, "capabilities.chat.dynamic_models: must be true or false"),
        ({"video": {"supported": True}}, {}, "capabilities.video: unknown capability (expected one of chat, content, image, audio)"),
        ({"chat": {"supported": True, "suported": True}}, {}, "capabilities.chat.suported: unknown key"),
        ({}, "oops", "config: must be an object"),
        ({}, None, "config: must be an object"),
        ({}, {"auth": "oops"}, "config.auth: must be an object"),
        ({}, {"auth": {"style": "basic"}}, "config.auth.style: must be one of bearer, header, query, none"),
        ({}, {"auth": {"style": "header"}}, "config.auth.header: required for auth style 'header'"),
        ({}, {"auth": {"style": "query"}}, "config.auth.param: required for auth style 'query'"),
        ({}, {"auth": {"style": "header", "header": "x api key"}}, "config.auth.header: must be a header name"),
        ({}, {"auth": {"style": "bearer", "token": "x"}}, "config.auth.token: unknown key"),
        ({}, {"extra_headers": ["X-A"]}, "config.extra_headers: must map header names to text"),
        ({}, {"extra_headers": {"X-Title": 5}}, "config.extra_headers.X-Title: must be text"),
        ({}, {"extra_headers": {"X-Title": "a\r\nInjected: 1"}}, "config.extra_headers.X-Title: must be text of printable ASCII"),
        ({}, {"extra_headers": {"Bad Name": "x"}}, "config.extra_headers.Bad Name: is not a valid header name"),
        ({}, {"models_path": "models"}, "config.models_path: must be a path starting with /"),
        ({}, {"key_check_path": 3}, "config.key_check_path: must be a path starting with /"),
        ({}, {"capability_rules": []}, "config.capability_rules: must be an object"),
        ({}, {"capability_rules": {"chat": "x"}}, "config.capability_rules.chat: must be an object"),
        ({}, {"capability_rules": {"video": {}}}, "config.capability_rules.video: unknown rule"),
        ({}, {"capability_rules": {"exclude": "embed"}}, "config.capability_rules.exclude: must be a list of regular expressions"),
        ({}, {"capability_rules": {"image": {"include": ["(unclosed"]}}}, "config.capability_rules.image.include: '(unclosed' is not a valid regular expression"),
        ({}, {"capability_rules": {"image": {"includes": []}}}, "config.capability_rules.image.includes: unknown key"),
        ({}, {"capability_rules": {"exclude": [["embed"]]}}, "config.capability_rules.exclude: every pattern must be text, not list"),
        ({}, {"capability_rules": {"exclude": ["a" * 501]}}, "config.capability_rules.exclude: 'aaaa"),
        ({}, {"default_params": []}, "config.default_params: must be an object"),
        ({}, {"default_params": {"max_tokens": "lots"}}, "config.default_params.max_tokens: must be a whole number"),
        ({}, {"allow_private_network": "yes"}, "config.allow_private_network: must be true or false"),
        ({}, {"max_tokens_param": "max_output_tokens"}, "config.max_tokens_param: must be one of max_completion_tokens, max_tokens"),
        ({}, {"stream_include_usage": "no"}, "config.stream_include_usage: must be true or false"),
        ({}, {"hub_url": "huggingface.co"}, "config.hub_url: must be an http(s) URL"),
        ({}, {"hub_limit": 0}, "config.hub_limit: must be a whole number from 1 to 1000"),
        ({}, {"stream_delay": -1}, "config.stream_delay: must be a number from 0 to 10"),
        ({}, {"allow_private_networks": True}, "config.allow_private_networks: unknown key"),
        ({}, {"hub_url": "http://10.0.0.7:8080"}, "config.hub_url: The Hub URL points at the loopback or private-network address 10.0.0.7"),
    ],
)
def test_each_malformed_value_is_named_by_its_field_path(capabilities, config, expected):
    found = problems(capabilities=capabilities, config=config)
    assert any(problem.startswith(expected) for problem in found), found


def test_the_keys_the_adapters_read_are_accepted():
    config = {
        "auth": {"style": "header", "header": "x-api-key", "prefix": "Token "},
        "extra_headers": {"HTTP-Referer": "https://example.com", "X-Title": "aiadmin"},
        "models_path": None,
        "key_check_path": "/key",
        "capability_rules": {"exclude": ["embed"], "chat": {"include": ["^gpt"], "exclude": ["tts"]}},
        "default_params": {"max_tokens": 4096, "top_p": 0.9},
        "allow_private_network": True,
        "requires_base_url_edit": True,
        "max_tokens_param": "max_completion_tokens",
        "stream_include_usage": False,
        "image_response_format": None,
        "hub_url": "http://hub.internal:8080",  # private, and the config carries the mark
        "hub_inference_provider": "groq,cerebras",
        "hub_sort": "downloads",
        "hub_limit": 500,
        "transcription_model": "gemini-2.5-flash",
        "stream_delay": 0.02,
    }
    assert problems(capabilities={"chat": {"supported": True, "dynamic_models": False}}, config=config) == []


def test_a_stored_row_is_not_broken_by_keys_nobody_reads_but_is_by_wrong_shapes():
    """Reading (strict=False) ignores unknown keys (a typo is refused when written) and nulls
    (every adapter reads them as unset), never a shape an adapter would trip over."""
    assert problems(capabilities={"video": {}}, config={"script": {}, "auth": None}, strict=False) == []
    assert problems(capabilities=None, config=None, strict=False) == []  # read as {}
    assert problems(config={"auth": "oops"}, strict=False) == ["config.auth: must be an object such as {\"style\": \"bearer\"}"]
    assert problems(capabilities=[1], strict=False) == ['capabilities: must be an object such as {"chat": {"supported": true}}']


class Row:
    def __init__(self, capabilities, config) -> None:
        self.capabilities, self.config = capabilities, config

    def __str__(self) -> str:
        return "Acme"


def test_broken_reason_names_the_provider_the_field_and_the_fix():
    reason = provider_broken_reason(Row([1], {"auth": "oops"}))
    assert reason.startswith("Acme's settings are broken: capabilities: must be an object")
    assert "(and 1 more)" in reason and "superadmin can fix them on the provider page" in reason
    assert provider_broken_reason(Row({"chat": {"supported": True}}, {"auth": {"style": "bearer"}})) == ""


@pytest.mark.parametrize("capabilities", [[1], "x", 5, {"chat": "yes"}, {"chat": [True]}, {"chat": {"supported": "yes", "dynamic_models": "yes"}}])
def test_safe_reads_of_malformed_capabilities_offer_nothing(capabilities):
    assert capability_flag(capabilities, "chat", "supported", default=False) is False
    assert capability_flag(capabilities, "chat", "dynamic_models", default=True) is False


def test_safe_reads_of_well_formed_values():
    assert capability_flag({"chat": {"supported": True}}, "chat", "supported", default=False) is True
    assert capability_flag({"chat": {"supported": True}}, "chat", "dynamic_models", default=True) is True
    assert capability_flag({}, "chat", "supported", default=False) is False
    assert config_auth_style({}) == config_auth_style(None) == "bearer"
    assert config_auth_style({"auth": {"style": "none"}}) == "none"
    assert config_auth_style({"auth": "oops"}) == config_auth_style([1]) == ""
    assert config_allows_private_network({"allow_private_network": True}) is True
    assert config_allows_private_network({"allow_private_network": "yes"}) is False
    assert config_allows_private_network([1]) is False


def test_a_deeply_nested_value_is_named_not_echoed():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    found = problems(capabilities={}, config={"capability_rules": {"exclude": [nested]}, "default_params": {"x": nested}})
    assert found == ["config.capability_rules.exclude: every pattern must be text, not list"]


@pytest.mark.parametrize("junk", ["http://-bad-:80", "http://hub..example/", "http://1234/"])
def test_the_hub_url_has_the_base_urls_syntax_and_policy(junk):
    """The Hub is called with the provider's key like the base URL: the same URL syntax (a
    service name allowed) and the same self-hosted rule."""
    assert problems(capabilities={}, config={"hub_url": junk, "allow_private_network": True}) == ["config.hub_url: must be an http(s) URL"]
    assert problems(capabilities={}, config={"hub_url": "http://hf-mirror:8080", "allow_private_network": True}) == []
    (refused,) = problems(capabilities={}, config={"hub_url": "http://hf-mirror:8080"})
    assert refused.startswith("config.hub_url: The Hub URL points at “hf-mirror”, a name that only exists on a local machine")
