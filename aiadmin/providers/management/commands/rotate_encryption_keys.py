from django.core.management.base import BaseCommand, CommandError

from aiadmin.encryption import SecretDecryptionError
from aiadmin.providers.secrets import secrets_rotate


class Command(BaseCommand):
    help = 'Re-encrypt every stored secret under the newest key in AIADMIN["ENCRYPTION_KEYS"] (idempotent).'

    def handle(self, *args, **options):
        try:
            report = secrets_rotate()
        except SecretDecryptionError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {report.changed} secret(s); {report.unchanged} already under the newest key."
            )
        )
