from django.core.management.base import BaseCommand
from django.db import transaction

from readership.rollups import rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the monthly and site-wide daily roll-ups of the readership figures from the "
        "daily rows (the worker keeps them current; the migration that added them built them)."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            made = rebuild()
        self.stdout.write(", ".join(f"{name}: {count:,} row(s)" for name, count in made.items()))
