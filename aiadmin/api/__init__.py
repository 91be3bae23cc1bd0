"""The HTTP API other applications call: OpenAI-compatible, under ``/v1/``, with API tokens.

Beside the console (it imports the layers below it, never the console): each call acts as
the token's admin through :class:`aiadmin.unified.UnifiedAIService`, so access, keys, limits
and the ledger are the console's. A host mounts it with
``path("v1/", include("aiadmin.api.urls"))`` and lists ``"aiadmin.api"`` in ``INSTALLED_APPS``.
"""
