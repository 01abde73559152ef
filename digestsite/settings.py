"""Settings for Paper Digest CMS, read from the environment.

Safe defaults are for local use only (SQLite under var/, DEBUG off unless asked for).
Production values are never defaults: with DEBUG off the site refuses to start without a
SECRET_KEY, and the security settings below switch on.
"""

import hashlib
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(production), or DEBUG=1 for a throwaway development key."
        )
    # A development key kept under var/, so sessions survive runserver's reloads.
    _dev_key = VAR_DIR / "dev-secret-key"
    if not _dev_key.exists():
        _dev_key.write_text("dev-insecure-" + secrets.token_urlsafe(40))
        _dev_key.chmod(0o600)
    SECRET_KEY = _dev_key.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
# Where readers reach the site: the prefix of every link in mail (and exports). Production
# defaults to https:// and the first of ALLOWED_HOSTS; set SITE_URL when that is not it.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/") or (
    "http://127.0.0.1:8000"
    if DEBUG or not ALLOWED_HOSTS or ALLOWED_HOSTS[0][:1] in (".", "*")
    else f"https://{ALLOWED_HOSTS[0]}"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_filters",
    "taggit",
    "django_tasks",
    "digestsite.apps.BackgroundTasksConfig",  # django_tasks_db, named in Chinese too
    "anymail",
    "pagecache",
    "background",
    "papers",
    "comments",
    "readership",
    "reading",
    "subscriptions",
    "editorial",
    "digestsite.apps.LoginProtectionConfig",  # axes, named in Chinese too
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # ?lang= for one request: the hreflang alternates' addresses (digestsite/middleware.py).
    "digestsite.middleware.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Counts readers of digest and entry pages, those from the page cache too (readership/).
    "readership.middleware.ReadershipMiddleware",
    # Anonymous pages, feeds, sitemap and API from the cache (pagecache/). After
    # csrf/auth/messages (it reads the visitor), below the ETag and gzip middleware.
    "pagecache.middleware.PageCacheMiddleware",
    # Database unreachable -> 503 with Retry-After instead of a 500 (digestsite/middleware.py).
    "digestsite.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "digestsite.urls"
WSGI_APPLICATION = "digestsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "papers.context_processors.site",
                # After Django's csrf processor: the token is a per-visitor hole in cached pages.
                "pagecache.middleware.csrf_holes",
            ],
        },
    },
]

# Database: SQLite under var/ by default; DATABASE_URL (postgres://...) in production.
# PostgreSQL connections are persistent with health checks: opening one costs ~2 ms here
# (shared/PERFORMANCE.md), which halves throughput when paid on every request.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Two session settings, sent as startup options (docs/architecture.md, "Reading"):
    # - random_page_cost 1.1: the database is expected to sit in memory or on SSD; with
    #   PostgreSQL's default of 4 the planner prefers scanning whole tables (detoasting every
    #   search vector) to its GIN indexes;
    # - jit off: the site's queries read a few hundred rows; when one is costed high (a large
    #   estimate, or a plan node the capped count disables) compiling it took 60 ms.
    # Set DATABASE_SESSION_OPTIONS= (empty) to send none, e.g. behind a pooler that refuses
    # startup options, or to other values.
    _options = os.environ.get(
        "DATABASE_SESSION_OPTIONS", "-c random_page_cost=1.1 -c jit=off"
    ).strip()
    if _options:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = _options
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def code_release() -> str:
    """RELEASE from the environment, else a digest of the code, templates, translations and
    static files: part of every cache key, so a deploy never serves the previous release's
    markup."""
    if os.environ.get("RELEASE"):
        return os.environ["RELEASE"]
    digest = hashlib.sha256()
    folders = (
        "digestsite",
        "pagecache",
        "background",
        "papers",
        "comments",
        "readership",
        "reading",
        "subscriptions",
        "editorial",
    )
    for folder in (*folders, "templates", "locale", "static"):
        for path in sorted((BASE_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix not in {".pyc", ".po"}:
                digest.update(path.relative_to(BASE_DIR).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = code_release()

# Caches. A cache is only a cache: a failing Redis is logged and read as a miss (django-redis'
# IGNORE_EXCEPTIONS), so pages answer from the database while it is down or full.
# - With REDIS_URL: one Redis shared by every app server, for pages, fragments and counters.
# - Without: fragments, counters and rate limits in each process's memory, and whole pages
#   in files under VAR_DIR shared by the processes of this server (``pages``).


def redis_caches(url: str, prefix: str, lasting_prefix: str = "") -> dict:
    """The CACHES setting for one Redis at ``url`` shared by every app server. A Redis that
    is down or full reads as a miss (logged); one that hangs costs each cache call the socket
    timeout, kept short because a healthy Redis answers in well under a millisecond. The
    ``views`` alias (readership counters and the day's salt) keeps ``lasting_prefix``: a
    deploy must not make every reader of the day new, nor lose the unwritten counts."""
    options = {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}
    redis = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "OPTIONS": options}
    return {
        "default": {**redis, "KEY_PREFIX": prefix},
        "views": {**redis, "KEY_PREFIX": f"{lasting_prefix or prefix}:views"},
    }


REDIS_URL = os.environ.get("REDIS_URL", "")
_LASTING_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "digest")  # what outlives a release
_KEY_PREFIX = f"{_LASTING_PREFIX}:{RELEASE}"
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = redis_caches(REDIS_URL, _KEY_PREFIX, _LASTING_PREFIX)
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": _KEY_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("LOCAL_CACHE_ENTRIES", "5000"))},
        },
        # diskcache (pagecache/backends.py): SQLite files shared by the worker processes,
        # bounded in bytes. Django's FileBasedCache lists its whole directory on every write
        # (docs/performance.md).
        "pages": {
            "BACKEND": "pagecache.backends.PageStore",
            "LOCATION": str(VAR_DIR / "cache" / "page-store"),
            "KEY_PREFIX": _KEY_PREFIX,
            "SHARDS": 8,
            "DATABASE_TIMEOUT": 0.25,
            "OPTIONS": {
                "size_limit": int(os.environ.get("PAGE_CACHE_MB", "256")) * 2**20,
                # Pages stay inside the SQLite files rather than one file each.
                "disk_min_file_size": 2**20,
            },
        },
        # Readership counters waiting for the worker (readership/counting.py): files shared
        # by the server's processes and the worker, apart from the fragments, whose churn
        # would otherwise evict a counter.
        "views": {
            "BACKEND": "pagecache.backends.PageStore",
            "LOCATION": str(VAR_DIR / "cache" / "readership"),
            "KEY_PREFIX": _LASTING_PREFIX,  # a deploy keeps the day's readers and counts
            "SHARDS": 4,
            "DATABASE_TIMEOUT": 0.25,
            # Every key expires within a day: no eviction bookkeeping on each write.
            "OPTIONS": {"size_limit": 256 * 2**20, "eviction_policy": "none"},
        },
    }
