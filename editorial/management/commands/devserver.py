"""`make run` in one command: migrate, load the demo if it is missing, print the admin
login, then Django's autoreloading development server.

Every ``manage.py`` process pays Python's and Django's start-up (about a second on this
machine class) and ``make run`` used to start four of them in a row. Here the first process
(the autoreloader's supervisor, which starts anyway) migrates and loads the demo in a
thread while the serving child process starts; the child waits for that preparation before
it answers a request, then skips the system checks and the migration check that the
preparation has just done (``migrate`` runs every system check). Later restarts of the
child after a code change check as runserver always does.

The autoreloader announces "Watching for file changes" as the child starts, which is while
the first process is still listing migrations: in the middle of that list it read like an
error. The first start holds that line back and prints it once the site is ready, after the
admin login. Its messages go to Django's own console handler only, not also to the
project's timestamped root handler (each line used to appear twice).
"""

import atexit
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from django.conf import settings
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.db import connections
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

# The runserver in use (whitenoise's, which leaves static files to its middleware).
RunserverCommand = type(load_command_class(get_commands()["runserver"], "runserver"))

# Names a file through which the preparing thread tells the server how it went.
READY_FILE_ENV = "PAPERS_DEVSERVER_READY_FILE"
READY, FAILED = "ready", "failed"

reloader_log = logging.getLogger("django.utils.autoreload")


class HoldWatcherNotice(logging.Filter):
    """Keeps back the reloader's "Watching for file changes" line (see the module's text)."""

    def __init__(self):
        super().__init__()
        self.held: list[str] = []

    def filter(self, record):
        if record.getMessage().startswith("Watching for file changes"):
            self.held.append(record.getMessage())
            return False
        return True


class Command(RunserverCommand):
    help = (
        "Apply migrations, load the demo content when it is missing, print the demo admin "
        "login, then run the development server (same arguments as runserver)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--site-url",
            default="",
            help="Where the site is served, for the printed admin link (default: the address).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_false",
            dest="worker",
            help="Do not start the background worker beside the server.",
        )

    def handle(self, *args, **options):
        if options.get("use_reloader"):
            reloader_log.propagate = False  # this process serves and watches; it ends with both
        self.watcher_notice = None
        if os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # The first process: prepare once, alongside the server's start.
            fd, ready_file = tempfile.mkstemp(prefix="devserver-")
            os.close(fd)
            os.environ[READY_FILE_ENV] = ready_file
            threading.Thread(target=self._prepare, args=(ready_file, options), daemon=True).start()
        elif os.path.exists(os.environ.get(READY_FILE_ENV, "")):
            # The serving child's first start: its reloader speaks before the site is ready.
            self.watcher_notice = HoldWatcherNotice()
            reloader_log.addFilter(self.watcher_notice)
        super().handle(*args, **options)

    def _prepare(self, ready_file, options):
        outcome = FAILED
        try:
            verbosity = options["verbosity"]
            call_command("migrate", interactive=False, verbosity=verbosity)
            site_url = options["site_url"] or self._site_url(options.get("addrport"))
            call_command("load_demo", admin=True, site_url=site_url, verbosity=verbosity)
            if options["worker"]:
                self._start_worker()
            outcome = READY
        except BaseException:
            traceback.print_exc()
        finally:
            if threading.current_thread() is not threading.main_thread():
                # This thread's connections would stay open for the whole session.
                for connection in connections.all(initialized_only=True):
                    connection.close()
            sys.stdout.flush()
            written = f"{ready_file}.part"
            with open(written, "w") as handle:
                handle.write(outcome)
            os.replace(written, ready_file)  # the server never reads half a word

    def inner_run(self, *args, **options):
        ready_file = os.environ.get(READY_FILE_ENV)
        if ready_file and os.path.exists(ready_file):
            # The first start: wait for the preparation; the next restarts find no file.
            # Meanwhile import what the first request needs (URLs, views, the home page).
            get_resolver().url_patterns  # noqa: B018 (imports every view module)
            get_template("papers/digest_list.html")
            outcome = self._wait_for(ready_file)
            os.remove(ready_file)
            if outcome != READY:
                raise CommandError("Preparing the site failed (see above); not serving.")
            notice = getattr(self, "watcher_notice", None)
            if notice is not None:
                reloader_log.removeFilter(notice)
                for line in notice.held:
                    self.stdout.write(f"{line}: the server restarts when a Python file changes.")
            options = {**options, "skip_checks": True}
            self.check_migrations = lambda: None  # migrate has just applied everything
        super().inner_run(*args, **options)

    @staticmethod
    def _start_worker() -> None:
        """The worker, in this terminal's process group: Ctrl-C stops it with the server (it
        finishes its task first); it reloads on code changes as the server does."""
        worker = subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "worker"])
        atexit.register(lambda: worker.poll() is None and worker.terminate())

    @staticmethod
    def _wait_for(ready_file) -> str:
        while True:
            with open(ready_file) as handle:
                outcome = handle.read().strip()
            if outcome:
                return outcome
            time.sleep(0.02)

    @staticmethod
    def _site_url(addrport) -> str:
        if not addrport:
            return "http://127.0.0.1:8000"
        return f"http://{addrport}" if ":" in addrport else f"http://127.0.0.1:{addrport}"
