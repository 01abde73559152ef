"""The one task runner: django-tasks with its database backend and `manage.py worker`.

The backend is young, so the behaviour the project relies on is tested here, on the real
worker: tasks wait for a worker and survive its restart, a killed worker's task runs again,
a stopped worker finishes its task first, failures are tried again and then recorded."""

import datetime
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from background.tasks import queue_mail
from tests import background_support
from tests.background_support import ENQUEUE
from tests.test_production_backup import ROOT, _child_env, _database_url_for_child

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker_once():
    call_command("worker", batch=True, reload=False, verbosity=0)


def statuses(task) -> list[str]:
    rows = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at")
    return [row.status for row in rows]


@pytest.fixture
def database_backend(transactional_db, settings):
    """The database backend, with the worker in this process. Transactional: the worker
    commits (and on PostgreSQL closes a connection left inside a transaction), as it does
    in production."""
    settings.TASKS = DATABASE_BACKEND


def test_a_rolled_back_change_sends_no_mail(database_backend):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_mail(subject="不该发出", body="回滚了。", to=["editor@example.com"])
        raise RuntimeError("the save failed")
    run_worker_once()
    assert not DBTaskResult.objects.exists() and mail.outbox == []


def test_a_burst_of_content_changes_waits_as_one_refresh_of_the_related_lists(database_backend):
    from papers.changes import content_changed
    from reading.related import refresh_related

    for _ in range(3):  # three saves, each its own transaction
        with transaction.atomic():
            content_changed()
    assert statuses(refresh_related) == ["READY"]
    run_worker_once()
    with transaction.atomic():
        content_changed()  # after the run: a new one waits
    assert statuses(refresh_related) == ["SUCCESSFUL", "READY"]


def test_a_failing_task_is_tried_again_until_it_succeeds(database_backend, tmp_path):
    trace = tmp_path / "trace"
    background_support.flaky.enqueue(str(trace))
    for _ in range(3):
        run_worker_once()
    assert trace.read_text().splitlines() == ["run", "run", "run"]
    assert statuses(background_support.flaky) == ["FAILED", "FAILED", "SUCCESSFUL"]
    last = DBTaskResult.objects.get(status="SUCCESSFUL")
    assert last.args_kwargs["kwargs"] == {"attempt": 3}


def test_a_task_that_keeps_failing_is_recorded_as_failed_after_its_last_attempt(
    database_backend, tmp_path
):
    trace = tmp_path / "trace"
    background_support.always_fails.enqueue(str(trace))
    for _ in range(5):
        run_worker_once()
    assert len(trace.read_text().splitlines()) == 3  # three attempts, then no more
    assert statuses(background_support.always_fails) == ["FAILED", "FAILED", "FAILED"]
    assert not DBTaskResult.objects.ready().exists()
    assert "the mail server is gone" in DBTaskResult.objects.last().traceback


def test_mail_waits_for_the_commit_and_then_for_the_worker(database_backend):
    with transaction.atomic():
        queue_mail(subject="审核提醒", body="有一期等待审核。", to=["editor@example.com"])
        assert not DBTaskResult.objects.exists()  # a rollback now would send nothing
    assert DBTaskResult.objects.count() == 1
    assert mail.outbox == []  # the request does not wait for a mail server
    run_worker_once()
    assert [(m.subject, m.to) for m in mail.outbox] == [("审核提醒", ["editor@example.com"])]


# --- a worker in its own process, as `make run` and `make serve` start it -----------------


REPORT = """
import json
import django
django.setup()
from django_tasks_db.models import DBTaskResult
rows = DBTaskResult.objects.order_by("enqueued_at")
print(json.dumps([[r.task_path.rsplit(".", 1)[1], r.status, r.exception_class_path] for r in rows]))
"""


