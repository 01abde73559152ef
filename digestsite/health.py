"""``/healthz`` for load balancers: 200 when the database and the cache answer, else 503."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

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
        logger.warning("health check: cache unreachable", exc_info=True)
        return False


@never_cache
@require_safe
def healthz(request):
    checks = {"database": _database(), "cache": _cache()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)
