"""Capability detection: API metadata first, then id families, then catalogue rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiadmin.adapters.capabilities import apply_capability_rules, is_free_pricing, price_per_million


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("gpt-4o", {"chat", "content"}),
        ("gpt-4o-search-preview", {"chat", "content"}),
        ("llama-3.3-70b-versatile", {"chat", "content"}),
        ("dall-e-3", {"image"}),
        ("gpt-image-1", {"image"}),
        ("tts-1-hd", {"audio"}),
        ("gpt-4o-mini-tts", {"audio"}),
        ("whisper-large-v3-turbo", {"audio"}),
        ("gpt-4o-transcribe", {"audio"}),
        ("playai-tts", {"audio"}),
        ("text-embedding-3-small", set()),
        ("omni-moderation-latest", set()),
        ("gpt-4o-realtime-preview", set()),
        ("meta-llama/Llama-Guard-4-12B", set()),
    ],
)
def test_openai_and_groq_ids_map_to_capabilities(model_id, expected):
    assert apply_capability_rules(model_id, detected=None, rules={}) == expected


def test_api_metadata_wins_over_id_guessing():
    # An OpenRouter model whose output modality is image, whatever its id looks like.
    assert apply_capability_rules("google/gemini-2.5-flash-image", detected={"image"}, rules={}) == {"image"}


def test_catalogue_include_rule_moves_a_media_model_out_of_chat():
    rules = {"image": {"include": ["^black-forest-labs/"]}}
    assert apply_capability_rules("black-forest-labs/FLUX-pro", detected=None, rules=rules) == {"image"}
    assert apply_capability_rules("black-forest-labs/new-thing", detected=None, rules=rules) == {"image"}


def test_catalogue_exclude_rules_remove_models():
    rules = {"exclude": ["^legacy-"], "chat": {"exclude": ["-base$"]}}
    assert apply_capability_rules("legacy-chat", detected=None, rules=rules) == set()
    assert apply_capability_rules("mistral-7b-base", detected=None, rules=rules) == set()
    assert apply_capability_rules("mistral-7b-instruct", detected=None, rules=rules) == {"chat", "content"}


def test_prices_become_per_million_and_variable_is_unknown():
    assert price_per_million("0.0000025") == Decimal("2.5")
    assert price_per_million("-1") is None
    assert price_per_million(None) is None
    assert price_per_million("n/a") is None


@pytest.mark.parametrize(
    ("pricing", "model_id", "free"),
    [
        ({"prompt": "0", "completion": "0"}, "a/b", True),
        ({}, "a/b", True),  # OpenRouter omits zero-priced keys since 2026
        ({"prompt": "-1", "completion": "-1"}, "openrouter/auto", False),  # variable, not free
        ({"prompt": "0.000001"}, "a/b", False),
        (None, "a/b", False),  # nothing said: unknown, not free
        (None, "meta-llama/llama-3.3-8b-instruct:free", True),
    ],
)
def test_free_models_are_flagged_from_pricing(pricing, model_id, free):
    assert is_free_pricing(pricing, model_id) is free


@pytest.mark.parametrize("hostile", ["NaN", "sNaN", "Infinity", "1e999999", "2", 1e300])
def test_an_out_of_range_price_is_unknown_not_an_exception(hostile):
    # The ledger's price columns hold 14 digits: NaN, infinite or absurd prices are unknown.
    assert price_per_million(hostile) is None
