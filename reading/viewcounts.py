"""View counts (人气) without a write per page view.

A page never counts itself, so it stays cacheable as a whole: static/js/reading.js sends one
beacon per reader visit (once per browser tab session and page, a ``fetch`` with
``keepalive``, or ``navigator.sendBeacon`` where fetch is missing) to ``view_beacon``, which
calls ``record`` and answers with ``current``, the up-to-date count the page then shows.
``record`` ignores obvious bots by User-Agent and unpublished objects, counts a reader (their
address and User-Agent, hashed) once per ``VIEW_COUNT_VISIT_SECONDS`` whatever the beacons
they send (a reload, a second tab, a replayed request), counts at most
``VIEW_COUNT_PER_ADDRESS`` readers of a page per address (a sliding window, whatever the
User-Agent: rotating it no longer inflates 人气; an IPv6 address counts by its /64, which
one subscriber usually holds whole), and increments a counter in the
cache (atomic ``incr``; shared by all app servers when REDIS_URL is set; without Redis, in
the ``views`` alias, each process's own memory apart from the blocks and rows, so that
their churn never evicts a counter, and a visit is then remembered per process).
The database row is only touched when a counter reaches ``VIEW_COUNT_FLUSH_EVERY``, with
one ``UPDATE … SET view_count = view_count + n``; the rest is moved by ``flush_pending``,
which a process runs for the counters it touched at most ``PENDING_FLUSH_SECONDS`` after
the last run (on its next counted view) and when a gunicorn worker exits (gunicorn.conf.py:
without Redis the counters live in the worker's memory and would die with it), and by
``manage.py flush_view_counts`` (for counters in Redis; run it before a deploy).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.db.models import F
from django.utils.crypto import salted_hmac

from comments import ratelimit
from papers.models import Digest, Entry

MODELS = {"digest": Digest, "entry": Entry}

# Crawlers, link previewers, monitors, headless browsers and HTTP libraries.
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|archiver|bingpreview|facebookexternalhit|embedly|preview|"
    r"headless|phantomjs|lighthouse|pingdom|uptime|monitor|feed|python-|requests|curl|wget|"
    r"httpclient|okhttp|go-http|java/|node-fetch|axios|scrapy|libwww|httpx|aiohttp",
    re.IGNORECASE,
)
# Readers of one page counted per address: (readers, seconds). Several readers may share an
# address (an office, a campus, a carrier's NAT), so this is a cap on inflation, not one view.
PER_ADDRESS = (10, 3600)
# A process moves the counters it touched to the database at least this often.
PENDING_FLUSH_SECONDS = 60

logger = logging.getLogger(__name__)
# (kind, pk) of the counters this process incremented since its last ``flush_pending``.
_pending: set[tuple[str, int]] = set()
_pending_lock = threading.Lock()
_last_flush = [time.monotonic()]


def store():
    """Where counters and counted visits are kept: the ``views`` alias (its own memory
    without Redis, so the blocks' and rows' churn never evicts a counter), else the default
    cache (Redis, shared by every process)."""
    return caches["views"] if "views" in settings.CACHES else caches["default"]


def flush_every() -> int:
    return max(1, int(getattr(settings, "VIEW_COUNT_FLUSH_EVERY", 20)))


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(BOT_USER_AGENT.search(user_agent))


def counter_key(kind: str, pk: int) -> str:
    return f"papers:views:{kind}:{pk}"


def _is_published(kind: str, pk: int) -> bool:
    return MODELS[kind].objects.published().filter(pk=pk).exists()


def visit_seconds() -> int:
    return max(0, int(getattr(settings, "VIEW_COUNT_VISIT_SECONDS", 1800)))


def _visit_key(kind: str, pk: int, visitor: str) -> str:
    # Hashed with the secret key: the cache never holds a reader's address.
    digest = salted_hmac("papers.viewcounts.visit", visitor).hexdigest()[:32]
    return f"papers:viewed:{kind}:{pk}:{digest}"


def _network(address: str) -> str:
    """The part of an address one subscriber holds: an IPv4 address, an IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _address_full(kind: str, pk: int, address: str) -> bool:
    """Whether the address has had its share of counted readers of this page lately (and
    if not, one more is counted against it)."""
    readers, seconds = getattr(settings, "VIEW_COUNT_PER_ADDRESS", PER_ADDRESS)
    digest = salted_hmac("papers.viewcounts.address", _network(address)).hexdigest()[:32]
    limit = ratelimit.Limit(f"papers:views-per-address:{kind}:{pk}:{digest}", readers, seconds)
    return ratelimit.attempt(store(), [limit], now=time.time()) > 0


