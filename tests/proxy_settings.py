"""The production settings for the gunicorn that tests/test_production_proxy.py starts behind
nginx, except for static files: their URLs are not looked up in collectstatic's manifest, so
the test need not run collectstatic (about 15 s) to render a page."""

from digestsite.settings import *  # noqa: F403
from digestsite.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
