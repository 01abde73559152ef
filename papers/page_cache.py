"""The page cache: every anonymous GET/HEAD of a public page, feed, sitemap, robots.txt and
API answer is served from Django's cache until something a reader could see changes. The
store (``content_cache.store()``) is shared by every process serving the site: Redis when
REDIS_URL is set, else files under VAR_DIR (the ``pages`` cache).

Exactness, in short (docs/architecture.md, "Page cache", has the reasoning):

- The key is the language and the scheme, host and full path; the entry holds the *content
  version* it was rendered under (papers/content_cache.py: replaced after every commit that
  changes a reader-visible row) and is only served while that version is current. A
  page showing a comment thread also records that thread's *comments version* at render time
  and is only served while it is unchanged, so approving a comment re-renders the pages of
  that digest or paper alone, and a flood of pending comments changes nothing.
- An entry never lives past the next scheduled go-live or expiry, nor past the moment the
  page's comment form closes by age.
- Per-visitor parts are *holes*: while a cacheable page renders, ``{% csrf_token %}`` and the
  comment form's signed stamp render as placeholders (``hole()``), the stored body keeps
  them, and every response fills them for its own visitor (``visitor_token``: Django's
  ``get_token`` made faster, which also sets the CSRF cookie; and a fresh stamp). Pages
  work without JavaScript.
- ETag: a hash of the stored body, plus, on pages with holes, of the visitor's CSRF secret
  and the stamp's age bucket, so a 304 never hands back a copy whose token or stamp would
  be refused. Last-Modified is strictly after the moment the page's current state began.
- Pages with holes are ``Cache-Control: private, max-age=0, must-revalidate`` (a shared
  proxy must not keep one visitor's CSRF token and cookie for another); feeds, sitemaps,
  robots.txt and the API are ``public, max-age=0, must-revalidate``.

Requests that are never served from the cache, and whose responses are ``private``: any
authenticated user, a reader with a pending comment or an unread notice, and (by path) the
admin, share-link previews, comment posting/reply pages and the view beacon.
"""

from __future__ import annotations

import contextvars
import datetime
import hashlib
import math
import re
import secrets
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from .content_cache import content_version_info, store, version_key

DEFAULT_SECONDS = 3600
# Responses a view marks like this are personal or must not be kept.
_UNCACHEABLE = ("private", "no-store", "no-cache")
# Vary values the key already covers: language (Accept-Language and the language cookie)
# and cookies (the bypass rules look at every cookie that changes a page).
_COVERED_VARY = {"accept-language", "cookie", "accept-encoding"}
_MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage
_SESSION_MESSAGES = "_messages"  # its SessionStorage


def conf(name: str, default):
    return getattr(settings, f"PAGE_CACHE_{name}", default)


