"""The one exception tree every adapter raises.

Errors that are not about a provider call live with the code that raises them
(aiadmin/unified/errors.py, aiadmin/providers/errors.py), subclassing :class:`AIAdminError`.
Messages are written for the admin who reads them: what happened and what to do. They never
contain a key: adapters build them from status codes and provider error text, which is
scrubbed by :func:`redact` before it gets here.
"""

from __future__ import annotations

import re


class AIAdminError(Exception):
    """Base of every error the adapters and the services above them raise."""

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


_SECRETISH = re.compile(
    r"sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{8,}|gsk_[A-Za-z0-9]{8,}"
    # xAI, Perplexity, Replicate, Cerebras, Fireworks, NVIDIA, ElevenLabs: long enough that
    # model ids sharing a prefix ("pplx-70b-online") are left alone.
    r"|(?:xai-|pplx-|r8_|csk-|fw_|nvapi-|sk_)[A-Za-z0-9_\-]{20,}"
    # aiadmin's own API tokens (aiadmin/providers/tokens.py).
    r"|aia_[A-Za-z0-9]{10}_[A-Za-z0-9]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{8,}"
    r"|(?P<param>(?i:(?:api[_-]?key|key|token)=))[^&\s]+"
)

# The value of a credential header or parameter, in every spelling a log or error text shows
# it: ``Authorization: Bearer X``, ``'x-api-key': 'X'``, ``"api-key": "X"``, httpcore's
# ``(b'x-goog-api-key', b'X')``, ``api_key=X``. The name is kept, the value goes, whatever its
# shape (a key that does not look like one is still a key when it sits in such a header).
_CREDENTIAL_NAMES = r"(?:proxy-)?authori[sz]ation|(?:x-(?:goog-)?|xi-)?api[-_]?key|x-auth-token|access[-_]?token"
_CREDENTIAL_VALUE = re.compile(
    rf"(?i)(?P<name>\b(?:{_CREDENTIAL_NAMES})\b)"
    # A comma only after a quoted name (a tuple), so prose such as "an api_key, then" is kept.
    r"(?P<sep>['\"]\s*,\s*|['\"]?\s*[:=]\s*)"
    r"(?!\[redacted\])(?:(?P<quoted>b?(?P<quote>['\"]))[^'\"\n]*(?P=quote)|(?:(?:bearer|basic|token)\s+)?[^\s'\",;&)}\]]+)"
)


def _redact_shape(match: re.Match[str]) -> str:
    return f"{match.group('param') or ''}[redacted]"


def _redact_credential_value(match: re.Match[str]) -> str:
    quoted, quote = match.group("quoted") or "", match.group("quote") or ""
    return f"{match.group('name')}{match.group('sep')}{quoted}[redacted]{quote}"


# Substrings (of the lowercased text) without which the patterns above cannot match: most text
# has none, and a few substring tests cost far less than running the patterns over it.
_SHAPE_HINTS = ("sk-", "sk_", "aiza", "hf_", "xai-", "pplx-", "r8_", "fw_", "nvapi-", "aia_", "bearer", "key=", "token=")
_CREDENTIAL_HINTS = ("authori", "apikey", "api-key", "api_key", "auth-token", "access-token", "access_token", "accesstoken")


def _contains_any(text: str, hints: tuple[str, ...]) -> bool:
    for hint in hints:  # a plain loop: half the cost of any() over a generator
        if hint in text:
            return True
    return False


def redact_key_shapes(text: str) -> str:
    """Remove credential header values and anything shaped like a key."""
    lowered = text.lower()
    if _contains_any(lowered, _SHAPE_HINTS):
        text = _SECRETISH.sub(_redact_shape, text)
    if _contains_any(lowered, _CREDENTIAL_HINTS):
        text = _CREDENTIAL_VALUE.sub(_redact_credential_value, text)
    return text


def redact(text: str, *secrets: str | None) -> str:
    """Remove known secrets, credential header values and anything shaped like a key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return redact_key_shapes(text)
