from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aiadmin.providers.catalogue import CATALOGUE_PATH, CatalogueError, catalogue_import, catalogue_load


class Command(BaseCommand):
    help = (
        "Import the provider catalogue (idempotent). Creates missing providers and updates "
        "catalogue fields an admin has not edited; never touches keys, activation or sort order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=CATALOGUE_PATH, help="A catalogue JSON file to import.")

    def handle(self, *args, file: Path, verbosity: int, **options):
        try:
            entries = catalogue_load(path=file)
        except CatalogueError as err:
            problems = "\n".join(f"  - {problem}" for problem in err.problems)
            raise CommandError(f"The catalogue {file} has problems; nothing was imported:\n{problems}") from err
        report = catalogue_import(entries=entries)
        for slug, field in report.kept_admin_edits:
            if verbosity > 1:
                self.stdout.write(f"{slug}: kept the admin's {field}")
        for slug in report.keys_cleared:
            self.stdout.write(self.style.WARNING(f"{slug}: base URL changed, so its shared key was cleared; enter it again."))
        summary = (
            f"{len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged ({len(entries)} providers in {file.name})."
        )
        if report.changed_anything:
            self.stdout.write(self.style.SUCCESS(summary))
        else:
            self.stdout.write(f"Nothing to do: {summary}")