@pytest.fixture
def child_env(transactional_db, tmp_path):
    env = _child_env(_database_url_for_child(tmp_path), tmp_path)
    env["TEST_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    return env


def python(script, *arguments, env):
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_worker(env, *options):
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.1", *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(path: Path, line: str, worker) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text().splitlines():
            return
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.05)
    raise AssertionError(f"the worker never wrote {line!r}")


def report(env):
    import json

    return json.loads(python(REPORT, env=env).strip().splitlines()[-1])


def test_a_task_queued_while_no_worker_runs_is_run_once_a_worker_starts(child_env, tmp_path):
    trace = tmp_path / "trace"
    python(ENQUEUE, "record", str(trace), "早上好", env=child_env)
    python(ENQUEUE, "record", str(trace), "晚上好", env=child_env)
    assert not trace.exists()
    worker = start_worker(child_env, "--batch")
    assert worker.wait(timeout=120) == 0, worker.stdout.read()
    assert sorted(trace.read_text().splitlines()) == ["早上好", "晚上好"]
    assert [status for _name, status, _error in report(child_env)] == ["SUCCESSFUL"] * 2


def test_a_stopped_worker_finishes_its_task_before_it_exits(child_env, tmp_path):
    trace = tmp_path / "trace"
    python(ENQUEUE, "hold", str(trace), env=child_env)
    worker = start_worker(child_env)
    try:
        wait_for_line(trace, "started", worker)
        worker.send_signal(signal.SIGTERM)  # what systemd, make serve and Ctrl-C send
        time.sleep(0.5)
        Path(str(trace) + ".release").touch()
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert trace.read_text().splitlines() == ["started", "finished"]
    assert report(child_env) == [["hold", "SUCCESSFUL", ""]]


def test_a_task_whose_worker_was_killed_runs_again_when_a_worker_restarts(child_env, tmp_path):
    trace = tmp_path / "trace"
    python(ENQUEUE, "hold", str(trace), env=child_env)
    worker = start_worker(child_env)
    try:
        wait_for_line(trace, "started", worker)
        worker.send_signal(signal.SIGKILL)  # out of memory, a lost machine
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert report(child_env) == [["hold", "RUNNING", ""]]  # what the backend alone leaves

    Path(str(trace) + ".release").touch()
    restarted = start_worker({**child_env, "TASKS_ABANDONED_AFTER": "0"}, "--batch")
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output
    assert "Enqueued again 1 task(s)" in output
    assert trace.read_text().splitlines() == ["started", "started", "finished"]
    assert report(child_env) == [
        ["hold", "FAILED", "background.recovery.AbandonedTask"],
        ["hold", "SUCCESSFUL", ""],
    ]


def test_a_task_running_less_long_than_the_limit_is_left_to_its_worker(child_env, tmp_path):
    trace = tmp_path / "trace"
    python(ENQUEUE, "hold", str(trace), env=child_env)
    first = start_worker(child_env)
    try:
        wait_for_line(trace, "started", first)
        # A second machine's worker starts meanwhile: the task is not taken from the first.
        second = start_worker(child_env, "--batch")
        output = second.communicate(timeout=120)[0]
        assert second.returncode == 0, output
        assert "Enqueued again" not in output
        Path(str(trace) + ".release").touch()
        wait_for_line(trace, "finished", first)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert trace.read_text().splitlines() == ["started", "finished"]
    assert report(child_env) == [["hold", "SUCCESSFUL", ""]]


def test_the_health_check_says_when_tasks_wait_for_a_worker(database_backend, tmp_path):
    from django.test import Client
    from django.utils import timezone

    background_support.record.enqueue(str(tmp_path / "trace"), "稍后")
    assert Client().get("/healthz").json()["worker"] == "ok"  # just queued
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=6))
    health = Client().get("/healthz")
    assert health.status_code == 200  # pages answer without a worker
    assert health.json()["worker"] == "behind"
    run_worker_once()
    assert Client().get("/healthz").json()["worker"] == "ok"
