import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from comments.demo import load_demo_comments
from editorial.demo import load_demo
from papers.changes import content_changed
from papers.models import SiteSettings

DEMO_FOOTER = "Paper Digest CMS 演示站点 · 每日精选 AI 论文\n联系编辑部:editors@example.com"


class Command(BaseCommand):
    help = (
        "Load the demo digests (safe to run again: existing demo digests are left as they are). "
        "With --admin, also make sure a superuser 'admin' exists and print its login."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000",
            help="Where the site is served, for the admin link printed with --admin.",
        )
        parser.add_argument(
            "--admin",
            action="store_true",
            help="Create or reset the demo superuser 'admin' and print its password.",
        )

    def handle(self, *args, admin=False, site_url="http://127.0.0.1:8000", **options):
        User = get_user_model()
        with transaction.atomic():
            publisher = User.objects.filter(is_superuser=True, is_active=True).first()
            password = None
            if admin or publisher is None:
                publisher, password = self._demo_admin(User)
            created = load_demo(publisher=publisher)
            load_demo_comments(created, by=publisher)
            site = SiteSettings.load()
            if not site.footer_text:
                site.footer_text = DEMO_FOOTER
                site.save()
            content_changed(names=True)
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo content: created "
                    + ", ".join(f"{d.title} ({d.entries.count()} papers)" for d in created)
                )
            )
        else:
            self.stdout.write("Demo content: already loaded, nothing changed.")
        if password:
            self.stdout.write(
                self.style.WARNING(
                    f"Admin login: {site_url.rstrip('/')}/admin/  user: admin  password: {password}"
                )
            )

    def _demo_admin(self, User):
        """The demo superuser; its password is kept in var/ so each run can print it.

        The file's second line is the password hash stored with it: when the user's hash is
        still that one, the password is unchanged and the slow password hasher (0.6 s of
        every ``make run`` on this machine class) need not run to prove it."""
        path = settings.VAR_DIR / "demo-admin-password.txt"
        user = User.objects.filter(username="admin").first()
        lines = path.read_text().splitlines() if path.exists() else []
        stored = lines[0].strip() if lines else ""
        known_hash = lines[1].strip() if len(lines) > 1 else ""
        if user and stored and user.is_superuser:
            if known_hash and user.password == known_hash:
                return user, stored
            if user.check_password(stored):
                self._remember(path, stored, user.password)
                return user, stored
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User(username="admin", email="admin@example.com")
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self._remember(path, password, user.password)
        return user, password

    @staticmethod
    def _remember(path, password, password_hash):
        path.write_text(f"{password}\n{password_hash}\n")
        path.chmod(0o600)
