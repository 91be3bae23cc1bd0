"""The one exception tree every adapter raises.

Messages are written for the admin who reads them: what happened and what to do. They never
contain a key: adapters build them from status codes and provider error text, which is
scrubbed by :func:`redact` before it gets here.
"""

from __future__ import annotations

import re


class AIAdminError(Exception):
    """Base of every error the adapters and the unified service raise."""

    kind = "error"
    default_message = "The AI provider call failed."
    retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.provider or self.provider in self.message:
            return self.message
        return f"{self.provider}: {self.message}"


class ConfigurationError(AIAdminError):
    kind = "configuration"
    default_message = "The provider is not configured correctly."


class AdapterMissingError(ConfigurationError):
    kind = "adapter_missing"
    default_message = (
        "The adapter for this provider is not installed. Install the package that provides it "
        "or pick another adapter in the provider's settings."
    )


class UnsupportedOperationError(AIAdminError):
    kind = "unsupported"
    default_message = "This provider does not offer that operation."


class AuthenticationError(AIAdminError):
    kind = "auth"
    default_message = "The provider rejected the API key. Check the key or enter a new one."


class PermissionDeniedError(AIAdminError):
    kind = "permission"
    default_message = (
        "The key is valid but may not use this model or endpoint. Check the key's permissions "
        "or the model's access on the provider's site."
    )


class NotFoundError(AIAdminError):
    kind = "not_found"
    default_message = "The provider does not know this model or endpoint. Check the model id and base URL."


class RateLimitedError(AIAdminError):
    kind = "rate_limited"
    default_message = "The provider is rate limiting requests. Wait a moment and try again."
    retryable = True


class QuotaExceededError(AIAdminError):
    kind = "quota"
    default_message = (
        "The provider account has run out of credit or quota. Add credit or raise the quota on "
        "the provider's site."
    )


class BadRequestError(AIAdminError):
    kind = "bad_request"
    default_message = "The provider refused the request as invalid. Check the parameters."


class UpstreamError(AIAdminError):
    kind = "upstream"
    default_message = "The provider had an internal error. Try again later."
    retryable = True


class ProviderTimeoutError(AIAdminError):
    kind = "timeout"
    default_message = "The provider did not answer in time. Try again, or pick a faster model."
    retryable = True


class ProviderConnectionError(AIAdminError):
    kind = "connection"
    default_message = "Could not reach the provider. Check the base URL and that the service is up."
    retryable = True


class MalformedResponseError(AIAdminError):
    kind = "malformed"
    default_message = "The provider sent a response that could not be understood."


class StreamLimitError(AIAdminError):
    """A streamed answer went past the size or duration one stream may have (the settings
    ``AIADMIN_STREAM_MAX_CHARS`` and ``AIADMIN_STREAM_MAX_SECONDS``) and was stopped."""

    kind = "stream_limit"
    default_message = "The answer went past the longest stream allowed and was stopped."


class LimitExceededError(AIAdminError):
    kind = "limit"
    default_message = "The monthly request limit for this provider has been reached."


class NoAccessError(AIAdminError):
    kind = "no_access"
    default_message = "No API key is available for this provider."


_SECRETISH = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{8,}|gsk_[A-Za-z0-9]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{8,}|(?i:(?:api[_-]?key|key|token)=)[^&\s]+)"
)


def redact(text: str, *secrets: str | None) -> str:
    """Remove known secrets and anything shaped like a key from provider-supplied text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _SECRETISH.sub("[redacted]", text)
