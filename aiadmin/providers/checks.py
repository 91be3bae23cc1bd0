"""System checks for the encryption keys: a derived development key warns, a malformed key is
an error, and (with database checks, e.g. during ``migrate``) a stored secret that no key
decrypts is an error too."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from aiadmin import encryption


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    try:
        encryption.encrypt("check")
    except ImproperlyConfigured as err:
        return [checks.Error(str(err), id="aiadmin.E001")]
    if encryption.derived_key_in_use():
        return [
            checks.Warning(
                "Secrets are encrypted with a key derived from SECRET_KEY.",
                hint="Set AIADMIN_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first).",
                id="aiadmin.W001",
            )
        ]
    return []


@checks.register(checks.Tags.database)
def check_stored_secrets_decrypt(app_configs, databases=None, **kwargs):
    from .secrets import undecryptable_secrets

    if not databases:
        return []
    try:
        failures = undecryptable_secrets()
    except (DatabaseError, ImproperlyConfigured):
        return []  # no tables yet, or E001 already says what is wrong
    return [
        checks.Error(
            f"{label} cannot be decrypted with AIADMIN_ENCRYPTION_KEYS.",
            hint="Put back the key it was encrypted with (keys are newest first), or clear the secret.",
            id="aiadmin.E002",
        )
        for label in failures
    ]
