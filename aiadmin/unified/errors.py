"""Errors of the unified service itself, not of an HTTP call to a provider.

They subclass :class:`~aiadmin.adapters.errors.AIAdminError`, so ``except AIAdminError`` and
the ``kind`` a page or ledger row shows treat them like every provider error. Errors the
adapters raise live in aiadmin/adapters/errors.py; the monthly limit's in
aiadmin/providers/errors.py.
"""

from __future__ import annotations

from aiadmin.adapters.errors import AIAdminError


class NoAccessError(AIAdminError):
    """The admin has no key for the provider (no personal key, no shared one they may use)."""

    kind = "no_access"
    default_message = "No API key is available for this provider."


class StreamLimitError(AIAdminError):
    """A streamed answer went past the size or duration one stream may have (the settings
    ``AIADMIN["STREAM_MAX_CHARS"]`` and ``AIADMIN["STREAM_MAX_SECONDS"]``) and was stopped."""

    kind = "stream_limit"
    default_message = "The answer went past the longest stream allowed and was stopped."


class ScopeError(AIAdminError):
    """The call is outside what the API token it came through may do (its capabilities or
    providers)."""

    kind = "scope"
    default_message = "This API token may not do that."