def excluded_prefixes() -> tuple[str, ...]:
    static = (settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")
    return (*conf("EXCLUDE", ()), *static)


# --- holes ---------------------------------------------------------------------------

_CSRF_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# Bytes at or above this are dropped, so that ``byte % len(chars)`` is uniform.
_CSRF_BYTE_LIMIT = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def _csrf_string() -> str:
    """What Django's ``_get_new_csrf_string`` makes (CSRF_SECRET_LENGTH characters of
    CSRF_ALLOWED_CHARS, uniform, from the system's CSPRNG), from one read of it: Django's
    ``get_random_string`` calls ``secrets.choice`` per character, 30 µs a string."""
    chars, size = CSRF_ALLOWED_CHARS, len(CSRF_ALLOWED_CHARS)
    picked: list[str] = []
    while len(picked) < CSRF_SECRET_LENGTH:
        picked += [chars[b % size] for b in secrets.token_bytes(48) if b < _CSRF_BYTE_LIMIT]
    return "".join(picked[:CSRF_SECRET_LENGTH])


def visitor_token(request) -> str:
    """``get_token(request)``, the same contract (the visitor's secret, made and flagged for
    the cookie when new; a token masked afresh for every response, against BREACH),
    without its two ``get_random_string`` calls: a cached page served to a new visitor
    spent 80 µs of its 250 here. Django's own ``get_token`` for anything unusual (a secret
    not of the expected form)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = _csrf_string()
        request.META["CSRF_COOKIE"] = secret
    if len(secret) != CSRF_SECRET_LENGTH or not all(c in _CSRF_INDEX for c in secret):
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: (re)send the cookie
    mask = _csrf_string()
    chars, index, size = CSRF_ALLOWED_CHARS, _CSRF_INDEX, len(CSRF_ALLOWED_CHARS)
    cipher = "".join(chars[(index[x] + index[y]) % size] for x, y in zip(secret, mask, strict=True))
    return mask + cipher


@dataclass
class _Render:
    """What one cacheable render noted: the comment threads it showed (key -> version and
    change time), and the moments its content changes by the clock."""

    comments: dict[str, tuple[str, float]] = field(default_factory=dict)
    closes_at: float | None = None
    started: float = 0.0  # the request's clock: the one visibility window of the render


_render: contextvars.ContextVar[_Render | None] = contextvars.ContextVar(
    "papers_page_cache_render", default=None
)


_HOLE_NONCES: dict[str, str] = {}


def _hole_nonce() -> str:
    # Derived from SECRET_KEY: the same on every app server sharing the cache, and no
    # reader can write a placeholder into a comment that the filling would then replace.
    # Kept per key: every hit looks for the holes in the page.
    secret = settings.SECRET_KEY
    nonce = _HOLE_NONCES.get(secret)
    if nonce is None:
        nonce = salted_hmac("papers.page_cache.holes", "v1").hexdigest()[:20]
        _HOLE_NONCES[secret] = nonce
    return nonce


def hole(name: str) -> str:
    return f"pagecache-hole-{_hole_nonce()}-{name}"


def rendering_with_holes() -> bool:
    return _render.get() is not None


def csrf_holes(request):
    """Context processor (after Django's own ``csrf``): while a cacheable page renders, the
    CSRF token is a placeholder filled per response."""
    if rendering_with_holes():
        return {"csrf_token": hole("csrf")}
    return {}


def form_stamp_hole() -> str | None:
    """``papers.comments.form_stamp`` asks this first: the placeholder while a cacheable
    page renders, else None (render a real stamp)."""
    return hole("stamp") if rendering_with_holes() else None


# --- comment threads -------------------------------------------------------------------


def _comments_keys(target: str) -> tuple[str, str]:
    return f"comments:version:{target}", f"comments:changed:{target}"


def comments_version(target: str) -> str:
    return store().get(_comments_keys(target)[0], "0")


def bump_comments(target: str) -> None:
    """A comment thread changed as readers see it: pages showing it re-render. The version
    is a new random token (never a counter: two bumps racing must not both write N+1)."""
    version_key, changed_key = _comments_keys(target)
    cache = store()
    cache.set(changed_key, time.time(), timeout=None)  # before the version: see last_modified
    cache.set(version_key, uuid.uuid4().hex, timeout=None)


def note_comments(target: str, digest) -> str | None:
    """Called by ``comments_context`` *before* it reads the thread: a page being cached
    depends on this thread's version, and on the moment its comment form closes by age.
    Returns the thread's version as read (None when no cacheable page is rendering)."""
    state = _render.get()
    if state is None:
        return None
    version_key, changed_key = _comments_keys(target)
    found = store().get_many([version_key, changed_key])
    version = found.get(version_key, "0")
    state.comments[target] = (version, found.get(changed_key) or 0.0)
    days = getattr(settings, "COMMENTS_CLOSE_AFTER_DAYS", 0)
    if days and digest.published_at is not None:
        closes = (digest.published_at + datetime.timedelta(days=days)).timestamp()
        state.closes_at = closes if state.closes_at is None else min(state.closes_at, closes)
    return version


# --- scheduled changes -------------------------------------------------------------------


def visibility_window(version: str, now: float) -> tuple[float, float | None]:
    """(the last go-live or expiry at or before ``now``, the next one after it), in one
    query, kept for this content version until that next moment."""
    key = f"pagecache:window:{version}"
    window = store().get(key)
    if window is not None and (window[1] is None or window[1] > now) and window[2] <= now:
        return window[0], window[1]
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    sql, params, upcoming_flags = _window_sql(moment)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone() or ()
    upcoming, passed = [], []
    for is_next, value in zip(upcoming_flags, row, strict=False):
        if value is None:
            continue
        if not isinstance(value, datetime.datetime):
            value = parse_datetime(str(value))  # SQLite answers text
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        (upcoming if is_next else passed).append(value.timestamp())
    last = max(passed, default=0.0)
    following = min(upcoming, default=None)
    timeout = None if following is None else max(1, int(following - now))
    store().set(key, (last, following, now), timeout=timeout)
    return last, following


def _window_sql(moment) -> tuple[str, list, list[bool]]:
    """One statement of ordered LIMIT-1 subqueries: the go-live ones walk the (status,
    published_at) index per readable status instead of aggregating every digest. Written as
    SQL: building it with the ORM (eight Subquery annotations) cost more than running it."""
    from .models import Digest

    table = connection.ops.quote_name(Digest._meta.db_table)
    parts, params, upcoming = [], [], []
    for status in Digest.READABLE_STATES:
        for column in ("published_at", "expires_at"):
            # Expiries come from their own (partial) index; SQLite without statistics took
            # the (status, published_at) index and sorted every published digest (36 ms at
            # 20,000) unless ``+status`` keeps that column off any index.
            state = (
                "+status" if column == "expires_at" and connection.vendor == "sqlite" else "status"
            )
            for op, order in ((">", "ASC"), ("<=", "DESC")):
                parts.append(
                    f"(SELECT {column} FROM {table} WHERE {state} = %s AND {column} {op} %s "
                    f"ORDER BY {column} {order} LIMIT 1)"
                )
                params += [status, connection.ops.adapt_datetimefield_value(moment)]
                upcoming.append(op == ">")
    return "SELECT " + ", ".join(parts), params, upcoming


# --- values derived from published content -----------------------------------------

_MISSING = object()


def derived(name: str, signature, compute):
    """``compute()``, kept in the page store like a page: for the current content version,
    and never past the next scheduled go-live or expiry (``signature``: what else the value
    depends on, hashable and with a stable ``repr``).

    For what many pages share and a page-cache miss would recompute: the capped count of a
    filter is the same on each of its pages, in both sort orders, in both languages and in
    the JSON API. Values are those every reader may see, never a visitor's own."""
    render = _render.get()
    # In a cacheable render, the page cache's own moment: the window it reads after the
    # render is then the one read here, from the store (not a second query).
    now = render.started if render is not None and render.started else time.time()
    version, _made = content_version_info()
    last_change, next_change = visibility_window(version, now)
    digest = hashlib.sha256(repr((version, last_change, signature)).encode()).hexdigest()
    key = f"derived:{name}:{digest}"
    cache = store()
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        limits = [conf("SECONDS", DEFAULT_SECONDS)]
        if next_change is not None:
            limits.append(next_change - now)
        timeout = math.floor(min(limits))
        if timeout > 0:
            cache.set(key, value, timeout)
    return value


# --- the cached entry ----------------------------------------------------------------


@dataclass
class Entry:
    version: str  # the content version it was rendered under
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    etag: str  # of the body with its holes
    began: float  # when the page's current state began (content, threads, schedule)
    comments: dict[str, str]
    has_csrf: bool
    has_stamp: bool
    stored_at: float
    # The body as gzip pieces (``_gzip_pieces``): deflated runs of the body between its
    # holes, and the holes' names; None for a body too short to be worth compressing.
    gzip: tuple | None = None


def _key(request) -> str:
    """One key per URL and language: a new render replaces the old one (nothing is left
    behind by a change); the entry says which content version it was rendered under."""
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"pagecache:{getattr(request, 'LANGUAGE_CODE', '')}:{digest}"


# Which comment threads a URL's page showed, remembered per process: only a hint, so that
# a hit fetches the threads' versions in the same round trip as the page (the entry itself
# says what it depends on and is always checked).
_THREADS_HINT: dict[str, tuple[str, ...]] = {}
_THREADS_HINT_MAX = 20000


def _entry_is_current(entry: Entry, fetched: dict, asked=()) -> bool:
    """Whether every comment thread the page showed is at the version it was rendered
    with. ``fetched``: what the first round trip found among the keys ``asked`` (a thread
    whose version was asked for and not found has never changed: "0")."""
    if not entry.comments:
        return True
    keys = {target: _comments_keys(target)[0] for target in entry.comments}
    missing = [k for k in keys.values() if k not in fetched and k not in asked]
    if missing:
        fetched = {**fetched, **store().get_many(missing)}
    return all(fetched.get(keys[t], "0") == v for t, v in entry.comments.items())


def _remember_threads(key: str, entry: Entry) -> None:
    if len(_THREADS_HINT) >= _THREADS_HINT_MAX:
        _THREADS_HINT.clear()
    _THREADS_HINT[key] = tuple(entry.comments)


def _storable(request, response, csrf_before) -> bool:
    if response.status_code != 200 or response.streaming:
        return False
    if any(v in response.get("Cache-Control", "") for v in _UNCACHEABLE):
        return False
    if response.cookies:
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and not csrf_before:
        return False  # something rendered a real token, not the placeholder
    if csrf_before:
        return False  # the visitor's cookie was replaced: cannot tell what rendered it
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= _COVERED_VARY and len(request.get_full_path()) <= conf("MAX_PATH", 2000)


def _make_entry(response, render: _Render, version: str, began: float, now: float) -> Entry:
    body = response.content
    headers = [
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in {"content-length", "etag", "last-modified", "cache-control"}
    ]
    thread_began = max((changed for _v, changed in render.comments.values()), default=0.0)
    return Entry(
        version=version,
        status=response.status_code,
        headers=headers,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        began=max(began, thread_began),
        comments={target: v for target, (v, _c) in render.comments.items()},
        has_csrf=hole("csrf").encode() in body,
        has_stamp=hole("stamp").encode() in body,
        stored_at=now,
        gzip=_gzip_pieces(body),
    )


# --- gzip ----------------------------------------------------------------------------
#
# Cached pages are compressed once, when stored, and served compressed to every client that
# accepts gzip: a digest page is 41 KB of HTML and 12.4 KB gzipped, which a phone on a slow
# network feels. A page with holes cannot be compressed once and for all (each response
# fills in its own CSRF token and stamp), so the runs of the body between the holes are
# deflated separately, each ending on a byte boundary (Z_SYNC_FLUSH, not final), and a
# response puts them together with its own hole values as stored (uncompressed) deflate
# blocks: a valid gzip stream, without compressing anything per request. As Django's
# GZipMiddleware does against BREACH, the gzip header carries a file name of random
# length; the CSRF token itself is masked per response by Django.

GZIP_MIN_BYTES = 1024
# As nginx: 41 KB in 0.24 ms to 12.4 KB (level 4: 0.39 ms, 11.5 KB; level 6: 0.56 ms, 11.2 KB).
GZIP_LEVEL = 1
_GZIP_MAX_RANDOM_BYTES = 100
_GZIP_END = b"\x01\x00\x00\xff\xff"  # a final, empty stored block


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _gzip_pieces(body: bytes) -> tuple | None:
    """(deflated run, hole name, deflated run, …) for ``body``, or None if it is short."""
    if len(body) < GZIP_MIN_BYTES:
        return None
    holes = re.compile(re.escape(hole("").encode()) + rb"(csrf|stamp)")
    parts = holes.split(body)
    return tuple(
        _deflated(part) if index % 2 == 0 else part.decode() for index, part in enumerate(parts)
    )


def _stored_blocks(data: bytes) -> bytes:
    blocks = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        size = len(chunk)
        blocks.append(b"\x00" + struct.pack("<HH", size, size ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def _gzip_body(pieces: tuple, filled: bytes, values: dict[str, bytes]) -> bytes:
    """The gzip stream of ``filled``: the body whose pieces these are, with ``values`` in
    its holes."""
    name = b"a" * secrets.randbelow(_GZIP_MAX_RANDOM_BYTES) + b"\x00"
    out = [b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff", name]
    for index, piece in enumerate(pieces):
        out.append(piece if index % 2 == 0 else _stored_blocks(values[piece]))
    out.append(_GZIP_END)
    out.append(struct.pack("<II", zlib.crc32(filled), len(filled) & 0xFFFFFFFF))
    return b"".join(out)


def accepts_gzip(request) -> bool:
    """Whether Accept-Encoding admits gzip (``gzip`` or ``*``, with a q-value above 0)."""
    header = request.META.get("HTTP_ACCEPT_ENCODING", "")
    if "gzip" not in header and "*" not in header:
        return False
    found = {}
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found[coding.strip().lower()] = quality
    quality = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return quality > 0


def _response_from(entry: Entry) -> HttpResponse:
    response = HttpResponse(entry.body, status=entry.status)
    for name, value in entry.headers:
        response.headers[name] = value
    return response


# --- bypass --------------------------------------------------------------------------


def _remembers_comments(session) -> bool:
    """The session remembers the reader's own comments: the page may show one still
    waiting for moderation (checking which would cost what rendering costs)."""
    from .comments import SESSION_MINE

    return bool(session.get(SESSION_MINE))


def personal_reason(request) -> str:
    """Why this visitor must get an uncached, private page ("" if none). Without a session
    cookie this costs nothing; with one, the session is read (one query with database
    sessions)."""
    if _MESSAGES_COOKIE in request.COOKIES:
        return "notice"
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return ""
    session = request.session
    if SESSION_KEY in session:
        return "user"
    if session.get(_SESSION_MESSAGES):
        return "notice"
    if _remembers_comments(session):
        return "pending-comment"
    return ""


# --- the middleware ------------------------------------------------------------------


class PageCacheMiddleware:
    """Place after CsrfViewMiddleware, AuthenticationMiddleware and MessageMiddleware (it
    reads the visitor's state) and before the headers-only middleware it may skip."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not conf("ENABLED", True):
            return self.get_response(request)
        if request.path_info.startswith(excluded_prefixes()):
            return self.get_response(request)
        reason = personal_reason(request)
        if reason:
            response = self.get_response(request)
            if response.status_code < 400:
                patch_cache_control(response, private=True)
            response["X-Page-Cache"] = "bypass"
            return response
        return self._serve(request)

    def _serve(self, request):
        now = time.time()
        key = _key(request)
        cache = store()
        threads = [_comments_keys(t)[0] for t in _THREADS_HINT.get(key, ())]
        versions = version_key()
        found = cache.get_many([versions, key, *threads])  # one round trip
        version, changed_at = content_version_info(found.get(versions))
        entry = found.get(key)
        status = "hit"
        if (
            not isinstance(entry, Entry)
            or entry.version != version
            or not _entry_is_current(entry, found, threads)
        ):
            status = "miss"
            entry = None
            render = _Render(started=now)
            csrf_before = bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))
            token = _render.set(render)
            try:
                response = self.get_response(request)
            finally:
                _render.reset(token)
            if _storable(request, response, csrf_before):
                last_change, next_change = visibility_window(version, now)
                began = max(changed_at, last_change)
                entry = _make_entry(response, render, version, began, now)
                limits = [conf("SECONDS", DEFAULT_SECONDS)]
                limits += [m - now for m in (next_change, render.closes_at) if m is not None]
                if render.closes_at is not None and render.closes_at <= now:
                    entry.began = max(entry.began, render.closes_at)
                timeout = math.floor(min(limits))
                if timeout > 0:
                    cache.set(key, entry, timeout)
                _remember_threads(key, entry)
            if entry is None:
                response = self._fill(request, response)
                response["X-Page-Cache"] = "miss"
                return response
        if status == "hit" and key not in _THREADS_HINT:
            _remember_threads(key, entry)
        response = self._respond(request, entry, now)
        response["X-Page-Cache"] = status
        return response

    def _fill(self, request, response):
        """An answer that is not stored (an error page, a private page): its holes are
        still filled for this visitor."""
        if response.streaming or not hasattr(response, "content"):
            return response
        body = response.content
        if _hole_nonce().encode() in body:
            response.content = self._filled(request, body)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response

    def _filled(self, request, body: bytes, values: dict | None = None) -> bytes:
        """``body`` with its holes filled for this visitor; ``values`` receives what each
        hole was filled with."""
        from .comments import form_stamp_value

        values = {} if values is None else values
        csrf = hole("csrf").encode()
        if csrf in body:
            values["csrf"] = visitor_token(request).encode()
            body = body.replace(csrf, values["csrf"])
        stamp = hole("stamp").encode()
        if stamp in body:
            values["stamp"] = form_stamp_value().encode()
            body = body.replace(stamp, values["stamp"])
        return body

    def _respond(self, request, entry: Entry, now: float):
        response = _response_from(entry)
        personal = entry.has_csrf or entry.has_stamp
        began = entry.began
        etag_parts = [entry.etag]
        compressed = entry.gzip is not None and accepts_gzip(request)
        if entry.gzip is not None:
            patch_vary_headers(response, ("Accept-Encoding",))
        if compressed:
            etag_parts.append("gz")  # another representation: another strong ETag
        secret = request.META.get("CSRF_COOKIE")
        known_secret = bool(secret) and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        if entry.has_stamp:
            # A copy's stamp may be reused for half the time a form is accepted.
            bucket = max(1, getattr(settings, "COMMENTS_FORM_MAX_AGE_SECONDS", 86400) // 2)
            etag_parts.append(f"s{int(now // bucket)}")
            began = max(began, (now // bucket) * bucket)
        # A page with a CSRF hole can only be compared for a visitor whose secret we know
        # (a new visitor's token is made below).
        conditional = not entry.has_csrf or known_secret
        if personal:
            patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
        else:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        # Strictly after the state began, and not in the future: a copy from an earlier
        # state always carries an earlier date.
        last_modified = math.floor(began) + 1
        if last_modified <= now:
            response["Last-Modified"] = http_date(last_modified)
        else:
            last_modified = None
        if conditional:
            if entry.has_csrf:
                etag_parts.append(hashlib.sha256(secret.encode()).hexdigest()[:12])
            response["ETag"] = '"' + "-".join(etag_parts) + '"'
            not_modified = get_conditional_response(
                request, etag=response["ETag"], last_modified=last_modified, response=response
            )
            if not_modified is not response:
                return not_modified
        values = {}
        if personal:
            response.content = self._filled(request, entry.body, values)
        if compressed:
            response.content = _gzip_body(entry.gzip, response.content, values)
            response["Content-Encoding"] = "gzip"
        if not conditional:
            secret = request.META.get("CSRF_COOKIE", "")
            etag_parts.append(hashlib.sha256(secret.encode()).hexdigest()[:12])
            response["ETag"] = '"' + "-".join(etag_parts) + '"'
        response["Content-Length"] = str(len(response.content))
        return response
