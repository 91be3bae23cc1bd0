from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aiadmin.adapters.errors import AIAdminError
from aiadmin.providers.models import AIProvider
from aiadmin.unified import UnifiedAIService


class Command(BaseCommand):
    help = (
        "Validate the shared key of every active provider that has one, store and report the results. "
        "Exits with status 1 when any check fails (or a named provider cannot be checked), so cron "
        "and monitoring can alert on it."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Only these providers.")

    def handle(self, *args, slugs, **options):
        superuser = get_user_model()._default_manager.filter(is_superuser=True, is_active=True).first()
        if superuser is None:
            raise CommandError("No active superuser: run `manage.py ensure_superuser` first.")
        providers = AIProvider.objects.filter(is_active=True).exclude(shared_api_key="").order_by("sort_order", "slug")
        if slugs:
            providers = providers.filter(slug__in=slugs)
        providers = list(providers)
        service = UnifiedAIService()
        failures = 0
        for provider in providers:
            try:
                result = service.validate_key(provider.slug, superuser, key_source="shared")
                ok, message = result.ok, result.message
            except AIAdminError as err:
                ok, message = False, str(err)
            failures += not ok
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(style(f"{'ok  ' if ok else 'FAIL'} {provider.slug}: {message}"))
        # A provider asked for by name that was not checked is a failed check, not a silent pass.
        unchecked = sorted(set(slugs) - {provider.slug for provider in providers})
        for slug in unchecked:
            self.stdout.write(
                self.style.ERROR(f"FAIL {slug}: no such active provider with a shared key, so it was not checked.")
            )
        failed = failures + len(unchecked)
        self.stdout.write(f"{len(providers)} provider(s) checked, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} provider check(s) failed.", returncode=1)
