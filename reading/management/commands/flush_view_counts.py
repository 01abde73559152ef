from django.core.management.base import BaseCommand

from reading.viewcounts import flush_all


class Command(BaseCommand):
    help = (
        "Write the view counts waiting in the cache to the database (run every few minutes "
        "from cron or a timer, and before restarting a cache without persistence)."
    )

    def handle(self, *args, **options):
        moved = flush_all()
        self.stdout.write(f"Flushed {moved} view(s).")
