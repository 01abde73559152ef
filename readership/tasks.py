"""The worker writes the counts every minute: a task that enqueues its next run (no cron).

The worker starts the chain as it starts (``background.tasks.worker_ready``); each run
enqueues the next one unless one is waiting already, so restarts and several workers never
multiply it.
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.utils import timezone
from django_tasks import task

from background.tasks import enqueue_periodic
from readership import counting, writing


@task()
def write_readership() -> str:
    """Write the closed batches of counts; once a day, prune the old daily rows."""
    try:
        written = writing.write_counts()
        pruned = 0
        today = timezone.localdate()
        if cache.add(f"readership:pruned:{today.isoformat()}", 1, 2 * 24 * 3600):
            pruned = writing.prune(today=today)
    finally:
        start_writing(after=counting.BATCH_SECONDS)
    return f"Wrote {written} view(s); pruned {pruned} old daily row(s)."


def start_writing(sender=None, *, after: float = 0, **kwargs) -> None:
    """Enqueue the next write (unless one is waiting) ``after`` seconds from now."""
    if not counting.conf("WORKER_WRITES", True):
        return
    run_after = timezone.now() + datetime.timedelta(seconds=after)
    enqueue_periodic(write_readership, run_after=run_after)
