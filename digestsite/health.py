"""``/healthz`` for load balancers: 200 while the database answers (the cache is only a
cache: when it fails the body says "degraded" and the site answers from the database), 503
when the database does not. "worker" says whether background tasks wait too long."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from background.recovery import worker_behind

logger = logging.getLogger(__name__)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        # A dead persistent connection must not poison the next request of this worker.
        connection.close_if_unusable_or_obsolete()
        return False


def _cache() -> bool:
    key, token = "healthz:probe", uuid.uuid4().hex
    try:
        cache.set(key, token, 10)
        return cache.get(key) == token
    except Exception:
        logger.warning(
            "health check: cache unreachable (pages answer from the database)", exc_info=True
        )
        return False


def _worker() -> str:
    try:
        return "behind" if worker_behind() else "ok"
    except Exception:
        return "unknown"


@never_cache
@require_safe
def healthz(request):
    database, cache_ok = _database(), _cache()
    status = "ok" if database and cache_ok else "degraded" if database else "unavailable"
    body = {
        "status": status,
        "database": "ok" if database else "unavailable",
        "cache": "ok" if cache_ok else "degraded",
        # Mail and sends wait while no worker runs (`manage.py worker`); pages do not.
        "worker": _worker() if database else "unknown",
    }
    return JsonResponse(body, status=200 if database else 503)
