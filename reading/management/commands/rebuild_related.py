from django.core.management.base import BaseCommand

from reading.related import refresh


class Command(BaseCommand):
    help = (
        "Recompute the related papers of every published entry (they follow content changes "
        "on their own, through the worker, incrementally; run this after loading existing "
        "data, after a deploy that changed the computation, to correct the drift of an "
        "archive too large for the worker's full recomputations, or to see how long it takes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="only what the worker would do: tokenise the entries changed since the last "
            "computation and rewrite the lists they enter or leave",
        )

    def handle(self, *args, incremental, **options):
        done = refresh(force=True, full=False if incremental else True)
        how = "full" if done.full else "incremental"
        self.stdout.write(
            f"Related papers of {done.documents} entr{'y' if done.documents == 1 else 'ies'} "
            f"({how}, {done.tokenised} tokenised): {done.lists_changed} lists changed, in "
            f"{done.seconds:.1f} s ({done.cpu_seconds:.1f} s of CPU)."
        )
