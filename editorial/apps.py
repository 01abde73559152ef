from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditorialConfig(AppConfig):
    name = "editorial"
    verbose_name = _("Editorial workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from background.tasks import worker_ready
        from editorial.analytics import start_refreshing

        # The worker starts the chain of analytics refreshes (no cron): editorial/analytics.py.
        worker_ready.connect(start_refreshing, dispatch_uid="editorial.start_refreshing")
