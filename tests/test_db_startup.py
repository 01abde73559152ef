"""`make run`'s one command (manage.py devserver) and the quick path of load_demo's admin
login: what a developer sees must not change while start-up gets faster."""

import os
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from editorial.management.commands import devserver
from papers.models import Digest


@pytest.fixture(autouse=True)
def _var(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path
    for name in ("RUN_MAIN", devserver.READY_FILE_ENV):
        monkeypatch.setenv(name, "")  # remembered as it was, restored after the test
        monkeypatch.delenv(name)


class InlineThread:
    """Runs the preparation in the test's thread (and its database connection)."""

    def __init__(self, target, args=(), daemon=None):
        self.target, self.args = target, args

    def start(self):
        self.target(*self.args)


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(devserver.threading, "Thread", InlineThread)
    monkeypatch.setattr(
        "django.core.management.commands.runserver.run",
        lambda *args, **kwargs: calls.append(args[:2]),
    )
    # runserver closes its connections before serving; the test's must stay open.
    monkeypatch.setattr(
        "django.core.management.commands.runserver.connections",
        type("NoConnections", (), {"all": staticmethod(lambda **kwargs: [])})(),
    )
    return calls


@pytest.mark.django_db
def test_devserver_migrates_loads_the_demo_prints_the_login_then_serves(served, capsys):
    call_command("devserver", "127.0.0.1:8500", "--noreload", stdout=StringIO())
    printed = capsys.readouterr().out
    assert "No migrations to apply" in printed
    assert "Admin login: http://127.0.0.1:8500/admin/  user: admin  password: " in printed
    password = printed.split("password: ")[1].split()[0]
    assert Client().login(username="admin", password=password)
    assert Digest.objects.published().count() == 2
    assert served == [("127.0.0.1", 8500)]
    ready_file = os.environ[devserver.READY_FILE_ENV]
    assert not os.path.exists(ready_file)  # consumed: a restart after a code change checks


@pytest.mark.django_db
def test_devserver_does_not_serve_when_preparing_fails(served, monkeypatch, capsys):
    def broken(name, *args, **kwargs):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(devserver, "call_command", broken)
    with pytest.raises(CommandError, match="Preparing the site failed"):
        call_command("devserver", "127.0.0.1:8500", "--noreload", stdout=StringIO())
    assert "database unreachable" in capsys.readouterr().err
    assert served == []


@pytest.mark.django_db
def test_the_admin_login_is_confirmed_without_rehashing_and_kept_when_changed(
    settings, monkeypatch
):
    def login_line():
        out = StringIO()
        call_command("load_demo", "--admin", stdout=out)
        return out.getvalue().split("password: ")[1].split("\n")[0]

    first = login_line()

    def hasher_must_not_run(*args, **kwargs):
        raise AssertionError("the password hasher ran")

    with monkeypatch.context() as patch:
        patch.setattr(get_user_model(), "check_password", hasher_must_not_run)
        assert login_line() == first
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-someone-else")
    admin.save()
    again = login_line()  # a password set in the admin is the user's: kept, never printed
    assert again.startswith("the one you set") and first not in again
    assert Client().login(username="admin", password="changed-by-someone-else")
