"""Settings of the benchmark (`make bench`, `manage.py bench`, the gunicorn it starts):
the production settings (DEBUG off unless asked) plus the two reference views of
digestsite/bench_urls.py. The public site never loads this module.

Without DATABASE_URL the database is var/bench/bench.sqlite3; `manage.py bench` itself
keeps one SQLite file per data size under var/bench/ (docs/performance.md).
"""

import os
import secrets

os.environ.setdefault("DEBUG", "0")
# A key for this process only: `manage.py bench` hands its own to the gunicorn it starts, so
# the admin session it creates is valid there too.
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from digestsite.settings import *  # noqa: E402,F403
from digestsite.settings import DATABASES, PAGE_CACHE_EXCLUDE, VAR_DIR  # noqa: E402

ROOT_URLCONF = "digestsite.bench_urls"
# The references measure Django itself: the page cache must not answer for them.
PAGE_CACHE_EXCLUDE = (*PAGE_CACHE_EXCLUDE, "/__bench__/")

if not os.environ.get("DATABASE_URL"):
    (VAR_DIR / "bench").mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["NAME"] = str(VAR_DIR / "bench" / "bench.sqlite3")

# The benchmark logs in its superuser once per data size; axes' INFO lines about it are noise.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # noqa: F405
