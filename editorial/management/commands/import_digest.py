import argparse
import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, no_translations

from editorial import services
from editorial.importing import (
    DigestImportError,
    ImportOptions,
    decode_upload,
    parse_digest,
    resolve_label_map,
    write_digest,
)
from editorial.importing.layouts import UNLINKED_CHOICES
from editorial.importing.parse import FORMATS
from papers.models import SectionKind


def _count(n: int, noun: str, plural: str = "") -> str:
    """``1 paper``, ``2 papers``: the command's English lines count in the right number."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _shortened(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report_lines(parsed) -> list[str]:
    """The import report as plain lines (shared by the command and the benchmark): every
    item found, in the order of the text, with what happened to it (imported as paper N,
    from arXiv or by its link; or not imported, with the reason), then warnings."""
    report = parsed.report
    items = []  # (line, order, text): imported papers and left-out headings, in text order
    for entry in parsed.entries:
        if entry.number is None:
            written = " (not numbered)"
        else:
            written = "" if entry.number == entry.position else f" (numbered {entry.number})"
        pairs = (("code", entry.code_url), ("project", entry.project_url))
        links = [f"{name} {url}" for name, url in pairs if url]
        source = entry.arxiv_id or f"source {entry.source_url}"
        items.append(
            (
                entry.line,
                len(items),
                f"  {entry.position}{written}. line {entry.line}: [{entry.tag or '?'}] "
                f"{source} "
                f"{_shortened(entry.title)} — {_count(len(entry.authors), 'author')}, "
                f"{_count(len(entry.affiliations), 'affiliation')}, "
                f"{_count(len(entry.sections), 'section')} "
                f"({', '.join(s.kind.slug for s in entry.sections) or 'none'}), "
                f"{_count(len(entry.figures), 'figure')}"
                + (f", {', '.join(links)}" if links else "")
                + (f", {_count(len(entry.unplaced), 'unplaced line')}" if entry.unplaced else ""),
            )
        )
    for note in report.skipped:
        items.append((note.line, len(items), f"not imported: {note.display()}"))
    items.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
    lines = [text for _line, _order, text in items]
    for note in report.warnings:
        lines.append(f"warning: {note.display()}")
    for name, numbers in report.unknown_sections.items():
        where = ", ".join(str(n) for n in numbers)
        lines.append(
            f"unknown section “{name}” (lines {where}): kept as unplaced text; map it with "
            f"--map-label {name}=KIND, or add it as a section kind (or as an alias of one) and "
            "import again"
        )
    for note in report.ignored:
        lines.append(f"left out (page chrome or text outside the digest): {note.display()}")
    return lines


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}” is not a date (YYYY-MM-DD).") from None


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
        parser.add_argument(
            "--date", type=_date, help="The issue date (YYYY-MM-DD), whatever the text says."
        )
        parser.add_argument("--title", help="The digest's title, whatever the text says.")
        parser.add_argument(
            "--map-label",
            action="append",
            default=[],
            metavar="LABEL=KIND",
            help="Read a section label as a kind (slug, name or alias), e.g. 动机=gist. "
            "Repeatable.",
        )
        parser.add_argument(
            "--unlinked",
            choices=UNLINKED_CHOICES,
            default="entries",
            help="Items without an arXiv link: entries whose source is their link (the "
            "default), skip (each listed in the report), or summary (a line of the digest's "
            "summary each). An item without any link is always skipped and listed.",
        )
        parser.add_argument(
            "--skip-unlinked",
            action="store_const",
            const="skip",
            dest="unlinked",
            help="The same as --unlinked skip.",
        )
        parser.add_argument(
            "--allow-unplaced",
            action="store_true",
            help="Import even when some text could not be placed in a section (it is kept as "
            "the entry's unplaced text). Without it such an import is refused (exit status 1).",
        )

    @no_translations  # one language in the output: the command's own lines are English
    def handle(self, path, format, publish, user, replace, dry_run, **options):
        allow_unplaced = options["allow_unplaced"]
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
            choices = ImportOptions(
                issue_date=options["date"],
                title=options["title"] or "",
                label_map=resolve_label_map(options["map_label"], SectionKind.objects.all()),
                unlinked=options["unlinked"],
            )
            parsed = parse_digest(decode_upload(data), format, choices)
        except DigestImportError as exc:
            raise CommandError(f"{path}: {exc.display()}") from None
        unplaced = parsed.unplaced_count
        if unplaced and not allow_unplaced:
            self._report(parsed)
            raise CommandError(
                f"{path}: {_count(unplaced, 'line')} {'was' if unplaced == 1 else 'were'} left "
                "unplaced (listed above); nothing was "
                "imported. Map unknown labels with --map-label LABEL=KIND, or import with "
                "--allow-unplaced to keep them as each entry's unplaced text."
            )
        try:
            result = write_digest(
                parsed, by=acting, publish=publish, replace=replace, dry_run=dry_run
            )
        except DigestImportError as exc:
            self._report(parsed)
            raise CommandError(f"{path}: {exc.display()}") from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        # The report after the write (a watcher of the output sees nothing before it).
        self._report(parsed)
        digest = result.digest
        warnings = len(parsed.report.warnings) + len(parsed.report.skipped)
        style = self.style.WARNING if warnings else self.style.SUCCESS
        tail = (
            f" {_count(warnings, 'warning and left-out heading', 'warnings and left-out headings')}"
            " above: review them."
            if warnings
            else ""
        )
        if dry_run:
            would = "rewrite the draft" if result.replaced else "create a digest"
            head = "everything checks out" if not warnings else "it can be imported"
            self.stdout.write(
                style(
                    f"Dry run: {head}; nothing written. The import would {would} "
                    f"with {_count(len(result.created_papers), 'new paper')}, "
                    f"{len(result.reused_papers)} already known.{tail}"
                )
            )
            return
        state = "published" if result.published else "draft"
        verb = "Replaced" if result.replaced else "Created"
        self.stdout.write(
            style(
                f"{verb} {state} digest #{digest.pk} “{digest.title}” ({digest.issue_date}): "
                f"{_count(len(result.created_papers), 'new paper')}, "
                f"{len(result.reused_papers)} already known.{tail}"
            )
        )

    def _report(self, parsed) -> None:
        self.stdout.write(
            f"{parsed.format} layout"
            + (" (converted from HTML)" if parsed.converted_from_html else "")
            + f": “{parsed.title}” {parsed.issue_date}, {_count(len(parsed.entries), 'paper')}"
            + (
                f" ({len(parsed.link_entries)} of them known by their link, not on arXiv)"
                if parsed.link_entries
                else ""
            )
            + (
                f", {_count(len(parsed.unlinked), 'item')} without an arXiv link not "
                "imported as papers"
                if parsed.unlinked
                else ""
            )
        )
        for line in report_lines(parsed):
            self.stdout.write(line)

    def _read(self, path: str) -> bytes:
        import sys

        if path == "-":
            return sys.stdin.buffer.read()
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        return file.read_bytes()
