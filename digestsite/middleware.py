"""Answer 503 Service Unavailable (with Retry-After), not 500, while the database is
unreachable: the outage is temporary, load balancers and crawlers treat 503 as "come back",
and the error log is not flooded with tracebacks of one known cause."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from pagecache import store

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable: %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


class QueryLanguageMiddleware:
    """``?lang=en`` or ``?lang=zh-hans`` shows a page in that interface language for this
    request only: the addresses the pages' ``hreflang`` alternates name, so that a search
    engine can reach both languages. Nothing is remembered (no cookie), so the answer stays
    cacheable; the page cache keys by the language it sets. After LocaleMiddleware, which
    chose from the cookie and Accept-Language; an unknown code changes nothing and
    its page is not kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        codes = request.GET.getlist("lang")
        if len(codes) == 1 and codes[0] in dict(settings.LANGUAGES):
            translation.activate(codes[0])
            request.LANGUAGE_CODE = codes[0]
        elif codes:
            store.dont_store(request)  # no cached copy per made-up value
        return self.get_response(request)
