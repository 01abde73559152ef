"""Admin strings of third-party packages that ship no Simplified Chinese (django-axes,
django-tasks, django-tasks-db) or that Django 5.2's own catalogue misses. Listing them here
puts them in the project's catalogue (``make messages``), and a catalogue under LOCALE_PATHS
is read before any app's: the back office shows them in Chinese like the rest.

Nothing imports this module; it exists to be read by ``makemessages``. When one of these
packages adds a string to the admin, add it here."""

from django.utils.translation import gettext_noop as _
from django.utils.translation import pgettext_lazy

VENDOR_STRINGS = (
    # django.contrib.admin 5.2: headings read by screen readers, the login and user pages.
    _("Model name"),
    _("Add link"),
    _("Change or view list link"),
    _("Error:"),
    _("Forgotten your login credentials?"),
    _("In case you’ve forgotten, you are:"),
    _("After you’ve created a user, you’ll be able to edit more user options."),
    # django-axes: its models, fields and admin.
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access log"),
    _("access logs"),
    _("access attempt expiration"),
    _("access attempt expirations"),
    _("Access Attempt"),
    _("Access lock out"),
    _("Attempt Remaining"),
    _("Attempt Time"),
    _("Clean up expired attempts"),
    _("Expires At"),
    _("Failed Logins"),
    _("Form Data"),
    _("GET Data"),
    _("HTTP Accept"),
    _("IP Address"),
    _("Locked Out"),
    _("Logout Time"),
    _("Meta Data"),
    _("Not set"),
    _("POST Data"),
    _("Path"),
    _("Session key hash (sha256)"),
    _("The time when access attempt expires and is no longer valid."),
    _("User Agent"),
    _("Username"),
    # django-tasks-db: the task results' model and fields; django-tasks: their states.
    _("Task Result"),
    _("Task Results"),
    _("args kwargs"),
    _("backend name"),
    _("enqueued at"),
    _("exception class path"),
    _("finished at"),
    _("priority"),
    _("queue name"),
    _("return value"),
    _("run after"),
    _("started at"),
    _("task path"),
    _("traceback"),
    _("worker id"),
    pgettext_lazy("Task", "Ready"),
    pgettext_lazy("Task", "Running"),
    pgettext_lazy("Task", "Failed"),
    pgettext_lazy("Task", "Successful"),
)
