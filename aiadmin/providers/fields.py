"""A model field that keeps a secret as Fernet ciphertext in the database.

Loaded values are :class:`Ciphertext` (a ``str`` marker that never reveals anything useful);
assigning a plain ``str`` means "this is a new plaintext secret" and it is encrypted when
saved. Reading the plaintext goes through :meth:`EncryptedSecretsMixin.reveal_secret`, which
names the row when decryption fails.

Every plaintext that passes through here (encrypted to be stored, or revealed) is handed to
:func:`aiadmin.known_secrets.redact_from_logs`, so the log filter removes it from every record.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from aiadmin import encryption
from aiadmin.adapters.safejson import SafeJSONDecoder
from aiadmin.known_secrets import redact_from_logs


class Ciphertext(str):
    """Stored ciphertext; kept distinct from plaintext so it is never encrypted twice."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<Ciphertext>"


def mask_secret(plaintext: str) -> str:
    """A hint that a secret is set: at most its last 4 characters, none for short secrets."""
    if not plaintext:
        return ""
    if len(plaintext) <= 8:
        return "•••••••• (set)"
    return f"••••••••{plaintext[-4:]}"


class EncryptedSecretField(models.TextField):
    description = "A secret stored as Fernet ciphertext"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)  # forms use a dedicated write-only field
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return Ciphertext(value)

    def to_python(self, value):
        if value is None:
            return ""
        return value

    def get_prep_value(self, value):
        if not value:
            return ""
        if isinstance(value, Ciphertext):
            return str(value)
        redact_from_logs(str(value))
        return encryption.encrypt(str(value))

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value and not isinstance(value, Ciphertext):
            # Encrypt once and keep the ciphertext on the instance, so plaintext does not
            # linger in memory and a second save does not re-encrypt.
            redact_from_logs(str(value))
            value = Ciphertext(encryption.encrypt(str(value)))
            setattr(model_instance, self.attname, value)
        return value


class EncryptedSecretsMixin:
    """Model mixin: read a secret's plaintext, with an error that names the row on failure."""

    def reveal_secret(self, field_name: str) -> str:
        value = getattr(self, field_name)
        if not value:
            return ""
        if not isinstance(value, Ciphertext):
            plaintext = str(value)  # assigned in this process and not saved yet
        else:
            plaintext = self._decrypt_secret(field_name, value)
        redact_from_logs(plaintext)
        return plaintext

    def _decrypt_secret(self, field_name: str, value: Ciphertext) -> str:
        try:
            return encryption.decrypt(value)
        except encryption.InvalidToken as err:
            raise encryption.SecretDecryptionError(
                f"Cannot decrypt {type(self).__name__}.{field_name} of row {self.pk} ({self}): "
                'no key in AIADMIN["ENCRYPTION_KEYS"] fits. Restore the key it was encrypted with, '
                "or clear and re-enter the secret."
            ) from err

    def secret_hint(self, field_name: str) -> str:
        """A masked hint for display; a secret that cannot be decrypted says so."""
        try:
            return mask_secret(self.reveal_secret(field_name))
        except encryption.SecretDecryptionError:
            return "set, but cannot be decrypted with the configured keys"


class SafeJSONFormField(forms.JSONField):
    """A JSON form field that refuses what :mod:`aiadmin.adapters.safejson` refuses and says
    why; the text the admin typed stays in the field (Django's JSONField keeps invalid input)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("decoder", SafeJSONDecoder)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if not isinstance(value, str):
                raise
            try:
                json.loads(value, cls=self.decoder)
            except json.JSONDecodeError as reason:
                raise ValidationError(
                    "Enter valid JSON: %(reason)s.", code="invalid", params={"reason": reason.msg, "value": value}
                ) from None
            raise error


class SafeJSONField(models.JSONField):
    """``models.JSONField`` decoding with the safe decoder, in forms and when loading a row (a
    stored value it refuses loads as its raw text, as Django does for any undecodable value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("decoder", SafeJSONDecoder)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": SafeJSONFormField, **kwargs})
