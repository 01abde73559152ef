"""Bounces and complaints that came back by mail (the SMTP path; subscriptions/bounces.py).

    manage.py process_bounces < message          # an MTA pipe: one message on stdin
    manage.py process_bounces FILE... [--delete]  # saved messages
    manage.py process_bounces MAILDIR [--delete]  # every message in new/ and cur/

Delivery status notifications (RFC 3464) with a permanent failure, and abuse reports
(RFC 5965, feedback loops), stop every later mail to the address they name.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from subscriptions import bounces


class Command(BaseCommand):
    help = (
        "Read returned mail (bounce reports, spam complaints) from stdin, files or a Maildir "
        "and stop sending to the addresses they name."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="message files or Maildir folders")
        parser.add_argument("--delete", action="store_true", help="remove each file once read")
        parser.add_argument("--dry-run", action="store_true", help="report; change nothing")

    def handle(self, *args, paths, delete, dry_run, **options):
        if not paths:
            self.read("stdin", sys.stdin.buffer.read(), dry_run=dry_run)
            return
        files = []
        for given in paths:
            path = Path(given)
            if path.is_dir():
                folders = [path / "new", path / "cur"]
                if not any(folder.is_dir() for folder in folders):
                    raise CommandError(f"{given}: a folder, but not a Maildir (no new/ or cur/)")
                files += sorted(
                    f for folder in folders if folder.is_dir() for f in folder.iterdir()
                )
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{given}: no such file or folder")
        for path in files:
            self.read(str(path), path.read_bytes(), dry_run=dry_run)
            if delete and not dry_run:
                path.unlink()

    def read(self, name: str, raw: bytes, *, dry_run: bool) -> None:
        done = bounces.process(raw, dry_run=dry_run)
        if not done:
            self.stdout.write(f"{name}: no permanent failure or complaint; nothing to stop.")
        for stop, known in done:
            verb = "would stop" if dry_run else "stopped"
            who = stop.email if known else f"{stop.email} (no subscriber or commenter)"
            self.stdout.write(f"{name}: {verb} {who}: {stop.kind}, {stop.reason}")
