"""Names in the admin for two third-party apps whose own names are fixed English text
(``django_tasks_db`` sets a plain string, ``axes`` none at all): the same apps, named in the
site's languages."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class LoginProtectionConfig(AxesAppConfig):
    verbose_name = _("Login protection")


class BackgroundTasksConfig(TasksAppConfig):
    verbose_name = _("Background tasks")
