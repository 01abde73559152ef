"""Whole anonymous pages from the store (``pagecache.store``), with per-visitor holes.

A stored page is served while the generation it was rendered under is current (any change a
reader could see starts a new one: ``store.invalidate``), for at most PAGE_CACHE_SECONDS and
never past the next moment its content changes by the clock. Only canonical pages are kept:
200 answers to URLs whose query parameters are all in PAGE_CACHE_QUERY_PARAMS, that set no
cookie and say nothing private. While a storable page renders, per-visitor values (the CSRF
token, the comment form's stamp) render as placeholders that every response fills in.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from pagecache import store as pages

_UNCACHEABLE = ("private", "no-store", "no-cache")
_COVERED_VARY = {"accept-language", "cookie", "accept-encoding"}
_MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage
_SESSION_MESSAGES = "_messages"  # its SessionStorage
_DROPPED_HEADERS = {"content-length", "etag", "last-modified", "cache-control", "set-cookie"}


def conf(name: str, default):
    return getattr(settings, f"PAGE_CACHE_{name}", default)


def csrf_holes(request):
    """Context processor (after Django's ``csrf``): a placeholder for the CSRF token while a
    storable page renders."""
    if pages.is_rendering(request):
        return {"csrf_token": pages.hole("csrf")}
    return {}


def personal(request) -> bool:
    """Whether this visitor gets private, uncached pages: signed in, a notice waiting, or a
    session key an app registered (a reader's comment waiting for moderation)."""
    if _MESSAGES_COOKIE in request.COOKIES:
        return True
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    session = request.session
    keys = {SESSION_KEY, _SESSION_MESSAGES, *pages._bypass_session_keys}
    return any(session.get(key) for key in keys)


def _key(request) -> str:
    # The query in a normal form: ``?b=1&a=2&&`` and ``?a=2&b=1`` are one page.
    query = urlencode(sorted((k, v) for k, values in request.GET.lists() for v in values))
    url = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"page:{getattr(request, 'LANGUAGE_CODE', '')}:{digest}"


def _canonical(request) -> bool:
    known = conf("QUERY_PARAMS", frozenset())
    return len(request.get_full_path()) <= conf("MAX_PATH", 2000) and all(
        name in known for name in request.GET
    )


def _storable(request, response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if any(v in response.get("Cache-Control", "") for v in _UNCACHEABLE):
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # a real token was rendered, not the placeholder
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= _COVERED_VARY


def _next_change(generation: str, now: float) -> float | None:
    """The next moment pages change by the clock (the apps' expiry hooks), asked once per
    generation and again once that moment has passed."""
    key = f"pagecache:next-change:{generation}"
    known = pages.safely(lambda: pages.store().get(key), what="read")
    if known is None or (known[0] is not None and known[0] <= now):
        moments = [moment for hook in pages._expiry_hooks if (moment := hook()) is not None]
        known = (min(moments, default=None),)
        pages.safely(lambda: pages.store().set(key, known, conf("SECONDS", 3600)), what="write")
    return known[0]


def _timeout(request, generation: str, now: float) -> int:
    limits = [conf("SECONDS", 3600)]
    moments = [_next_change(generation, now), getattr(request, "_pagecache_expires", None)]
    limits += [moment - now for moment in moments if moment is not None]
    return math.floor(min(limits))


class PageCacheMiddleware:
    """Place after the CSRF, session, authentication and message middleware (it reads the
    visitor) and below ConditionalGetMiddleware and GZipMiddleware (which then handle the
    ETag and compression of stored pages like any other)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not conf("ENABLED", True):
            return self.get_response(request)
        static = (settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")
        if request.path_info.startswith((*conf("EXCLUDE", ()), *static)):
            return self.get_response(request)
        if personal(request):
            response = self.get_response(request)
            if response.status_code < 400:
                patch_cache_control(response, private=True)
            response["X-Page-Cache"] = "bypass"
            return response
        return self._serve(request)

    def _serve(self, request):
        key = _key(request)
        found = pages.safely(
            lambda: pages.store().get_many([pages.GENERATION_KEY, key]), {}, what="read"
        )
        generation = pages.generation(found)
        entry = found.get(key)
        if generation is not None and isinstance(entry, dict) and entry["gen"] == generation:
            response = self._respond(request, entry)
            response["X-Page-Cache"] = "hit"
            return response
        canonical = generation is not None and _canonical(request)
        request._pagecache_rendering = canonical
        response = self.get_response(request)
        request._pagecache_rendering = False
        status = "miss"
        if canonical and _storable(request, response) and not hasattr(request, "_pagecache_skip"):
            now = time.time()
            timeout = _timeout(request, generation, now)
            entry = {
                "gen": generation,
                "status": response.status_code,
                "headers": [
                    (k, v) for k, v in response.headers.items() if k.lower() not in _DROPPED_HEADERS
                ],
                "body": response.content,
            }
            entry["holes"] = [n for n in ("csrf", *pages._hole_fillers) if self._has(entry, n)]
            if timeout > 0:
                pages.safely(lambda: pages.store().set(key, entry, timeout), what="write")
            response = self._respond(request, entry)
        elif not response.streaming and hasattr(response, "content"):
            self._fill(request, response)
        response["X-Page-Cache"] = status
        return response

    @staticmethod
    def _has(entry, name) -> bool:
        return pages.hole(name).encode() in entry["body"]

    @staticmethod
    def _value(request, name) -> str:
        return get_token(request) if name == "csrf" else pages._hole_fillers[name](request)

    def _fill(self, request, response) -> None:
        """Holes in a page that is not stored (an error page, a private page)."""
        body = response.content
        for name in ("csrf", *pages._hole_fillers):
            placeholder = pages.hole(name).encode()
            if placeholder in body:
                body = body.replace(placeholder, self._value(request, name).encode())
                response.content = body

    def _respond(self, request, entry) -> HttpResponse:
        body = entry["body"]
        for name in entry["holes"]:
            body = body.replace(pages.hole(name).encode(), self._value(request, name).encode())
        response = HttpResponse(body, status=entry["status"])
        for name, value in entry["headers"]:
            response.headers[name] = value
        # A page with holes holds this visitor's token: no shared proxy may keep it.
        shared = not entry["holes"]
        scope = "public" if shared else "private"
        patch_cache_control(response, **{scope: True}, max_age=0, must_revalidate=True)
        return response
