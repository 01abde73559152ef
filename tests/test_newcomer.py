"""A newcomer's first hour (issue 22, item 12): `make run` never overwrites a password set
in the admin, and says so instead of printing a stale one; the demo is dated away from the
real 9.30 issue, so pasting it is not refused; the reloader's notice no longer sits in the
middle of the migration list; and every command in the README runs as written."""

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from editorial.demo_data import DIGESTS
from papers.models import Digest
from tests import factories
from tests.background_support import ENQUEUE

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from stack import Http, free_port  # noqa: E402

SEED = ROOT.parent / "shared" / "seed" / "digest-2025-09-30.txt"
MINE = "Newcomer-own-Pw-2026"


@pytest.fixture
def var(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path
    return tmp_path


def _load_demo() -> str:
    out = StringIO()
    call_command("load_demo", "--admin", stdout=out)
    return out.getvalue()


def _printed_password(output: str) -> str | None:
    match = re.search(r"user: admin  password: (\S+)$", output, re.M)
    return match.group(1) if match else None


# --- the admin's password ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_changed_in_the_admin_is_kept_and_never_printed_again(var):
    first = _printed_password(_load_demo())
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(first)
    admin.set_password(MINE)  # what the admin's "Change password" form does
    admin.save()

    for _ in range(2):  # the second run needs no password hashing to know it
        output = _load_demo()
        assert first not in output
        assert "password: the one you set (it was changed after being printed here" in output
        assert "changepassword admin" in output
        admin.refresh_from_db()
        assert admin.check_password(MINE)
    assert first not in (var / "demo-admin-password.txt").read_text()


@pytest.mark.django_db
def test_an_admin_made_elsewhere_keeps_its_password_and_the_demo_still_loads(var):
    get_user_model().objects.create_superuser("admin", "a@example.com", MINE)
    output = _load_demo()
    assert "password: the one it was given (not by load_demo; it is kept)" in output
    assert get_user_model().objects.get(username="admin").check_password(MINE)
    assert Digest.objects.published().count() == 2


@pytest.mark.django_db
def test_an_admin_that_is_no_superuser_is_left_as_it_is(var):
    get_user_model().objects.create_user("admin", "a@example.com", MINE, is_staff=True)
    with pytest.raises(CommandError, match="No active superuser to publish the demo as"):
        _load_demo()
    admin = get_user_model().objects.get(username="admin")
    assert not admin.is_superuser and admin.check_password(MINE)


@pytest.mark.django_db
def test_the_printed_password_is_printed_again_while_it_works(var):
    first = _printed_password(_load_demo())
    assert first and _printed_password(_load_demo()) == first


# --- the demo's dates --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.skipif(not SEED.is_file(), reason=f"the shared seed page {SEED} is absent")
def test_pasting_the_sites_own_930_page_beside_the_demo_is_not_refused(var):
    _load_demo()
    out = StringIO()
    call_command("import_digest", str(SEED), stdout=out)
    imported = Digest.objects.get(issue_date="2025-09-30")
    assert imported.status == Digest.Status.DRAFT
    assert Digest.objects.count() == 3


def test_no_demo_issue_is_dated_on_the_real_issue():
    assert "2025-09-30" not in {digest["issue_date"] for digest in DIGESTS}


@pytest.mark.django_db
def test_a_database_holding_the_earlier_demo_gets_no_second_copy(var):
    for data in DIGESTS:
        former = data["former"]
        factories.digest(
            issue_date=former["issue_date"],
            slug=f"ai-frontier-{former['issue_date']}",
            title=former["title"],
        )
    assert "already loaded, nothing changed" in _load_demo()
    assert Digest.objects.count() == 2


# --- make run, end to end ----------------------------------------------------------------------


def _dev_env(tmp_path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    env["PYTHONUNBUFFERED"] = "1"  # a terminal would show each line as it is written
    return env


class DevServer:
    """`manage.py devserver` as `make run` starts it (with the autoreloader)."""

    def __init__(self, tmp_path, port: int):
        self.port, self.log = port, tmp_path / f"devserver-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "devserver", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=_dev_env(tmp_path),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_serving(self) -> str:
        deadline = time.monotonic() + 180
        while "Quit the server with" not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)
        return self.output()

    def client(self) -> Http:
        return Http(self.port, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the reloader and its child
            self.process.wait(timeout=30)


def _retrying(call):
    """The reloader restarts the server when a file of the checkout changes: try again."""
    for attempt in range(20):
        try:
            return call()
        except OSError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def test_make_run_keeps_a_password_set_in_the_admin_and_prints_no_notice_mid_migrations(
    tmp_path,
):
    server = DevServer(tmp_path, free_port())
    try:
        first = server.wait_until_serving()
    finally:
        server.stop()
    migrations = first[first.index("Running migrations:") : first.rindex("... OK")]
    assert "Watching for file changes" not in migrations
    assert "Applying papers.0001_initial... OK" in migrations
    assert first.index("Admin login:") < first.index("Watching for file changes")
    password = _printed_password(first)
    assert password

    server = DevServer(tmp_path, free_port())
    try:
        server.wait_until_serving()
        editor = server.client()
        assert _retrying(lambda: editor.login("admin", password)).status == 302
        form = {"old_password": password, "new_password1": MINE, "new_password2": MINE}
        changed = _retrying(lambda: editor.post("/admin/password_change/", form))
        assert changed.status == 302, changed.body[:500]
    finally:
        server.stop()

    server = DevServer(tmp_path, free_port())
    try:
        again = server.wait_until_serving()
        assert password not in again
        assert "password: the one you set" in again
        assert _retrying(lambda: server.client().login("admin", MINE)).status == 302
    finally:
        server.stop()


def test_make_run_starts_the_background_worker_beside_the_server(tmp_path):
    server = DevServer(tmp_path, free_port())
    trace = tmp_path / "trace"
    try:
        server.wait_until_serving()
        enqueue = subprocess.run(
            [sys.executable, "-c", ENQUEUE, "record", str(trace), "工作中"],
            cwd=ROOT,
            env={**_dev_env(tmp_path), "DJANGO_SETTINGS_MODULE": "digestsite.settings"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert enqueue.returncode == 0, enqueue.stderr
        deadline = time.monotonic() + 60
        while not trace.exists():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
    finally:
        server.stop()
    assert trace.read_text() == "工作中\n"
    assert "Starting worker" in server.output()


# --- the README's commands ---------------------------------------------------------------------

README = (ROOT / "README.md").read_text()
STARTS = ("make ", "DEBUG=", ".venv/", "python", "SECRET_KEY=", "DATABASE_URL=")


def readme_commands() -> list[str]:
    """Shell lines of the README's ```sh blocks and inline code that starts like a command."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    commands = [
        line.split(" #")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.split(" #")[0].strip()
    ]
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    for span in re.findall(r"`([^`]+)`", prose):
        span = " ".join(span.split())
        if span.startswith(STARTS) and (" " in span):
            commands.append(span)
    return list(dict.fromkeys(commands))


def _shell(command: str, tmp_path) -> subprocess.CompletedProcess:
    """``command`` in a new shell, as a newcomer types it: no virtualenv on PATH, none of the
    test run's settings (DATABASE_URL, DJANGO_SETTINGS_MODULE...)."""
    env = _dev_env(tmp_path)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    del env["DEBUG"], env["DATABASE_URL"]
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_readme_has_commands_and_says_how_to_change_the_port():
    commands = readme_commands()
    assert len([c for c in commands if "manage.py" in c]) >= 8
    assert "make run PORT=8080" in commands


def test_every_manage_py_command_in_the_readme_runs_as_written(tmp_path):
    names = {}
    for command in readme_commands():
        match = re.match(r"(.*?manage\.py\s+[\w-]+)", command)
        if match:
            names.setdefault(match.group(1), command)
    assert names
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = pool.map(lambda c: _shell(f"{c} --help", tmp_path), names)
        runs = dict(zip(names, answers, strict=True))
    failed = {
        names[c]: (run.stderr or run.stdout)[-300:]
        for c, run in runs.items()
        if run.returncode or not re.search(r"usage:|Available subcommands", run.stdout)
    }
    assert not failed, failed


def test_every_make_command_in_the_readme_names_a_target_that_exists(tmp_path):
    commands = [c for c in readme_commands() if re.search(r"(^|\s)make\s", c)]
    assert len(commands) >= 8
    dry = [re.sub(r"(^|\s)make\s", r"\1make -n ", c, count=1) for c in commands]
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda c: _shell(c, tmp_path), dry))
    for command, run in zip(commands, runs, strict=True):
        assert run.returncode == 0, (command, run.stderr[-500:])
        if "PORT=8080" in command:
            assert "127.0.0.1:8080" in run.stdout
