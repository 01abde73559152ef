"""Side effects of digests going live (feed pings, cache warming through the
``digest_went_live`` signal). Visibility itself needs no job: pages decide it when read.
Idempotent: each go-live time is handled once; safe to run from cron as often as liked."""

from django.core.management.base import BaseCommand

from editorial import services
from editorial.workflow import site_time


class Command(BaseCommand):
    help = "Record digests that went live since the last run and send digest_went_live."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be handled; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        due = services.digests_went_live(dry_run=dry_run)
        verb = "would handle" if dry_run else "handled"
        for digest in due:
            self.stdout.write(f"{verb}: {digest} (live since {site_time(digest.published_at)})")
        self.stdout.write(
            self.style.SUCCESS(f"{len(due)} digest(s) {verb}.") if due else "Nothing to do."
        )
