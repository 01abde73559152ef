"""Delete old revisions, keeping every published or scheduled one, the latest few of each
digest, and everything younger than a number of days. Also forgets edit-presence rows older
than a day."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from editorial.models import EditPresence, Revision


class Command(BaseCommand):
    help = "Prune old revisions (published/scheduled ones and the latest of each are kept)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days", type=int, default=90, help="Only revisions older than this."
        )
        parser.add_argument(
            "--keep-latest", type=int, default=10, help="Always keep this many per digest."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count only; delete nothing.")

    def handle(self, *args, older_than_days, keep_latest, dry_run, **options):
        if older_than_days < 0 or keep_latest < 1:
            raise CommandError("--older-than-days must be >= 0 and --keep-latest >= 1.")
        cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
        # The number of each digest's keep_latest-th newest revision: keep from there up.
        threshold = Subquery(
            Revision.objects.filter(digest=OuterRef("digest"))
            .order_by("-number")
            .values("number")[keep_latest - 1 : keep_latest]
        )
        doomed = (
            Revision.objects.filter(published=False, created_at__lt=cutoff)
            .annotate(threshold=threshold)
            .filter(threshold__isnull=False, number__lt=F("threshold"))
        )
        ids = list(doomed.values_list("pk", flat=True))
        if dry_run:
            self.stdout.write(f"Would delete {len(ids)} revision(s).")
            return
        with transaction.atomic():
            deleted, _ = Revision.objects.filter(pk__in=ids).delete()
            # "Who else is editing" only looks minutes back; older rows are noise.
            EditPresence.objects.filter(
                seen_at__lt=timezone.now() - datetime.timedelta(days=1)
            ).delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} revision(s)."))