# Papers' blocks and list rows ({% cache %}) are keyed by what they show; this bounds their
# life only.
FRAGMENT_CACHE_SECONDS = int(os.environ.get("FRAGMENT_CACHE_SECONDS", str(24 * 3600)))
# The page cache (pagecache/): anonymous pages until the next change readers can see.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", not DEBUG)
if DEBUG and not env_bool("FRAGMENT_CACHE_IN_DEBUG", False):
    # In development a template edit shows on the next reload: no page is kept (above) and
    # no fragment either (the {% cache %} tag's own alias).
    CACHES["template_fragments"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "3600"))
# Never cached (whatever the visitor): back office, previews, comment posting and reply forms,
# the language switch, the health check, a subscriber's own pages (signed
# links) and the mail providers' webhooks. Static and media are added.
PAGE_CACHE_EXCLUDE = (
    "/admin/",
    "/preview/",
    "/comments/",
    "/i18n/",
    "/healthz",
    "/subscription/",
    "/anymail/",
)
# Only pages whose query parameters are all among these are stored (a URL with made-up
# parameters is rendered for its reader and not kept; so is a list or search that finds
# nothing, or whose filter names nothing: reading/views/lists.py).
PAGE_CACHE_QUERY_PARAMS = frozenset(
    {"q", "page", "sort", "tag", "category", "affiliation", "author", "date_from", "date_to"}
    | {"digest", "lang"}
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The reader's language choice: same-site like the session's (Secure in production, below).
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed files with content-hashed names, served by whitenoise in every mode.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
FIGURE_MAX_BYTES = int(os.environ.get("FIGURE_MAX_BYTES", 5 * 1024 * 1024))
FIGURE_MAX_PIXELS = int(os.environ.get("FIGURE_MAX_PIXELS", 25_000_000))  # width × height

LOGIN_URL = "admin:login"
# Where a login lands when its next= is missing or points off-site (there is no profile page).
LOGIN_REDIRECT_URL = "admin:index"

# Security: production settings switch on whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Set when TLS ends at a proxy that sends X-Forwarded-Proto (and only then).
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "digestsite.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            # One JSON object per line in production (log shippers parse it); plain in DEBUG.
            "formatter": os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own messages reach the root's handler only: its default configuration adds
        # a console handler of its own under DEBUG, and every line appeared twice.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        # axes announces itself at INFO on every start, management commands included.
        "axes.apps": {"level": "WARNING"},
    },
}

# Site behaviour
HOME_PAGE_SIZE = 10

