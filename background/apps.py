from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackgroundConfig(AppConfig):
    """The project's one task runner: conventions on top of django-tasks (docs/architecture.md,
    "Background work"). Knows no project model, like the page cache."""

    name = "background"
    verbose_name = _("Background work")
