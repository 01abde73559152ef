from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, no_translations

from editorial import services
from editorial.importing import DigestImportError, decode_upload, parse_digest, write_digest
from editorial.importing.parse import FORMATS


def report_lines(parsed) -> list[str]:
    """The import report as plain lines (shared by the command and the benchmark)."""
    report = parsed.report
    lines = []
    for entry in parsed.entries:
        lines.append(
            f"  {entry.position}. [{entry.tag or '?'}] {entry.arxiv_id} {entry.title[:60]} — "
            f"{len(entry.sections)} sections, {len(entry.figures)} figures"
            + (f", {len(entry.unplaced)} unplaced lines" if entry.unplaced else "")
        )
    for note in report.warnings:
        lines.append(f"warning: {note.display()}")
    for name, numbers in report.unknown_sections.items():
        where = ", ".join(str(n) for n in numbers)
        lines.append(
            f"unknown section “{name}” (lines {where}): kept as unplaced text; add it as a "
            "section kind (or as an alias of one) and import again"
        )
    for note in report.ignored:
        lines.append(f"left out (page chrome or text outside the digest): {note.display()}")
    return lines


class Command(BaseCommand):
    help = (
        "Import a digest pasted as text (the site's layout) or Markdown into a draft. "
        "Nothing is written when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import, or - for standard input.")
        parser.add_argument("--format", choices=FORMATS, default="auto")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish it right away (needs --user with the publish permission).",
        )
        parser.add_argument("--user", help="The acting user (required with --publish).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Rewrite the draft when a digest for the same date exists.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and check everything, write nothing."
        )

    @no_translations  # one language in the output: the command's own lines are English
    def handle(self, path, format, publish, user, replace, dry_run, **options):
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user, is_active=True).first()
            if acting is None:
                raise CommandError(f"No active user “{user}”.")
        if publish:
            if acting is None:
                raise CommandError("--publish needs --user USERNAME (a user allowed to publish).")
            if not acting.has_perm(services.PUBLISH_PERMISSION):
                raise CommandError(f"{user} may not publish digests; nothing was imported.")
        try:
            data = self._read(path)
            parsed = parse_digest(decode_upload(data), format)
            result = write_digest(
                parsed, by=acting, publish=publish, replace=replace, dry_run=dry_run
            )
        except DigestImportError as exc:
            raise CommandError(f"{path}: {exc.display()}") from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        digest = result.digest
        self.stdout.write(
            f"{parsed.format} layout: “{parsed.title}” {parsed.issue_date}, "
            f"{len(parsed.entries)} papers"
        )
        for line in report_lines(parsed):
            self.stdout.write(line)
        if dry_run:
            would = "rewrite the draft" if result.replaced else "create a digest"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run: everything checks out; nothing written. The import would {would} "
                    f"with {len(result.created_papers)} new papers, "
                    f"{len(result.reused_papers)} already known."
                )
            )
            return
        state = "published" if result.published else "draft"
        verb = "Replaced" if result.replaced else "Created"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {state} digest #{digest.pk} “{digest.title}” ({digest.issue_date}): "
                f"{len(result.created_papers)} new papers, "
                f"{len(result.reused_papers)} already known."
            )
        )

    def _read(self, path: str) -> bytes:
        import sys

        if path == "-":
            return sys.stdin.buffer.read()
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        return file.read_bytes()
