"""Which capabilities a listed model serves.

Order of evidence: the API's own metadata first (OpenRouter modalities, Gemini generation
methods, Hugging Face pipeline tags: the adapter passes them as ``detected``); where the API
says nothing, well-known model-id families (OpenAI, Groq and most OpenAI-compatible hosts);
then the provider's ``capability_rules`` from the catalogue refine the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .types import CAPABILITIES

TEXT = frozenset({"chat", "content"})
IMAGE = frozenset({"image"})
AUDIO = frozenset({"audio"})
NOTHING: frozenset[str] = frozenset()

# Models that are not offered under any capability: vectors, classifiers, realtime sessions.
_NEVER = re.compile(
    r"(embed|moderation|rerank|similarity|text-search|realtime|guard|classifier|"
    r"(^|[-/])aqa($|[-/]))",
    re.I,
)
_IMAGE = re.compile(r"(dall-e|gpt-image|imagen|flux|stable-diffusion|sdxl|sd3|playground-v|ideogram|recraft)", re.I)
_AUDIO = re.compile(r"(tts|whisper|transcribe|speech|orpheus|playai|kokoro|voxtral-mini-transcribe)", re.I)


def capabilities_from_id(model_id: str) -> frozenset[str]:
    """Capabilities guessed from a model id alone, for APIs whose list carries no metadata."""
    if _NEVER.search(model_id):
        return NOTHING
    if _IMAGE.search(model_id):
        return IMAGE
    if _AUDIO.search(model_id):
        return AUDIO
    return TEXT


def _matches(patterns: Iterable[str], model_id: str) -> bool:
    return any(re.search(pattern, model_id, re.I) for pattern in patterns)


def apply_capability_rules(
    model_id: str,
    *,
    detected: Iterable[str] | None,
    rules: Mapping[str, Any] | None,
) -> frozenset[str]:
    """Final capabilities of one model. ``detected`` is what the API's metadata says (None when
    it says nothing); ``rules`` is the provider's ``config["capability_rules"]``."""
    rules = rules or {}
    if _matches(rules.get("exclude", ()), model_id):
        return NOTHING
    capabilities = set(detected) if detected is not None else set(capabilities_from_id(model_id))
    for capability in CAPABILITIES:
        rule = rules.get(capability) or {}
        # chat and content both use text models: a rule for one speaks for both.
        targets = TEXT if capability in TEXT else {capability}
        if _matches(rule.get("include", ()), model_id):
            capabilities |= targets
            if detected is None and capability not in TEXT:
                capabilities -= TEXT  # an id rule that names a media model overrides the text guess
        if _matches(rule.get("exclude", ()), model_id):
            capabilities -= targets
    return frozenset(capabilities) & frozenset(CAPABILITIES)


PER_MILLION = Decimal(1_000_000)


# No real model costs more per million tokens; a larger (or NaN, infinite) price from a model
# list is a broken value, and the ledger's price columns (14 digits, 6 decimals) cannot hold it.
MAX_PRICE_PER_MILLION = Decimal(1_000_000)


def price_per_million(per_token: Any) -> Decimal | None:
    """A per-token price (string or number) as a price per million tokens; None if unknown,
    variable (OpenRouter uses "-1" for variable pricing) or out of range."""
    if per_token is None or per_token == "" or isinstance(per_token, bool):
        return None
    try:
        value = Decimal(str(per_token)) * PER_MILLION
        if not value.is_finite() or not 0 <= value <= MAX_PRICE_PER_MILLION:
            return None
    except ArithmeticError:  # InvalidOperation, Overflow (a 1e999999 exponent)
        return None
    return value.quantize(Decimal("0.000001")).normalize()


def is_free_pricing(pricing: Mapping[str, Any] | None, model_id: str = "") -> bool:
    """Free when the id says so (":free") or every priced dimension is zero. Since 2026
    OpenRouter omits zero-priced keys, so a missing prompt/completion price counts as zero;
    "-1" (variable) is never free, and no pricing object at all means unknown, not free."""
    if model_id.endswith(":free"):
        return True
    if pricing is None:
        return False
    for key in ("prompt", "completion", "request", "image"):
        raw = pricing.get(key, "0")
        try:
            if Decimal(str(raw)) != 0:
                return False
        except InvalidOperation:
            return False
    return True
