"""gunicorn settings for Paper Digest CMS (`make serve`, systemd; see docs/deployment.md).

Every value can be overridden from the environment or the command line. Sync workers: the
pages are CPU-bound, and on this machine class gthread workers piled keep-alive connections
onto one worker (shared/PERFORMANCE.md).
"""

import multiprocessing
import os

wsgi_app = "digestsite.wsgi:application"
# The loopback address: readers reach gunicorn only through nginx (deploy/nginx.conf), which
# holds slow clients; a sync worker facing one directly waits for it as long as it likes.
# GUNICORN_BIND overrides it (say, a private address the proxy reaches across machines); the
# shell's HOST (zsh sets it to the machine's name) does not.
bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 2
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = 5000
max_requests_jitter = 500
# Hostile requests: over-long request lines and headers are refused with 400 before Django.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Only the proxies listed here may set X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Logs go to stdout for the service manager: JSON lines like Django's (LOG_FORMAT=json, the
# production default), or gunicorn's plain lines with LOG_FORMAT=plain. GUNICORN_ACCESS_LOG=""
# turns the per-request access log off (the load test does, to measure the site, not logging).
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = _access or None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
if os.environ.get("LOG_FORMAT", "plain" if os.environ.get("DEBUG") == "1" else "json") == "json":
    logger_class = "digestsite.gunicorn_logging.JsonAccessLogger"
    _stdout = {"handlers": ["stdout"], "propagate": False}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "digestsite.logformat.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {**_stdout, "level": "INFO"},
            "gunicorn.access": {**_stdout, "level": "INFO" if _access else "CRITICAL"},
        },
    }
proc_name = "paper-digest"
# gunicorn >= 25 opens a control socket at one fixed path per user by default; several
# instances on one machine (make faultcheck, or two sites) would fight over it. Signals
# (HUP to reload, TERM to stop) are all systemd needs.
control_socket_disable = True
