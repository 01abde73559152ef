from django.core.management.base import BaseCommand, CommandError, no_translations

from editorial.arxiv_client import ArxivClient, ArxivError
from editorial.arxiv_sync import FIELD_LABELS, store_records
from editorial.management.commands._progress import Progress


class Command(BaseCommand):
    help = (
        "Create or refresh papers from arXiv's metadata. Fields an editor corrected are kept "
        "(and listed) unless --overwrite is given. Nothing is written when arXiv fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="+", help="arXiv ids or arxiv.org links.")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace fields an editor corrected with arXiv's values.",
        )
        parser.add_argument(
            "--no-create", action="store_true", help="Only refresh papers already stored."
        )

    @no_translations  # one language in the output: the command's own lines are English
    def handle(self, ids, overwrite, no_create, **options):
        client = ArxivClient()
        try:
            records = client.fetch(ids, progress=Progress(self.stdout, "arXiv"))
        except ArxivError as exc:
            raise CommandError(f"{exc} Nothing was written.") from None
        result = store_records(records.values(), overwrite=overwrite, create=not no_create)
        for arxiv_id in result.created:
            self.stdout.write(f"created {arxiv_id}: {records[arxiv_id].title}")
        for arxiv_id in result.updated:
            self.stdout.write(f"updated {arxiv_id}")
        for arxiv_id in result.unchanged:
            self.stdout.write(f"unchanged {arxiv_id}")
        for arxiv_id, fields in result.conflicts.items():
            for name, (current, theirs) in fields.items():
                self.stdout.write(
                    f"kept {arxiv_id} {FIELD_LABELS[name]} (edited): “{current[:60]}”; "
                    f"arXiv has “{theirs[:60]}” (use --overwrite to take it)"
                )
        skipped = len(records) - len(result.created) - len(result.updated) - len(result.unchanged)
        if skipped:
            self.stdout.write(f"{skipped} not stored (--no-create)")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged, "
                f"{sum(len(f) for f in result.conflicts.values())} edited fields kept."
            )
        )