def record(kind: str, pk: int, *, user_agent: str, visitor: str = "", address: str = "") -> bool:
    """Count one visit of a reader (``visitor``: what identifies them, e.g. their address
    and User-Agent; empty: always counted; ``address``: their network address, limited to
    ``VIEW_COUNT_PER_ADDRESS`` counted readers of a page). False for a bot or an
    unpublished object (not countable); True otherwise, also when this reader's visit was
    counted already or their address has had its share."""
    if is_bot(user_agent) or not _is_published(kind, pk):
        return False
    cache = store()
    seconds = visit_seconds()
    if visitor and seconds and not cache.add(_visit_key(kind, pk, visitor), 1, seconds):
        return True  # a reload, another tab or a replay within the same visit
    if address and _address_full(kind, pk, address):
        return True  # e.g. one client rotating its User-Agent
    pending = _add_to_counter(counter_key(kind, pk), 1)
    if pending >= flush_every():
        flush_one(kind, pk)
    else:
        with _pending_lock:
            _pending.add((kind, pk))
        if time.monotonic() - _last_flush[0] >= PENDING_FLUSH_SECONDS:
            flush_pending()
    return True


def flush_pending() -> int:
    """Move the counters this process incremented since its last call to their rows;
    returns how many views were moved. Never raises (it runs as a worker exits): a failure
    is logged, and the counter keeps its views and is retried on the next run."""
    with _pending_lock:
        touched = sorted(_pending)
        _pending.clear()
        _last_flush[0] = time.monotonic()
    moved = 0
    for kind, pk in touched:
        try:
            moved += flush_one(kind, pk)
        except Exception:
            logger.exception("Could not write the pending views of %s %s.", kind, pk)
            with _pending_lock:
                _pending.add((kind, pk))  # still in the counter: the next run retries
    return moved


def current(kind: str, pk: int) -> int:
    """The count readers should see now: the row's count plus what is still pending in the
    cache. The beacon answers with it, so a page served from the page cache (whose number
    is as old as the cached copy) shows the current count once the beacon returns."""
    stored = MODELS[kind].objects.filter(pk=pk).values_list("view_count", flat=True).first()
    return (stored or 0) + max(0, store().get(counter_key(kind, pk)) or 0)


def flush_one(kind: str, pk: int) -> int:
    """Move the pending count of one object to its row; returns how many were moved."""
    cache = store()
    lock = f"papers:views-lock:{kind}:{pk}"
    if not cache.add(lock, 1, timeout=30):
        return 0  # another process is flushing this object
    try:
        key = counter_key(kind, pk)
        pending = cache.get(key) or 0
        if pending <= 0:
            return 0
        # Subtract what we move: increments arriving meanwhile stay in the counter; if the
        # write fails, they are given back.
        cache.decr(key, pending)
        try:
            MODELS[kind].objects.filter(pk=pk).update(view_count=F("view_count") + pending)
        except Exception:
            _add_to_counter(key, pending)  # given back, for the next run
            raise
        return pending
    finally:
        cache.delete(lock)


def _add_to_counter(key: str, n: int) -> int:
    """Add ``n`` to a counter (made at 0 if missing; it never expires); returns its value."""
    cache = store()
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key, n) or 0  # None: the cache is down (logged), the view is lost
    except ValueError:  # evicted between add and incr
        cache.set(key, n, timeout=None)
        return n


def flush_all(batch_size: int = 1000) -> int:
    """Flush every pending counter of published digests and entries; returns the total."""
    total = 0
    for kind, model in MODELS.items():
        ids = model.objects.published().values_list("pk", flat=True).order_by("pk")
        batch = []
        for pk in ids.iterator(chunk_size=batch_size):
            batch.append(pk)
            if len(batch) == batch_size:
                total += _flush_batch(kind, batch)
                batch = []
        if batch:
            total += _flush_batch(kind, batch)
    return total


def _flush_batch(kind: str, ids: list[int]) -> int:
    pending = store().get_many([counter_key(kind, pk) for pk in ids])
    total = 0
    for pk in ids:
        if pending.get(counter_key(kind, pk)):
            total += flush_one(kind, pk)
    return total
