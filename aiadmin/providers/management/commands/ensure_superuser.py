import os
import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Make sure a superuser exists: from DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD "
        "(and optional DJANGO_SUPERUSER_EMAIL) when set, else by asking at the terminal."
    )

    def handle(self, *args, **options):
        users = get_user_model()._default_manager
        if users.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write("A superuser exists already.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        if username and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            email = os.environ.get("DJANGO_SUPERUSER_EMAIL") or f"{username}@localhost"
            call_command("createsuperuser", interactive=False, username=username, email=email, verbosity=0)
            self.stdout.write(self.style.SUCCESS(f"Created superuser {username!r} from the environment."))
        elif sys.stdin.isatty():
            self.stdout.write("No superuser yet: create one to log in to the console.")
            call_command("createsuperuser", interactive=True)
        else:
            raise CommandError(
                "No superuser exists and there is no terminal to ask: set DJANGO_SUPERUSER_USERNAME "
                "and DJANGO_SUPERUSER_PASSWORD."
            )
