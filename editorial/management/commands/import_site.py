"""``manage.py import_site PATH``: restore an export_site archive into an empty database,
all or nothing. See editorial/backup.py and docs/operations.md."""

from django.core.management.base import BaseCommand, CommandError

from editorial.backup import BackupError, after_model_loaded, import_site


class Command(BaseCommand):
    help = "Restore an export_site archive into an empty (migrated) database, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive written by export_site.")

    def handle(self, *args, path, **options):
        def progress(label, rows):
            if options["verbosity"] >= 1:
                self.stdout.write(f"{label}: {rows}")
                self.stdout.flush()

        after_model_loaded.append(progress)
        try:
            report = import_site(path)
        except (BackupError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            after_model_loaded.remove(progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {sum(report.counts.values())} rows and {report.files} files from {path}."
            )
        )
        if not report.with_passwords and report.counts.get("auth.user"):
            self.stdout.write(
                "Accounts were exported without passwords: set one with "
                "`manage.py changepassword NAME` before logging in."
            )
