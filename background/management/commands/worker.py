"""The background worker: ``manage.py worker`` (started by ``make run`` and ``make serve``).

django-tasks-db's ``db_worker`` with one step first: tasks a killed worker left running are
enqueued again (background/recovery.py). Run the same command on any number of machines
sharing the database; each claims a task under a row lock, so no task runs twice at once.
"""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from background.recovery import requeue_abandoned
from background.tasks import worker_ready


class Command(DatabaseWorkerCommand):
    help = (
        "Run the background worker (mail, sends, counts): enqueue again the tasks a killed "
        "worker left running, start the periodic tasks (readership), then run tasks as they "
        "come (django-tasks-db's db_worker; same options)."
    )

    def handle(self, *args, **options):
        requeued = requeue_abandoned()
        if requeued and options["verbosity"]:
            self.stdout.write(f"Enqueued again {requeued} task(s) a stopped worker left running.")
        worker_ready.send(sender=self.__class__)
        super().handle(*args, **options)
