from django.core.management.base import BaseCommand

from reading.related import refresh


class Command(BaseCommand):
    help = (
        "Recompute the related papers of every published entry (they follow content changes "
        "on their own, through the worker; run this after loading existing data, after a "
        "deploy that changed the computation, or to see how long it takes)."
    )

    def handle(self, *args, **options):
        done = refresh(force=True)
        self.stdout.write(
            f"Related papers of {done.documents} entr{'y' if done.documents == 1 else 'ies'}: "
            f"{done.lists_changed} lists changed, in {done.seconds:.1f} s "
            f"({done.cpu_seconds:.1f} s of CPU)."
        )
