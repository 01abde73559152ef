import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comments.demo import load_demo_comments
from editorial.demo import load_demo
from papers.changes import content_changed
from papers.models import SiteSettings

DEMO_FOOTER = "Paper Digest CMS 演示站点 · 每日精选 AI 论文\n联系编辑部:editors@example.com"
PASSWORD_CHANGED = "the one you set (it was changed after being printed here, and is kept)"
PASSWORD_NOT_OURS = "the one it was given (not by load_demo; it is kept)"
RESET_HINT = "Forgot it? DEBUG=1 .venv/bin/python manage.py changepassword admin"


@dataclass(frozen=True)
class Login:
    """What to print about the demo admin: its password while the stored one works."""

    password: str = ""
    note: str = ""


class Command(BaseCommand):
    help = (
        "Load the demo digests (safe to run again: existing demo digests are left as they are). "
        "With --admin, also make sure a user 'admin' exists and print its login."
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
            help=(
                "Create the demo superuser 'admin' if missing and print its password while it "
                "is still the one printed before (a changed password is never overwritten)."
            ),
        )

    def handle(self, *args, admin=False, site_url="http://127.0.0.1:8000", **options):
        User = get_user_model()
        with transaction.atomic():
            publisher = User.objects.filter(is_superuser=True, is_active=True).first()
            login = None
            if admin or publisher is None:
                demo_admin, login = self._demo_admin(User)
                if publisher is None or (admin and demo_admin.is_superuser):
                    publisher = demo_admin
            try:
                created = load_demo(publisher=publisher)
            except PermissionDenied:  # only when there is a demo digest to publish
                raise CommandError(
                    "No active superuser to publish the demo as, and the user 'admin' is not "
                    "one (it is left as it is). Make one: DEBUG=1 .venv/bin/python manage.py "
                    "createsuperuser"
                ) from None
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
        if login is not None:
            where = f"Admin login: {site_url.rstrip('/')}/admin/  user: admin  password: "
            self.stdout.write(self.style.WARNING(where + (login.password or login.note)))
            if not login.password:
                self.stdout.write(RESET_HINT)

    def _demo_admin(self, User):
        """The user 'admin' and what to print about its password. Created (a superuser with a
        random password) when missing, and never changed afterwards: a password set in the
        admin or with changepassword is the user's own.

        The password is kept in var/ so each run can print it, with on its second line the
        password hash it was checked against: while the user's hash is still that one, the
        password is unchanged and the slow password hasher (0.6 s of every ``make run`` on
        this machine class) need not run to prove it. A password that no longer works is
        forgotten (first line emptied) and never printed again."""
        path = settings.VAR_DIR / "demo-admin-password.txt"
        user = User.objects.filter(username="admin").first()
        lines = path.read_text().splitlines() if path.exists() else []
        stored = lines[0].strip() if lines else ""
        known_hash = lines[1].strip() if len(lines) > 1 else ""
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User(username="admin", email="admin@example.com")
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
            self._remember(path, password, user.password)
            return user, Login(password)
        if stored and (user.password == known_hash or user.check_password(stored)):
            if user.password != known_hash:
                self._remember(path, stored, user.password)
            return user, Login(stored)
        if stored or known_hash:
            if stored:
                self._remember(path, "", user.password)
            return user, Login(note=PASSWORD_CHANGED)
        return user, Login(note=PASSWORD_NOT_OURS)

    @staticmethod
    def _remember(path, password, password_hash):
        path.write_text(f"{password}\n{password_hash}\n")
        path.chmod(0o600)
