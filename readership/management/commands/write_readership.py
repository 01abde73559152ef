from django.core.management.base import BaseCommand

from readership.writing import prune, write_counts


class Command(BaseCommand):
    help = (
        "Write the readership counts waiting in the cache (the minutes already over) to the "
        "database, and prune daily rows past READERSHIP_RETENTION_DAYS. The worker does both "
        "every minute; run this before restarting a cache that keeps nothing."
    )

    def handle(self, *args, **options):
        written = write_counts()
        pruned = prune()
        self.stdout.write(f"Wrote {written} view(s); pruned {pruned} old daily row(s).")
