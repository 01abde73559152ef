"""Tasks that are tried again, and mail that leaves through the worker.

Every background job of the project is a django-tasks task (the API Django 6.0 ships as
``django.tasks``, so moving to 6.0 changes imports only). django-tasks-db, the embedded
backend, runs each enqueued task once: a task that raises is recorded as failed and never
tried again. Mail servers and web hooks fail for a minute now and then, so the project's
tasks are made with ``retrying_task``: a failed attempt is recorded as failed (its traceback
kept in the task's row) and a fresh attempt is enqueued, later each time, until the last
one, whose failure stands.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# Sent by ``manage.py worker`` as it starts, before it runs tasks: apps start their periodic
# tasks here (``enqueue_periodic``), with no cron.
worker_ready = Signal()


def retrying_task(*, attempts: int = 5, backoff_seconds: float = 30, **task_options):
    """``@task(...)`` whose failures are tried again: attempt n+1 runs
    ``backoff_seconds * 2**(n-1)`` after attempt n failed, up to ``attempts`` in all.

    The task's arguments must be JSON, as for any task; the attempt number travels as the
    keyword ``attempt`` and is not passed to the function. A task must be safe to run again
    (each of the project's checks what it already did).
    """

    def decorate(func: Callable):
        @functools.wraps(func)
        def run(*args, attempt: int = 1, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt >= attempts:
                    logger.error("task %s failed for good after %d attempts", name, attempt)
                    raise
                delay = datetime.timedelta(seconds=backoff_seconds * 2 ** (attempt - 1))
                retry = the_task
                if the_task.get_backend().supports_defer:
                    retry = the_task.using(run_after=timezone.now() + delay)
                logger.warning(
                    "task %s failed (attempt %d of %d); trying again in %s",
                    name,
                    attempt,
                    attempts,
                    delay,
                    exc_info=True,
                )
                retry.enqueue(*args, attempt=attempt + 1, **kwargs)
                raise

        name = f"{func.__module__}.{func.__qualname__}"
        the_task = task(**task_options)(run)
        return the_task

    return decorate


@retrying_task(attempts=settings.MAIL_ATTEMPTS, backoff_seconds=settings.MAIL_RETRY_SECONDS)
def send_mail_task(
    *,
    subject: str,
    body: str,
    to: list[str],
    html: str = "",
    headers: dict[str, str] | None = None,
) -> int:
    """Send one message from ``DEFAULT_FROM_EMAIL``, the one sender address of the site."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()


def enqueue_on_commit(task, *args, run_after: datetime.datetime | None = None, **kwargs) -> None:
    """Enqueue ``task`` once the current transaction commits (at once outside one), to run
    at ``run_after`` or as soon as a worker is free. A backend that cannot wait (the tests'
    immediate backend) runs it at once."""

    def enqueue():
        chosen = task
        if run_after is not None and task.get_backend().supports_defer:
            chosen = task.using(run_after=run_after)
        chosen.enqueue(*args, **kwargs)

    transaction.on_commit(enqueue)


def enqueue_once_on_commit(task) -> None:
    """Enqueue ``task`` (no arguments) once the current transaction commits, unless a run of
    it is waiting already: that run starts after this commit, so it sees this change too (a
    burst of changes makes one run, not one each). A run already started does not count."""

    def enqueue():
        if task.get_backend().supports_defer and _waiting(task).exists():
            return
        task.enqueue()

    transaction.on_commit(enqueue)


def _waiting(task):
    """The runs of ``task`` not started yet (due now or later)."""
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task.module_path)


def enqueue_unless_due(task) -> bool:
    """Enqueue a run of ``task`` (no arguments) now, unless one is due already: asking twice
    before a worker is free makes one run. A run waiting for a later time does not count."""
    if task.get_backend().supports_defer and _waiting(task).ready().exists():
        return False
    task.enqueue()
    return True


def enqueue_periodic(task, *, run_after: datetime.datetime) -> bool:
    """Enqueue the next run of a task that enqueues itself again, unless a run of it is
    waiting already (several workers, or a restart, never multiply the chain). Only with a
    backend that can wait: the tests' immediate backend would run the chain for ever."""
    if not task.get_backend().supports_defer or _waiting(task).exists():
        return False
    task.using(run_after=run_after).enqueue()
    return True


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers of a mail a reader can stop with one click (RFC 2369 and RFC 8058): mail
    programs show an "unsubscribe" button that POSTs ``List-Unsubscribe=One-Click`` to
    ``url``, which must then stop the mail without a login or any other step."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def queue_mail(
    *,
    subject: str,
    body: str,
    to: list[str],
    html: str = "",
    headers: dict[str, str] | None = None,
) -> None:
    """Send mail through the worker once the current transaction commits: a rolled-back
    change announces nothing, and no reader's or editor's request waits for a mail server."""
    if to:
        enqueue_on_commit(
            send_mail_task,
            subject=str(subject),
            body=str(body),
            to=list(to),
            html=html,
            headers=headers,
        )
