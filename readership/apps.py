from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadershipConfig(AppConfig):
    name = "readership"
    verbose_name = _("Readership")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, pre_delete

        from background.tasks import worker_ready
        from papers.models import Digest, Entry
        from readership import rollups
        from readership.tasks import start_writing

        # The worker starts the chain of count writes (no cron): see readership/tasks.py.
        worker_ready.connect(start_writing, dispatch_uid="readership.start_writing")
        # A page deleted takes its daily and monthly rows along: the site's days follow.
        for model in (Digest, Entry):
            uid = f"readership.rollups.{model._meta.model_name}"
            pre_delete.connect(rollups.note_days, sender=model, dispatch_uid=f"{uid}.note")
            post_delete.connect(
                rollups.refresh_noted_days, sender=model, dispatch_uid=f"{uid}.refresh"
            )
