"""Where whole pages and the page generation live, and what the apps above may ask of it.

The store is the ``pages`` cache alias when the settings define one (a file cache shared by
the processes of one server), else ``default`` (Redis, shared by every server). A cache is
only a cache: every read or write that fails is logged and treated as a miss, so the site
answers from the database while the store is down or full.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.utils.crypto import salted_hmac

log = logging.getLogger("pagecache")

GENERATION_KEY = "pagecache:generation"

# Filled in by the apps above at start-up (their AppConfig.ready): see ``register``.
_hole_fillers: dict[str, Callable] = {}
_expiry_hooks: list[Callable[[], float | None]] = []
_bypass_session_keys: set[str] = set()


def register(
    *,
    hole: tuple[str, Callable] | None = None,
    expiry: Callable[[], float | None] | None = None,
    bypass_session_key: str | None = None,
) -> None:
    """``hole``: (name, filler(request) -> str) for a per-visitor value in a cached page;
    ``expiry``: a callable giving the next moment (a timestamp) at which pages change by the
    clock (a scheduled go-live), or None; ``bypass_session_key``: a session key whose
    presence makes the visitor's pages personal (never cached)."""
    if hole:
        _hole_fillers[hole[0]] = hole[1]
    if expiry:
        _expiry_hooks.append(expiry)
    if bypass_session_key:
        _bypass_session_keys.add(bypass_session_key)


def store():
    return caches["pages"] if "pages" in settings.CACHES else caches["default"]


def safely(action: Callable, default=None, *, what: str):
    """``action()``, or ``default`` when the store fails (logged): a cache is only a cache."""
    try:
        return action()
    except Exception:  # any backend's error: connection refused, out of memory, disk full
        log.warning("page cache unavailable (%s)", what, exc_info=True)
        return default


def invalidate() -> None:
    """Every cached page is out of date: a new generation. Call after the commit."""
    safely(lambda: store().set(GENERATION_KEY, uuid.uuid4().hex, None), what="invalidate")


def generation(found: dict | None = None) -> str | None:
    """The current generation (made by the first reader that finds none), or None when the
    store cannot be read. ``found``: a ``get_many`` result that asked for it already."""
    value = (found or {}).get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        added = safely(lambda: store().add(GENERATION_KEY, value, None), what="generation")
        if added is None:
            return None
        if not added:
            value = safely(lambda: store().get(GENERATION_KEY), what="generation")
    return value


def hole(name: str) -> str:
    """The placeholder of hole ``name`` in a stored page. Derived from SECRET_KEY, so no
    reader can write one into a comment, and the same on every server."""
    return "pagecache-hole-" + salted_hmac("pagecache.hole", name).hexdigest()[:24]


def is_rendering(request) -> bool:
    """Whether ``request`` renders a page that may be stored: per-visitor values must then
    be holes (``hole``), filled in for each response."""
    return getattr(request, "_pagecache_rendering", False)


def dont_store(request) -> None:
    """The page being rendered is not worth keeping (an empty or made-up filter, a form
    error): it is answered, with its holes filled, and not stored."""
    request._pagecache_skip = True


def expire_at(request, moment: float) -> None:
    """The page being rendered changes by the clock at ``moment`` (a timestamp): it is not
    kept past it (a comment form that closes by age)."""
    current = getattr(request, "_pagecache_expires", None)
    request._pagecache_expires = moment if current is None else min(current, moment)
