"""The unified AI service: ``from aiadmin.unified import UnifiedAIService``.

Also an app (``"aiadmin.unified"`` in ``INSTALLED_APPS``): it keeps the routing cache in step
with aiadmin's models and owns ``manage.py check_providers``. The names below are loaded on
first use, so listing the app imports no model before Django's registry is ready."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Article": ".results",
    "AvailableModel": ".results",
    "BrowseResult": ".results",
    "BrowsedModel": ".results",
    "CallInfo": ".results",
    "ChatReply": ".results",
    "ContentReply": ".results",
    "ImageReply": ".results",
    "SpeechReply": ".results",
    "StreamSummary": ".results",
    "TranscriptReply": ".results",
    "UnifiedAIService": ".service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
