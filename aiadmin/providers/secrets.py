"""Services for stored secrets: setting, clearing and rotating encrypted keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from aiadmin import encryption

from .fields import Ciphertext
from .models import AdminProviderSettings, AIProvider

# (model, secret field) pairs: every encrypted column in the project.
SECRET_COLUMNS = ((AIProvider, "shared_api_key"), (AdminProviderSettings, "personal_api_key"))


@dataclass(frozen=True)
class RotationReport:
    changed: int
    unchanged: int


def _rows_with_secrets():
    for model, field in SECRET_COLUMNS:
        for row in model.objects.exclude(**{field: ""}).only("pk", field):
            yield model, field, row


def undecryptable_secrets() -> list[str]:
    failures = []
    for model, field, row in _rows_with_secrets():
        try:
            encryption.decrypt(getattr(row, field))
        except encryption.InvalidToken:
            failures.append(f"{model.__name__}.{field} of row {row.pk}")
    return failures


@transaction.atomic
def secrets_rotate() -> RotationReport:
    """Re-encrypt every secret that is not under the newest key already (idempotent)."""
    changed = unchanged = 0
    for model, field, row in _rows_with_secrets():
        token = getattr(row, field)
        if encryption.is_under_newest_key(token):
            unchanged += 1
            continue
        try:
            rotated = encryption.reencrypt(token)
        except encryption.InvalidToken as err:
            raise encryption.SecretDecryptionError(
                f"Cannot decrypt {model.__name__}.{field} of row {row.pk}: no configured key fits. "
                "Nothing was changed."
            ) from err
        model.objects.filter(pk=row.pk).update(**{field: Ciphertext(rotated)})
        changed += 1
    return RotationReport(changed=changed, unchanged=unchanged)

