from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadershipConfig(AppConfig):
    name = "readership"
    verbose_name = _("Readership")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from background.tasks import worker_ready
        from readership.tasks import start_writing

        # The worker starts the chain of count writes (no cron): see readership/tasks.py.
        worker_ready.connect(start_writing, dispatch_uid="readership.start_writing")
