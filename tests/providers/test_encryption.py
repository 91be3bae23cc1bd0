"""Secrets at rest: Fernet ciphertext in the column, clear errors, rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from aiadmin import encryption
from aiadmin.providers.checks import check_encryption_keys, check_stored_secrets_decrypt
from aiadmin.providers.fields import Ciphertext, mask_secret
from aiadmin.providers.models import AdminProviderSettings, AIProvider
from tests.aiadmin_overrides import aiadmin_set

pytestmark = pytest.mark.django_db

CANARY = "sk-canary-7f3a9b2c4d5e6f708192"


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_shared_key_column_holds_fernet_ciphertext_not_plaintext(make_provider):
    provider = make_provider(shared_api_key=CANARY)
    stored = raw_column("aiadmin_providers_aiprovider", "shared_api_key", provider.pk)
    assert CANARY not in stored
    assert CANARY[-6:] not in stored
    assert encryption.decrypt(stored) == CANARY
    assert AIProvider.objects.get(pk=provider.pk).reveal_secret("shared_api_key") == CANARY


def test_personal_key_column_holds_ciphertext(make_provider, staff_user):
    settings_row = AdminProviderSettings.objects.create(
        admin=staff_user, provider=make_provider(), personal_api_key=CANARY
    )
    stored = raw_column("aiadmin_providers_adminprovidersettings", "personal_api_key", settings_row.pk)
    assert CANARY not in stored
    assert AdminProviderSettings.objects.get(pk=settings_row.pk).reveal_secret("personal_api_key") == CANARY


def test_saving_twice_does_not_encrypt_twice(make_provider):
    provider = make_provider(shared_api_key=CANARY)
    assert isinstance(provider.shared_api_key, Ciphertext)  # plaintext is gone from the instance
    provider.name = "Renamed"
    provider.save()
    assert AIProvider.objects.get(pk=provider.pk).reveal_secret("shared_api_key") == CANARY


def test_loaded_ciphertext_repr_reveals_nothing(make_provider):
    provider = AIProvider.objects.get(pk=make_provider(shared_api_key=CANARY).pk)
    assert repr(provider.shared_api_key) == "<Ciphertext>"


def test_decryption_failure_raises_error_naming_the_row(make_provider, settings):
    provider = make_provider(shared_api_key=CANARY)
    aiadmin_set(settings, ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    loaded = AIProvider.objects.get(pk=provider.pk)
    with pytest.raises(encryption.SecretDecryptionError) as excinfo:
        loaded.reveal_secret("shared_api_key")
    message = str(excinfo.value)
    assert f"row {provider.pk}" in message and "AIProvider.shared_api_key" in message
    assert CANARY not in message and str(loaded.shared_api_key) not in message


def test_hint_shows_at_most_last_four_characters():
    assert mask_secret("sk-abcdefghijkl") == "••••••••ijkl"
    assert "abcdefgh" not in mask_secret("abcdefgh")  # 8 characters: nothing of it shown
    assert mask_secret("abcdefgh") == "•••••••• (set)"
    assert mask_secret("") == ""


def test_rotation_reencrypts_under_newest_key_and_is_idempotent(make_provider, staff_user, settings):
    old_key = settings.AIADMIN["ENCRYPTION_KEYS"][0]
    provider = make_provider(shared_api_key=CANARY)
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider, personal_api_key="hf_personalkey123456")
    make_provider()  # no secret: not counted
    new_key = Fernet.generate_key().decode()
    aiadmin_set(settings, ENCRYPTION_KEYS=[new_key, old_key])

    out = call_and_capture("rotate_encryption_keys")
    assert "Re-encrypted 2 secret(s); 0 already under the newest key." in out
    stored = raw_column("aiadmin_providers_aiprovider", "shared_api_key", provider.pk)
    assert Fernet(new_key).decrypt(stored.encode()).decode() == CANARY

    again = call_and_capture("rotate_encryption_keys")
    assert "Re-encrypted 0 secret(s); 2 already under the newest key." in again
    assert raw_column("aiadmin_providers_aiprovider", "shared_api_key", provider.pk) == stored

    aiadmin_set(settings, ENCRYPTION_KEYS=[new_key])  # the old key can now be retired
    assert AIProvider.objects.get(pk=provider.pk).reveal_secret("shared_api_key") == CANARY


def test_rotation_with_a_missing_key_fails_and_changes_nothing(make_provider, settings):
    provider = make_provider(shared_api_key=CANARY)
    make_provider(shared_api_key="second-secret-value")
    before = raw_column("aiadmin_providers_aiprovider", "shared_api_key", provider.pk)
    aiadmin_set(settings, ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=f"row {provider.pk}"):
        call_command("rotate_encryption_keys")
    assert raw_column("aiadmin_providers_aiprovider", "shared_api_key", provider.pk) == before


def test_derived_development_key_gives_a_warning(settings):
    aiadmin_set(settings, ENCRYPTION_KEYS=[], DERIVE_ENCRYPTION_KEY=True)
    assert [message.id for message in check_encryption_keys(None)] == ["aiadmin.W001"]


def test_malformed_key_is_a_check_error(settings):
    aiadmin_set(settings, ENCRYPTION_KEYS=["not-a-fernet-key"])
    assert [message.id for message in check_encryption_keys(None)] == ["aiadmin.E001"]


def test_no_key_and_no_derivation_is_a_check_error(settings):
    aiadmin_set(settings, ENCRYPTION_KEYS=[], DERIVE_ENCRYPTION_KEY=False)
    assert [message.id for message in check_encryption_keys(None)] == ["aiadmin.E001"]


def test_stored_secret_under_a_lost_key_is_a_check_error(make_provider, settings):
    provider = make_provider(shared_api_key=CANARY)
    assert check_stored_secrets_decrypt(None, databases=["default"]) == []
    aiadmin_set(settings, ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    errors = check_stored_secrets_decrypt(None, databases=["default"])
    assert [error.id for error in errors] == ["aiadmin.E002"]
    assert f"row {provider.pk}" in errors[0].msg


def call_and_capture(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
