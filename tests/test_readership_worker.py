"""The real worker writes the readership counts (issue 20): started with the worker, it writes
the minutes that are over and enqueues its own next run, with no cron."""

import datetime
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from papers.models import Digest
from readership import counting, tasks
from readership.models import DigestDay
from tests import factories


@pytest.fixture
def on_the_worker(transactional_db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.READERSHIP_WORKER_WRITES = True


def test_the_worker_writes_the_counts_and_enqueues_its_next_run(on_the_worker, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 10, 2, 0, 5, tzinfo=datetime.UTC), tick=False)
    digest = factories.digest(entries=1)
    for n in range(3):
        Client().get(
            digest.get_absolute_url(),
            REMOTE_ADDR=f"198.51.100.{n + 1}",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        )
    assert Digest.objects.get(pk=digest.pk).view_count == 0
    time_machine.shift(datetime.timedelta(seconds=counting.BATCH_SECONDS + 15))
    call_command("worker", batch=True, reload=False, verbosity=0)
    assert Digest.objects.get(pk=digest.pk).view_count == 3
    assert DigestDay.objects.get(digest=digest).readers == 3
    rows = DBTaskResult.objects.filter(task_path=tasks.write_readership.module_path)
    assert sorted(rows.values_list("status", flat=True)) == ["READY", "SUCCESSFUL"]
    waiting = rows.get(status="READY")
    delay = waiting.run_after.timestamp() - time.time()
    assert counting.BATCH_SECONDS - 1 <= delay <= counting.BATCH_SECONDS + 1
