from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aiadmin.adapters.errors import AIAdminError
from aiadmin.providers.models import AIProvider
from aiadmin.unified import UnifiedAIService


class Command(BaseCommand):
    help = "Validate the shared key of every active provider that has one, store and report the results."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Only these providers.")

    def handle(self, *args, slugs, **options):
        superuser = get_user_model()._default_manager.filter(is_superuser=True, is_active=True).first()
        if superuser is None:
            raise CommandError("No active superuser: run `manage.py ensure_superuser` first.")
        providers = AIProvider.objects.filter(is_active=True).exclude(shared_api_key="")
        if slugs:
            providers = providers.filter(slug__in=slugs)
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
        self.stdout.write(f"{providers.count()} provider(s) checked, {failures} failed.")
