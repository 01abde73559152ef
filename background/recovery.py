"""Tasks a dead worker left behind.

django-tasks-db marks a task RUNNING when a worker claims it and finished when it ends. A
worker stopped with SIGTERM or Ctrl-C finishes its task first; one that is killed (SIGKILL,
out of memory, a machine lost) leaves the row RUNNING for ever, and nothing would run it
again. ``requeue_abandoned`` enqueues a fresh copy of every task RUNNING for longer than
``TASKS_ABANDONED_AFTER`` seconds (no task of the project runs that long: long jobs work in
batches) and records the old row as failed, saying why. The ``worker`` command calls it as
it starts, so restarting a worker after a crash finishes what the crash interrupted.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class AbandonedTask(Exception):
    """Recorded on a task whose worker stopped while running it."""


def requeue_abandoned(*, older_than: datetime.timedelta | None = None) -> int:
    """Enqueue again every task that has been running longer than ``older_than`` (default:
    the ``TASKS_ABANDONED_AFTER`` setting); return how many."""
    if older_than is None:
        older_than = datetime.timedelta(seconds=settings.TASKS_ABANDONED_AFTER)
    cutoff = timezone.now() - older_than
    requeued = 0
    stale = DBTaskResult.objects.running().filter(started_at__lt=cutoff).values_list("pk")
    for (pk,) in stale:
        with transaction.atomic():
            row = DBTaskResult.objects.select_for_update().filter(pk=pk).first()
            if row is None or row.status != "RUNNING":
                continue  # another worker, starting at the same time, took it
            try:
                task = row.task
            except ImportError:
                row.set_failed(AbandonedTask(f"{row.task_path} no longer exists"))
                continue
            fresh = task.using(priority=row.priority, queue_name=row.queue_name)
            result = fresh.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            started = row.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            row.set_failed(
                AbandonedTask(
                    f"its worker stopped while running it (started {started}); "
                    f"enqueued again as {result.id}"
                )
            )
            requeued += 1
            logger.warning("requeued abandoned task %s (%s) as %s", pk, row.task_path, result.id)
    return requeued


def worker_behind(*, after: datetime.timedelta = datetime.timedelta(minutes=5)) -> bool:
    """Whether a task has been due for ``after`` or longer and still waits: no worker runs,
    or too few. (Among ready tasks, a ``run_after`` in the future means "none given".)"""
    now = timezone.now()
    cutoff = now - after
    due_long_ago = Q(run_after__lt=cutoff) | Q(run_after__gt=now, enqueued_at__lt=cutoff)
    return DBTaskResult.objects.ready().filter(due_long_ago).exists()
