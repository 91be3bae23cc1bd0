import os
import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Make sure a superuser exists: from DJANGO_SUPERUSER_<USERNAME_FIELD> (DJANGO_SUPERUSER_USERNAME, "
        "or DJANGO_SUPERUSER_EMAIL for a user model that signs in by email) and DJANGO_SUPERUSER_PASSWORD "
        "(and optional DJANGO_SUPERUSER_EMAIL) when set, else by asking at the terminal."
    )

    def handle(self, *args, **options):
        user_model = get_user_model()
        users = user_model._default_manager
        if users.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write("A superuser exists already.")
            return
        # The user model's own login field: a host's custom user may have no username.
        field = user_model.USERNAME_FIELD
        variable = f"DJANGO_SUPERUSER_{field.upper()}"
        identity = os.environ.get(variable)
        if identity and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            values = {field: identity}
            if "email" in user_model.REQUIRED_FIELDS:
                values["email"] = os.environ.get("DJANGO_SUPERUSER_EMAIL") or f"{identity}@localhost"
            call_command("createsuperuser", interactive=False, verbosity=0, **values)
            self.stdout.write(self.style.SUCCESS(f"Created superuser {identity!r} from the environment."))
        elif sys.stdin.isatty():
            self.stdout.write("No superuser yet: create one to log in to the console.")
            call_command("createsuperuser", interactive=True)
        else:
            raise CommandError(
                f"No superuser exists and there is no terminal to ask: set {variable} "
                "and DJANGO_SUPERUSER_PASSWORD."
            )
