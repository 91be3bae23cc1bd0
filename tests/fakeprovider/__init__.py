"""A fake AI provider (OpenAI, Anthropic, Gemini and Hugging Face wire formats) for integration,
browser and benchmark tests. See :mod:`tests.fakeprovider.app` for the URL prefixes and the
failure modes chosen by model name, :mod:`tests.fakeprovider.server` for running it, and
:mod:`tests.fakeprovider.fixtures` for the pytest fixtures."""

from .app import (
    DEFAULT_API_KEY,
    FAILURE_MODES,
    LISTED_FAILURE_MODES,
    XSS_PAYLOADS,
    FakeProviderApp,
    FakeSettings,
    RecordedRequest,
)


def __getattr__(name: str) -> object:
    # Imported lazily so ``python -m tests.fakeprovider.server`` does not import itself twice.
    if name == "FakeProviderServer":
        from .server import FakeProviderServer

        return FakeProviderServer
    raise AttributeError(name)


__all__ = [
    "DEFAULT_API_KEY",
    "FAILURE_MODES",
    "LISTED_FAILURE_MODES",
    "XSS_PAYLOADS",
    "FakeProviderApp",
    "FakeProviderServer",
    "FakeSettings",
    "RecordedRequest",
]
