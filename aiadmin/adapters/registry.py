"""Adapter registry: adapter key string -> adapter class.

Built-in adapters are registered explicitly below; third-party packages add theirs through the
``aiadmin.adapters`` entry-point group. Discovery runs once, from the app's ``ready()``.
A bad third-party entry point is logged and recorded, never raised.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from .base import BaseAdapter
from .errors import AdapterMissingError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aiadmin.adapters"


class AIProviderRegistry:
    def __init__(self) -> None:
        self._adapters: dict[str, type[BaseAdapter]] = {}
        self.load_errors: dict[str, str] = {}
        self._discovered = False

    def register(self, adapter_class: type[BaseAdapter], *, replace: bool = False) -> type[BaseAdapter]:
        key = adapter_class.key
        if not replace and key in self._adapters and self._adapters[key] is not adapter_class:
            raise ValueError(f"An adapter is already registered under {key!r}.")
        self._adapters[key] = adapter_class
        return adapter_class

    def unregister(self, key: str) -> None:
        self._adapters.pop(key, None)

    def get(self, key: str) -> type[BaseAdapter] | None:
        return self._adapters.get(key)

    def require(self, key: str, *, provider: str | None = None) -> type[BaseAdapter]:
        adapter_class = self._adapters.get(key)
        if adapter_class is None:
            raise AdapterMissingError(
                f"Adapter {key!r} is not installed. Install the package that provides it, or "
                "choose another adapter in the provider's settings.",
                provider=provider,
            )
        return adapter_class

    def __contains__(self, key: object) -> bool:
        return key in self._adapters

    def keys(self) -> list[str]:
        return sorted(self._adapters)

    def choices(self) -> list[tuple[str, str]]:
        return [(key, f"{cls.label} ({key})") for key, cls in sorted(self._adapters.items())]

    def discover(self, *, group: str = ENTRY_POINT_GROUP) -> None:
        """Load third-party adapters once; later calls do nothing."""
        if self._discovered:
            return
        self._discovered = True
        for entry_point in entry_points(group=group):
            try:
                adapter_class = entry_point.load()
                if not (isinstance(adapter_class, type) and issubclass(adapter_class, BaseAdapter)):
                    raise TypeError(f"{entry_point.value} is not a BaseAdapter subclass")
                if adapter_class.key != entry_point.name:
                    raise ValueError(
                        f"entry point name {entry_point.name!r} differs from the adapter key "
                        f"{adapter_class.key!r}"
                    )
                self.register(adapter_class)
            except Exception as err:  # a broken plugin must not take the console down
                self.load_errors[entry_point.name] = f"{type(err).__name__}: {err}"
                logger.warning("Could not load adapter entry point %r: %s", entry_point.name, err)


def _builtin_adapters() -> list[type[BaseAdapter]]:
    from .anthropic import AnthropicAdapter
    from .gemini import GeminiAdapter
    from .huggingface import HuggingFaceAdapter
    from .openai import OpenAIAdapter
    from .sandbox import SandboxAdapter

    return [SandboxAdapter, AnthropicAdapter, GeminiAdapter, HuggingFaceAdapter, OpenAIAdapter]


def build_registry() -> AIProviderRegistry:
    new_registry = AIProviderRegistry()
    for adapter_class in _builtin_adapters():
        new_registry.register(adapter_class)
    return new_registry


registry = build_registry()
