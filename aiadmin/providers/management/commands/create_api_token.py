"""``manage.py create_api_token --user USERNAME --name NAME [--expires-days N]``

Makes an API token for an admin and prints it alone on the last line of the output (so a
script can take it with ``tail -n 1``). The token is shown this once and never stored.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from aiadmin.adapters.types import CAPABILITIES
from aiadmin.providers.tokens import token_admin_find, token_create


def _names(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = "Make an API token for the HTTP API (/v1/); the token is printed once, on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="Username of the admin the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--expires-days", type=int, default=None, help="Days until the token expires (default: never).")
        parser.add_argument(
            "--capabilities", default="", help=f"Comma-separated capabilities it may use ({', '.join(CAPABILITIES)}; default: all)."
        )
        parser.add_argument("--providers", default="", help="Comma-separated provider slugs it may use (default: all).")

    def handle(self, *args, **options) -> None:
        expires_at = None
        if options["expires_days"] is not None:
            if not 1 <= options["expires_days"] <= 3650:
                raise CommandError("--expires-days must be between 1 and 3650.")
            expires_at = timezone.now() + dt.timedelta(days=options["expires_days"])
        try:
            admin = token_admin_find(username=options["user"])
            issued = token_create(
                admin=admin,
                name=options["name"],
                expires_at=expires_at,
                capabilities=_names(options["capabilities"]),
                providers=_names(options["providers"]),
            )
        except ValueError as err:
            raise CommandError(str(err)) from err
        until = f"until {issued.token.expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else "with no expiry"
        self.stderr.write(
            f"Made the API token “{issued.token.name}” for {admin}, {until}. "
            "It is shown once, below; store it now."
        )
        self.stdout.write(issued.plaintext)
