"""``manage.py export_site PATH``: the whole site (content, users, groups, media files) in
one zip archive. See editorial/backup.py and docs/operations.md."""

from django.core.management.base import BaseCommand, CommandError

from editorial.backup import BackupError, export_site


class Command(BaseCommand):
    help = "Write all content, users, groups and uploaded files into one zip archive."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the archive, e.g. site-2025-09-30.zip")
        parser.add_argument(
            "--with-passwords",
            action="store_true",
            help="Include password hashes (otherwise restored accounts must set a new password).",
        )

    def handle(self, *args, path, with_passwords, **options):
        try:
            counts = export_site(path, with_passwords=with_passwords)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count}", self.style.SQL_TABLE)
        note = "" if with_passwords else " (without password hashes)"
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}{note}."))
