"""``manage.py export_digest DIGEST --format FORMAT [--output PATH]``: one digest for
republishing (editorial/exporting/). See docs/operations.md."""

import os
import sys
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, no_translations

from editorial.exporting import (
    FORMATS,
    WECHAT_MAX_TEXT,
    ExportError,
    export_digest,
    find_digest,
    site_address,
)


class Command(BaseCommand):
    help = (
        "Export one digest: WeChat Official Account HTML, Zhihu Markdown, Markdown in the "
        "site's layout (import_digest reads it back) or JSON in the API's shape. A digest "
        "readers cannot read (a draft, scheduled, expired) needs --user."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "digest",
            help="The digest: its id (42), its issue date (2025-09-30) or date/slug.",
        )
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help="The file to write (a folder: a file named after the digest in it); "
            "- (the default) for standard output.",
        )
        parser.add_argument(
            "--user",
            help="The staff account exporting (required for a digest not on the site; it "
            "must be allowed to change digests).",
        )
        parser.add_argument(
            "--site-url",
            default="",
            help="The site's public address for images and links (default: SITE_URL).",
        )

    @no_translations  # one language in the output: the command's own lines are English
    def handle(self, *args, digest, format, output, user, site_url, **options):
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user, is_active=True).first()
            if acting is None:
                raise CommandError(f"No active user “{user}”.")
        try:
            found = find_digest(digest)
            address = site_address(site_url)
            result = export_digest(digest_id=found.pk, fmt=format, address=address, by=acting)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:
            hint = "" if acting else " Pass --user with a staff account that may change digests."
            raise CommandError(f"{exc}{hint} Nothing was exported.") from None

        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}", self.style.WARNING)
        if output == "-":
            sys.stdout.flush()
            self.stdout.write(result.text, ending="")
            return
        target = self._write(Path(output), result)
        detail = format
        if result.text_length is not None:
            detail += f", {result.text_length:,} of {WECHAT_MAX_TEXT:,} characters of text"
        self.stdout.write(self.style.SUCCESS(f"Wrote {target} ({detail})."))

    def _write(self, path: Path, result) -> Path:
        """Write whole or not at all: a temporary file beside the target, then renamed."""
        if path.is_dir():
            path = path / result.filename
        folder = path.parent
        if not folder.is_dir():
            raise CommandError(f"{path}: the folder {folder} does not exist. Nothing was written.")
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".export-", suffix=".tmp")
        except OSError as exc:
            raise CommandError(
                f"{path}: cannot write there ({exc.strerror}). Nothing was written."
            ) from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(result.text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # as a file opened for writing would be
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise CommandError(
                f"{path}: cannot write there ({exc.strerror}). Nothing was written."
            ) from None
        return path
