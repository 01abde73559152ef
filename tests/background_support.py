"""Tasks for the worker's tests: each leaves its trace in a file, which a worker in another
process can write and the test read."""

import time
from pathlib import Path

from django_tasks import task

from background.tasks import retrying_task

# A script for `python -c ENQUEUE <task> <arguments...>`: enqueue one of these tasks from
# another process, on the database its environment names.
ENQUEUE = """
import sys
import django
django.setup()
from tests import background_support
getattr(background_support, sys.argv[1]).enqueue(*sys.argv[2:])
"""


def _append(path: str, line: str) -> int:
    with open(path, "a") as handle:
        handle.write(line + "\n")
    return len(Path(path).read_text().splitlines())


@task()
def record(path: str, word: str) -> str:
    _append(path, word)
    return word


@retrying_task(attempts=3, backoff_seconds=0)
def flaky(path: str) -> str:
    """Fails on its first two runs, succeeds on the third."""
    if _append(path, "run") < 3:
        raise ConnectionError("the mail server hung up")
    return "sent"


@retrying_task(attempts=3, backoff_seconds=0)
def always_fails(path: str) -> None:
    _append(path, "run")
    raise ConnectionError("the mail server is gone")


@task()
def hold(path: str) -> str:
    """Says it started, then waits (up to a minute) for ``<path>.release`` to exist."""
    _append(path, "started")
    release = Path(path + ".release")
    for _ in range(600):
        if release.exists():
            break
        time.sleep(0.1)
    _append(path, "finished")
    return "finished"
