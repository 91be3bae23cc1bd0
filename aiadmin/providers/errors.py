"""Errors of the providers app's own services, not of an HTTP call to a provider.

A subclass of :class:`~aiadmin.adapters.errors.AIAdminError`, so ``except AIAdminError`` and
the ``kind`` a page or ledger row shows treat it like every provider error. It lives here, not
with the unified service's errors (aiadmin/unified/errors.py), because the monthly limit is
counted here (:func:`~aiadmin.providers.usage.quota_consume`) and this layer imports nothing
above it.
"""

from __future__ import annotations

from aiadmin.adapters.errors import AIAdminError


class LimitExceededError(AIAdminError):
    kind = "limit"
    default_message = "The monthly request limit for this provider has been reached."
