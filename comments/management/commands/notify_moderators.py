"""Email moderators when comments have waited too long (run it from cron every few
minutes; it sends at most one email per COMMENTS_NOTIFY_INTERVAL_MINUTES)."""

from django.core.management.base import BaseCommand

from comments.services import notify_moderators


class Command(BaseCommand):
    help = (
        "Email moderators when a comment has waited longer than COMMENTS_NOTIFY_AFTER_MINUTES, "
        "at most once per COMMENTS_NOTIFY_INTERVAL_MINUTES. Safe to run as often as you like."
    )

    def handle(self, *args, **options):
        self.stdout.write(notify_moderators())
