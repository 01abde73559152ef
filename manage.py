#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import secrets
import sys

# Commands that only read the code (models, migrations, templates) and never sign or serve
# anything: they run without the production SECRET_KEY, on a key of their own process.
CODE_ONLY_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "makemessages"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digestsite.settings")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("SECRET_KEY", "code-only-" + secrets.token_urlsafe(40))
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    if "--settings" not in " ".join(sys.argv):  # Django reads that option itself, later
        from django.conf import settings

        try:
            settings.INSTALLED_APPS  # noqa: B018 (loads the settings module)
        except ImproperlyConfigured as exc:
            # A missing or unsafe setting is the operator's to fix: one line, no traceback.
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
