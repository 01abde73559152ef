"""`make bench`'s mail figure: the time to queue and send one digest to 10,000 confirmed
subscribers through a local SMTP server (aiosmtpd, a development dependency), on the
benchmark's database, through the real path: the send task enqueued on the database
backend and run by the worker command, batch after batch, each mail claimed before it
leaves. The subscribers, deliveries and task rows it made are removed afterwards."""

from __future__ import annotations

import logging
import socket
import threading
import time

from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from papers.models import Digest
from subscriptions import services
from subscriptions.models import Mailing, Subscriber

DOMAIN = "bench.invalid"


class _Counter:
    def __init__(self):
        self.count = 0
        self.bytes = 0
        self.recipients: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += len(envelope.rcpt_tos)
            self.bytes += len(envelope.content)
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _clean(digest: Digest | None) -> None:
    Subscriber.objects.filter(email__endswith="@" + DOMAIN).delete()
    if digest is not None:
        Mailing.objects.filter(digest=digest).delete()
    DBTaskResult.objects.filter(task_path__startswith="subscriptions.").delete()
    # The worker runs every queued task: one left by the data generator (the related lists'
    # recomputation, minutes at 100,000 papers) would be timed as sending. Benchmark data only.
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).delete()


def time_digest_send(*, subscribers: int = 10_000, batch_size: int = 500) -> dict:
    """Queue and send the latest listed digest to ``subscribers`` new confirmed
    subscribers; returns the figures (seconds, mails per second, sizes)."""
    digest = Digest.objects.listed().order_by("-issue_date", "-id").first()
    if digest is None:
        return {"skipped": "no published digest in the benchmark database"}
    _clean(digest)
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=f"reader{n}@{DOMAIN}",
                key=f"bench{n:027d}",
                status=Subscriber.Status.CONFIRMED,
                confirmed_at=digest.published_at,
            )
            for n in range(subscribers)
        ],
        batch_size=1000,
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    counter = _Counter()
    port = _free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            SUBSCRIPTIONS_SEND_PER_SECOND=0,
            SUBSCRIPTIONS_BATCH_SIZE=batch_size,
        ):
            started = time.perf_counter()
            services.send_digest.enqueue(digest.pk, digest.published_at.isoformat())
            call_command("worker", batch=True, reload=False, verbosity=0)
            seconds = time.perf_counter() - started
        mailing = Mailing.objects.get(digest=digest, go_live=digest.published_at)
        report = services.mailing_report([mailing])[mailing.pk]
        return {
            "subscribers": subscribers,
            "batch_size": batch_size,
            "seconds": round(seconds, 1),
            "mails_per_second": round(counter.count / seconds, 1) if seconds else None,
            "received": counter.count,
            "distinct_recipients": len(counter.recipients),
            "sent": report["sent"],
            "failed": report["failed"],
            "kilobytes_per_mail": round(counter.bytes / max(counter.count, 1) / 1024, 1),
            "database": connection.vendor,
        }
    finally:
        controller.stop()
        _clean(digest)
