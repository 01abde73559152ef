"""Test configuration: the real settings plus speed-ups that change no behaviour under test."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from digestsite.settings import *  # noqa: E402,F403
from digestsite.settings import VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
# Mail lands in mail.outbox; the tests of the real path send to a local SMTP server instead
# (TEST_EMAIL_BACKEND, EMAIL_HOST and EMAIL_PORT in a worker process's environment).
EMAIL_BACKEND = os.environ.get(
    "TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
SITE_URL = "http://testserver.example"  # links in mail are absolute
# Tasks run at once, in the process that enqueues them (mail lands in mail.outbox after the
# commit); the tests of the worker itself set TEST_TASKS_BACKEND to the database backend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TEST_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}
# The worker's tests count every task row it leaves: the readership writes it starts every
# minute, the analytics refreshes and the daily sweep of unconfirmed sign-ups are left out
# there (the tests of readership counting, analytics and sign-ups turn them on).
READERSHIP_WORKER_WRITES = False
ANALYTICS_WORKER_REFRESHES = False
SUBSCRIPTIONS_WORKER_SWEEPS = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (whitenoise warns when it is missing)
# The arXiv tests talk to a local server: no 3-second spacing or long back-off between requests.
ARXIV_MIN_INTERVAL = 0
ARXIV_BACKOFF = 0.01
ARXIV_TIMEOUT = 2
ARXIV_API_URL = "http://127.0.0.1:9/api/query"  # tests point it at their own server
# django-axes needs the request in authenticate(), which Client.login() does not pass; the
# tests that prove lockout and unlock switch it back on (tests/test_production_settings.py).
AXES_ENABLED = False
ANYMAIL["WEBHOOK_SECRET"] = "tracker:test-webhook-secret"  # noqa: F405
