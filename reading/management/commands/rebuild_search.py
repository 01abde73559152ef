from django.core.management.base import BaseCommand

from papers.changes import content_changed
from papers.models import Entry
from reading.search import refresh_entries


class Command(BaseCommand):
    help = (
        "Rebuild the search text of every entry (it is kept current automatically; use this "
        "after a bulk import that bypassed the models, or after changing the tokeniser)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size=500, **options):
        if batch_size < 1:
            self.stderr.write("error: --batch-size must be at least 1")
            return
        ids = list(Entry.objects.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(ids), batch_size):
            done += refresh_entries(ids[start : start + batch_size])
        content_changed()  # lists kept from the old rows are out of date
        self.stdout.write(f"Rebuilt the search text of {done} entr{'y' if done == 1 else 'ies'}.")