# Importing digests and arXiv metadata (editorial/importing/, editorial/arxiv_client.py)
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 2 * 1024 * 1024))
ARXIV_API_URL = os.environ.get("ARXIV_API_URL", "https://export.arxiv.org/api/query")
ARXIV_USER_AGENT = os.environ.get(
    "ARXIV_USER_AGENT", "PaperDigestCMS/0.1 (AI paper digest editorial back office)"
)
ARXIV_TIMEOUT = float(os.environ.get("ARXIV_TIMEOUT", 20))
ARXIV_MIN_INTERVAL = float(os.environ.get("ARXIV_MIN_INTERVAL", 3))  # arXiv's terms of use
ARXIV_MAX_RETRIES = int(os.environ.get("ARXIV_MAX_RETRIES", 3))
ARXIV_BACKOFF = float(os.environ.get("ARXIV_BACKOFF", 3))
# Reader comments (comments/services.py). Every anti-spam rule is a setting.
COMMENTS_MAX_LENGTH = 5000  # characters in a comment
COMMENTS_MAX_REQUEST_BYTES = 32 * 1024  # a bigger POST to the comment form gets 413
COMMENTS_MIN_FILL_SECONDS = 3  # a form sent sooner after the page was served is a bot's
COMMENTS_FORM_MAX_AGE_SECONDS = 2 * 24 * 3600  # older forms ask the reader to send again
COMMENTS_RATE_LIMITS = [(1, 15), (10, 3600)]  # (comments, seconds), per IP and per email
COMMENTS_FLAG_RATE_LIMITS = [(10, 3600)]  # flags per IP
COMMENTS_MAX_LINKS = 2  # more links than this hold a comment for moderation
COMMENTS_AUTO_APPROVE_AFTER = 0  # approve directly after this many approved comments (0 = off)
COMMENTS_DUPLICATE_WINDOW_SECONDS = 10 * 60
COMMENTS_FLAGS_TO_REQUEUE = 3  # flags that send a published comment back to the queue
# Comments close this many days after publication (0 = never, WordPress's default too).
COMMENTS_CLOSE_AFTER_DAYS = int(os.environ.get("COMMENTS_CLOSE_AFTER_DAYS", "0"))
COMMENTS_NOTIFY_AFTER_MINUTES = 60  # email moderators when a comment waits longer
COMMENTS_NOTIFY_INTERVAL_MINUTES = 60  # and at most this often
COMMENTS_MODERATOR_EMAILS = env_list("COMMENTS_MODERATOR_EMAILS")
COMMENTS_SESSION_REMEMBER = 20  # own comments a reader's session remembers
# Email (moderator notices): the console by default; SMTP through the environment.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))  # seconds; a hung server fails the send
# The one sender of every mail the site sends (review notices, moderation notices, ...).
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Background work (background/): django-tasks with its database backend, run by
# `manage.py worker` (started by `make run` and `make serve`; docs/deployment.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task running longer than this is taken for one whose worker died, and is enqueued again
# when a worker starts (background/recovery.py); the project's tasks work in short batches.
TASKS_ABANDONED_AFTER = int(os.environ.get("TASKS_ABANDONED_AFTER", "600"))
MAIL_ATTEMPTS = 5  # a mail that fails is tried again, 30 s, 1, 2, 4 minutes later
MAIL_RETRY_SECONDS = 30
# Mail providers (django-anymail): EMAIL_BACKEND=anymail.backends.<provider>.EmailBackend and
# the provider's settings as ANYMAIL_<NAME> variables (ANYMAIL_POSTMARK_SERVER_TOKEN=...).
# Their tracking webhooks (/anymail/<provider>/tracking/) are served only with
# ANYMAIL_WEBHOOK_SECRET set ("user:password", the basic auth the provider is given).
# Open and click tracking stay off unless MAIL_TRACK_OPENS / MAIL_TRACK_CLICKS say otherwise.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
ANYMAIL["SEND_DEFAULTS"] = {
    "track_opens": env_bool("MAIL_TRACK_OPENS", False),
    "track_clicks": env_bool("MAIL_TRACK_CLICKS", False),
}
# Subscriptions (subscriptions/): double opt-in, the digest mailed when it goes live.
SUBSCRIPTIONS_CONFIRM_HOURS = 48  # a confirmation link works this long
SUBSCRIPTIONS_REMINDER_HOURS = 24  # one reminder this long after an unconfirmed sign-up
SUBSCRIPTIONS_CONFIRMATION_INTERVAL_SECONDS = 3600  # at most one confirmation per address
SUBSCRIPTIONS_RATE_LIMITS = [(3, 60), (20, 3600)]  # sign-ups per IP: (attempts, seconds)
# Sending: mails per second (0: as fast as the server takes them; providers cap it, e.g.
# 14/s), mails per task (each batch is a task of its own, so none runs long).
SUBSCRIPTIONS_SEND_PER_SECOND = float(os.environ.get("SUBSCRIPTIONS_SEND_PER_SECOND", "10"))
SUBSCRIPTIONS_BATCH_SIZE = int(os.environ.get("SUBSCRIPTIONS_BATCH_SIZE", "200"))
# A digest published with a go-live time older than this (a back-dated old issue) is not
# mailed: subscribers asked for new digests.
SUBSCRIPTIONS_BACKDATED_HOURS = 24
# The worker forgets, once a day, sign-ups never confirmed whose links expired.
SUBSCRIPTIONS_WORKER_SWEEPS = True
# Editorial workflow (editorial/workflow.py, editorial/services.py); email settings are above.
SHARE_LINK_DAYS = int(os.environ.get("SHARE_LINK_DAYS", "7"))  # default life of a share link
# Reviewers' comments through one share link (each mails the authors and editors).
REVIEW_COMMENT_RATE_LIMITS = [(10, 60), (60, 3600)]  # (comments, seconds)
EDIT_PRESENCE_MINUTES = 5  # "also editing" on the digest page: opened within this many minutes
# --- Production hardening (issue 8; see docs/deployment.md) -------------------------------

