"""The admin login under django-axes (settings: ``AXES_USERNAME_CALLABLE``)."""

from axes.conf import settings
from axes.models import AccessAttempt, AccessFailureLog, AccessLog

# The username columns of axes' records (255 characters each in django-axes 8).
USERNAME_MAX_LENGTH = min(
    model._meta.get_field("username").max_length
    for model in (AccessAttempt, AccessFailureLog, AccessLog)
)


def axes_username(request, credentials=None):
    """The username django-axes records for a login attempt: the one typed (axes' own
    rule), cut to fit its columns. Uncut, a longer one made PostgreSQL refuse the failure
    record, so the login page answered 500 and logged a traceback, as often as anyone
    asked; cut, it is one more failed login, counted towards the lockout of the address and
    of the name. No account has such a name: Django's usernames hold 150 characters."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username
