"""Fernet encryption for stored secrets (MultiFernet over ``AIADMIN["ENCRYPTION_KEYS"]``, newest
first). Decryption failures raise; nothing here ever returns ciphertext as if it were a key."""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aiadmin.conf import ENCRYPTION_KEYS_LINE, aiadmin_settings

__all__ = [
    "InvalidToken",
    "MissingEncryptionKeys",
    "SecretDecryptionError",
    "decrypt",
    "derived_key_in_use",
    "encrypt",
    "encryption_keys",
    "is_under_newest_key",
    "reencrypt",
]


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _derive_key(secret_key: str) -> str:
    digest = hashlib.sha256(f"aiadmin-fernet-v1:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


class MissingEncryptionKeys(ImproperlyConfigured):
    """No key is configured and none may be derived."""

    hint = f"Add to your settings: {ENCRYPTION_KEYS_LINE}"

    def __init__(self) -> None:
        super().__init__(
            'AIADMIN["ENCRYPTION_KEYS"] is empty, so stored API keys cannot be encrypted '
            '(a key is derived from SECRET_KEY only with DEBUG on, or AIADMIN["DERIVE_ENCRYPTION_KEY"] True).'
        )


def derived_key_in_use() -> bool:
    return not aiadmin_settings.ENCRYPTION_KEYS and aiadmin_settings.DERIVE_ENCRYPTION_KEY


def encryption_keys() -> tuple[str, ...]:
    keys = aiadmin_settings.ENCRYPTION_KEYS
    if keys:
        return keys
    if aiadmin_settings.DERIVE_ENCRYPTION_KEY:
        return (_derive_key(settings.SECRET_KEY),)
    raise MissingEncryptionKeys()


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, TypeError) as err:
        raise ImproperlyConfigured(
            'AIADMIN["ENCRYPTION_KEYS"] holds a value that is not a Fernet key (32 url-safe '
            "base64-encoded bytes)."
        ) from err
    return MultiFernet(fernets), fernets[0]


def encrypt(plaintext: str) -> str:
    multi, _ = _fernets(encryption_keys())
    return multi.encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key; raises :class:`InvalidToken` on failure."""
    multi, _ = _fernets(encryption_keys())
    return multi.decrypt(token.encode()).decode()


def is_under_newest_key(token: str) -> bool:
    _, newest = _fernets(encryption_keys())
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(token: str) -> str:
    """Re-encrypt under the newest key (raises :class:`InvalidToken` if no key fits)."""
    multi, _ = _fernets(encryption_keys())
    return multi.rotate(token.encode()).decode()