# Content-Security-Policy (django-csp 4): nothing inline, anywhere. Public templates and the
# Django admin (5.2) load every script and stylesheet from files, so neither needs
# 'unsafe-inline'; figures are served from our own origin (or MEDIA_URL's origin when media
# live in object storage, see CSP_MEDIA_ORIGIN).
from csp.constants import NONE, SELF  # noqa: E402

_media_origin = env_list("CSP_MEDIA_ORIGIN")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *_media_origin],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Error pages stay plain; the load balancer's health check is exempt from the HTTPS redirect
# (probes speak HTTP to the app server directly).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_FAILURE_VIEW = "digestsite.errors.csrf_failure"
CSRF_COOKIE_HTTPONLY = True

# Admin login brute-force protection (django-axes): after AXES_FAILURE_LIMIT failed logins
# the username is locked and, independently, so is the client address; both for
# AXES_COOLOFF_HOURS. Attempts are stored in the database, so every app server shares them.
# Unlock: `manage.py axes_reset_username NAME` / `axes_reset_ip ADDR`, or delete the row under
# Admin > Axes > Access attempts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes_locked_out.html"
AXES_CLIENT_IP_CALLABLE = "digestsite.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "editorial.admin.login.axes_username"  # cut to axes' 255 characters
# How many reverse proxies in front of the app append to X-Forwarded-For (0: none, use the
# socket's address). Only trust the header as far as your own proxies write it.
# (COMMENTS_TRUSTED_PROXY_COUNT, its older name for the comment form, is still read.)
TRUSTED_PROXY_COUNT = int(
    os.environ.get("TRUSTED_PROXY_COUNT", os.environ.get("COMMENTS_TRUSTED_PROXY_COUNT", "0"))
)

# Uploaded media: local disk (one server, SERVE_MEDIA) or S3-compatible object storage for
# several app servers (django-storages; `pip install ".[s3]"`). Figures keep generated names.
if os.environ.get("MEDIA_STORAGE", "local") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "custom_domain": os.environ.get("S3_CUSTOM_DOMAIN") or None,
            "default_acl": None,
            "querystring_auth": env_bool("S3_QUERYSTRING_AUTH", False),
            "file_overwrite": False,
        },
    }
    SERVE_MEDIA = False
# Readership (readership/counting.py): readers are counted once per page a day, with no
# cookie; browsers asking not to be tracked (DNT, Sec-GPC) are left out unless this is 0.
READERSHIP_HONOUR_PRIVACY_SIGNALS = env_bool("READERSHIP_HONOUR_PRIVACY_SIGNALS", True)
# Daily rows (views, readers, referring sites, searches) older than this are pruned.
READERSHIP_RETENTION_DAYS = int(os.environ.get("READERSHIP_RETENTION_DAYS", str(3 * 366)))
# Pages showing 人气 are served from the page cache for at most this long.
READERSHIP_SHOWN_SECONDS = int(os.environ.get("READERSHIP_SHOWN_SECONDS", "60"))
# The analytics page's reports are computed ahead by the worker, this often (seconds), and
# the page reads them (editorial/analytics.py).
ANALYTICS_REFRESH_SECONDS = int(os.environ.get("ANALYTICS_REFRESH_SECONDS", "300"))
ANALYTICS_WORKER_REFRESHES = True
# Related papers (reading/related.py): besides each entry's list, the section kinds (slugs)
# whose sections get lists of their own on the section pages ("similar 不足").
RELATED_SECTION_KINDS = ("innovation", "limitations")
