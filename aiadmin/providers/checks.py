"""System checks for the encryption keys: a derived development key warns, a malformed key is
an error, and (with database checks, e.g. during ``migrate``) a stored secret that no key
decrypts is an error too."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from aiadmin import encryption
from aiadmin.conf import ENCRYPTION_KEYS_LINE, GENERATE_KEY, aiadmin_settings_valid


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    if not aiadmin_settings_valid("ENCRYPTION_KEYS", "DERIVE_ENCRYPTION_KEY"):
        return []  # aiadmin.E031 already names the key and what is wrong with it
    try:
        encryption.encrypt("check")
    except encryption.MissingEncryptionKeys as err:
        return [checks.Error(str(err), hint=err.hint, id="aiadmin.E001")]
    except ImproperlyConfigured as err:
        return [checks.Error(str(err), hint=f"Generate a key with: {GENERATE_KEY}", id="aiadmin.E001")]
    if encryption.derived_key_in_use():
        return [
            checks.Warning(
                "Secrets are encrypted with a key derived from SECRET_KEY.",
                hint=f"Set Fernet keys, newest first: {ENCRYPTION_KEYS_LINE}",
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
            f'{label} cannot be decrypted with AIADMIN["ENCRYPTION_KEYS"].',
            hint="Put back the key it was encrypted with (keys are newest first), or clear the secret.",
            id="aiadmin.E002",
        )
        for label in failures
    ]


# Django's deploy checks look for its middleware by dotted path; aiadmin.middleware serves the
# same classes under its own paths (subclasses, minus thread hops). These checks replace
# security.W001-W003 (silenced in settings) and accept a subclass.
_REQUIRED_MIDDLEWARE = (
    ("django.middleware.security.SecurityMiddleware", "security.W001"),
    ("django.middleware.clickjacking.XFrameOptionsMiddleware", "security.W002"),
    ("django.middleware.csrf.CsrfViewMiddleware", "security.W003"),
)


@checks.register(checks.Tags.security, deploy=True)
def check_security_middleware(app_configs, **kwargs):
    from django.conf import settings
    from django.utils.module_loading import import_string

    installed = [import_string(path) for path in settings.MIDDLEWARE]
    problems = []
    for path, replaces in _REQUIRED_MIDDLEWARE:
        required = import_string(path)
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in installed):
            problems.append(
                checks.Warning(f"{path} (or a subclass) is not in MIDDLEWARE.", hint=f"Replaces {replaces}.", id="aiadmin.W002")
            )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_log_handlers_redact_secrets(app_configs, **kwargs):
    """Every log handler carries the filter that keeps keys out of the logs (a host project
    that brings its own LOGGING must add it to each of its handlers)."""
    import logging

    from aiadmin.logging import RedactSecretsFilter

    loggers = [logging.getLogger(), *(logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger))]
    unfiltered = sorted(
        f"{type(handler).__name__} on {logger.name}"
        for logger in loggers
        for handler in logger.handlers
        if not any(isinstance(each, RedactSecretsFilter) for each in handler.filters)
    )
    if not unfiltered:
        return []
    return [
        checks.Warning(
            f"Log handlers without aiadmin.logging.RedactSecretsFilter can write API keys to the log: {', '.join(unfiltered)}.",
            hint='Add "filters": {"redact_secrets": {"()": "aiadmin.logging.RedactSecretsFilter"}} to LOGGING '
            'and "filters": ["redact_secrets"] to each handler.',
            id="aiadmin.W011",
        )
    ]
