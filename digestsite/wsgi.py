"""WSGI entry point (gunicorn digestsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digestsite.settings")

application = get_wsgi_application()
