from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadingConfig(AppConfig):
    name = "reading"
    verbose_name = _("Reading")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from pagecache import store as pages
        from papers import changes
        from papers.models import Digest
        from reading import (
            related,
            signals,  # noqa: F401 (connects the search rows' receivers)
        )

        # Related papers follow every change of the content, in the background.
        changes.follow_changes(related.schedule_refresh)

        # Scheduled go-lives and expiries change what readers see without any save.
        def next_change():
            moment = Digest.objects.next_visibility_change()
            return None if moment is None else moment.timestamp()

        pages.register(expiry=next_change)
