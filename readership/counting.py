"""Counting readers privately and cheaply (Plausible's scheme), with no database write.

A reader is a hash of a salt, their address and their User-Agent. The salt is random, made by
the first server that needs it each day and kept in the cache only until midnight (site time):
after that no one, not even with the database and the cache, can tell whether two days' views
came from one person. No cookie is set and no script runs: the digest and entry views mark
their response (``mark_page``), the page cache keeps that mark with the page, and
``ReadershipMiddleware`` (readership/middleware.py), outside the page cache, counts every
response that carries it, served from the cache or not, then removes it.

A page view adds one to the page's *views*; the first view of a page by a reader that day also
adds one to its *readers*, which is what 人气 counts (reloads add nothing). Known crawlers
(crawlerdetect's list of signatures), staff, previews, prefetches and, if
``READERSHIP_HONOUR_PRIVACY_SIGNALS``, browsers sending ``DNT: 1`` or ``Sec-GPC: 1`` are not
counted; one address counts at most ``READERSHIP_PER_ADDRESS`` readers of a page an hour, so
rotating the User-Agent does not inflate 人气.

Counters live in the cache in one-minute *batches*: a batch's counters are written by the
worker once the minute is over (readership/writing.py), and each batch lists the counters it
holds (a slot number taken with an atomic ``incr``), so the writer never scans the cache. What
readers see is the row's count plus the batches not yet written (``shown``): the same number on
every server sharing the cache, at once.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import logging
import re
import secrets
import time
from functools import lru_cache
from urllib.parse import urlsplit

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.crypto import salted_hmac

from comments import ratelimit
from comments.services import client_ip

logger = logging.getLogger(__name__)

HEADER = "X-Readership-Page"
KINDS = ("digest", "entry")
# A batch is one minute; a day's midnight falls on a minute in every time zone, so a batch
# belongs to one day.
BATCH_SECONDS = 60
# Seconds after a batch's end before it is written: servers' clocks differ a little.
GRACE_SECONDS = 10
# Counters the worker has not written are kept this long (the worker stopped for a day: lost).
KEEP_SECONDS = 24 * 3600
KEEP_BATCHES = KEEP_SECONDS // BATCH_SECONDS
# Where the last written batch is told to the servers (the database row is the truth).
WRITTEN_KEY = "readership:written"
# Batches ``shown`` looks at past the last written one: a worker late by more shows less.
LOOKBACK_BATCHES = 15
MAX_TERMS = 100
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def conf(name: str, default):
    return getattr(settings, f"READERSHIP_{name}", default)


def store():
    """The counters' cache: the ``views`` alias (files shared by one server's processes, when
    there is no Redis), else the default cache (Redis, shared by every server)."""
    return caches["views"] if "views" in settings.CACHES else caches["default"]


# --- who counts ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _detector() -> CrawlerDetect:
    return CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Crawlers, link previewers, monitors, headless browsers and HTTP libraries, by
    crawlerdetect's signatures; an empty User-Agent too."""
    agent = user_agent.strip()
    return not agent or _detector().isCrawler(agent)


def countable(request) -> bool:
    """Whether this request is a person reading: a GET by a browser that is not a known
    crawler, not a prefetch, not staff, and (if the setting says so) not asking not to be
    tracked."""
    if request.method != "GET":
        return False
    headers = request.headers
    purpose = (headers.get("Sec-Purpose") or headers.get("Purpose") or "").lower()
    if "prefetch" in purpose or headers.get("X-Moz") == "prefetch":
        return False
    if conf("HONOUR_PRIVACY_SIGNALS", True) and "1" in (headers.get("DNT"), headers.get("Sec-GPC")):
        return False
    if is_bot(headers.get("User-Agent", "")[:512]):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_staff)


# --- days, batches, salt ---------------------------------------------------------------


def batch_of(moment: float) -> int:
    return int(moment // BATCH_SECONDS)


def day_of(batch: int) -> datetime.date:
    start = datetime.datetime.fromtimestamp(batch * BATCH_SECONDS, tz=datetime.UTC)
    return timezone.localdate(start)


def seconds_left_today(moment: float) -> int:
    """Seconds until the next midnight, site time (at least one)."""
    now = timezone.localtime(datetime.datetime.fromtimestamp(moment, tz=datetime.UTC))
    midnight = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0)
    midnight = midnight.replace(microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def salt(moment: float) -> str | None:
    """Today's salt: random, made by the first server that asks, kept in the cache until
    midnight and nowhere else. None when the cache cannot keep it (then nothing is counted)."""
    key = f"readership:salt:{day_of(batch_of(moment)).isoformat()}"
    cache = store()
    value = cache.get(key)
    if value is None:
        cache.add(key, secrets.token_hex(16), seconds_left_today(moment))
        value = cache.get(key)
    return value


def reader_of(request, today_salt: str) -> str:
    agent = request.headers.get("User-Agent", "")[:512]
    raw = f"{today_salt}|{client_ip(request) or ''}|{agent}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def referrer_domain(request) -> str:
    """The domain of the site the reader came from (``www.`` dropped), or "" when they came
    from this site, from nowhere, or the header is not an address."""
    referer = request.headers.get("Referer", "")[:2000]
    if not referer:
        return ""
    try:
        host = (urlsplit(referer).hostname or "").rstrip(".")
        own = request.get_host().rsplit(":", 1)[0].lower()
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    if not _DOMAIN.fullmatch(host) or host == own.removeprefix("www."):
        return ""
    return host


def normal_terms(query: str) -> str:
    """Search words as counted: spaces collapsed, lower case, at most ``MAX_TERMS``."""
    return " ".join(query.split()).lower()[:MAX_TERMS]


# --- counters --------------------------------------------------------------------------


def counter_key(batch: int, ident: tuple) -> str:
    """The cache key of one counter of a batch; ``ident`` says what it counts (``("r",
    "digest", 12)``: readers of digest 12; ``("q", "rlhf")``: searches of "rlhf")."""
    name = hashlib.blake2s(json.dumps(ident).encode(), digest_size=12).hexdigest()
    return f"readership:{batch}:{name}"


def slots_key(batch: int) -> str:
    return f"readership:{batch}:slots"


def slot_key(batch: int, slot: int) -> str:
    return f"readership:{batch}:slot:{slot}"


def results_key(batch: int, terms: str) -> str:
    return counter_key(batch, ("n", terms))


def _incr(cache, key: str, n: int = 1) -> bool:
    """Add ``n`` to a counter; True when this call made it (it was not there). One write
    when the counter exists (the usual case: a page's counters live for its minute)."""
    try:
        cache.incr(key, n)
        return False
    except ValueError:  # not there yet
        pass
    if cache.add(key, n, KEEP_SECONDS):
        return True
    cache.incr(key, n)  # made meanwhile by another process
    return False


def add(batch: int, ident: tuple, n: int = 1) -> None:
    """Count ``n`` more of ``ident`` in ``batch``; a counter new to the batch takes the
    batch's next slot, so the writer finds it."""
    cache = store()
    if _incr(cache, counter_key(batch, ident), n):
        cache.add(slots_key(batch), 0, KEEP_SECONDS)
        slot = cache.incr(slots_key(batch))
        cache.set(slot_key(batch, slot), list(ident), KEEP_SECONDS)


def _first_today(key: str, moment: float) -> bool:
    return bool(store().add(key, 1, seconds_left_today(moment)))


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


def _address_full(kind: str, pk: int, request, moment: float) -> bool:
    """Whether the reader's address has had its share of counted readers of this page in the
    last hour (and if not, one more is counted against it)."""
    readers, seconds = conf("PER_ADDRESS", (10, 3600))
    network = _network(client_ip(request) or "")
    digest = salted_hmac("readership.address", network).hexdigest()[:32]
    limit = ratelimit.Limit(f"readership:per-address:{kind}:{pk}:{digest}", readers, seconds)
    return ratelimit.attempt(store(), [limit], now=moment) > 0


def count_view(request, kind: str, pk: int, *, moment: float | None = None) -> bool:
    """Count one view of a page; True when it was a reader's first that day (人气 + 1)."""
    if not countable(request):
        return False
    moment = time.time() if moment is None else moment
    today_salt = salt(moment)
    if not today_salt:
        return False
    batch = batch_of(moment)
    add(batch, ("v", kind, pk))
    day = day_of(batch).isoformat()
    reader = reader_of(request, today_salt)
    if not _first_today(f"readership:seen:{day}:{kind}:{pk}:{reader}", moment):
        return False  # a reload, another tab: one reader per page per day
    if _address_full(kind, pk, request, moment):
        return False  # one client rotating its User-Agent
    add(batch, ("r", kind, pk))
    domain = referrer_domain(request)
    if domain:
        add(batch, ("ref", domain))
    return True


def count_search(request, query: str, results: int, *, moment: float | None = None) -> bool:
    """Count a reader's search (once per reader, words and day) with its number of
    results (the last one counted that minute is kept)."""
    terms = normal_terms(query)
    if not terms or not countable(request):
        return False
    moment = time.time() if moment is None else moment
    today_salt = salt(moment)
    if not today_salt:
        return False
    batch = batch_of(moment)
    reader = reader_of(request, today_salt)
    words = hashlib.blake2s(terms.encode(), digest_size=12).hexdigest()
    day = day_of(batch).isoformat()
    if not _first_today(f"readership:searched:{day}:{words}:{reader}", moment):
        return False
    store().set(results_key(batch, terms), int(results), KEEP_SECONDS)
    add(batch, ("q", terms))
    return True


def count_safely(action, *args, **kwargs) -> bool:
    """A counter is only a counter: a failing cache is logged and the page answers."""
    try:
        return action(*args, **kwargs)
    except Exception:
        logger.warning("readership: could not count", exc_info=True)
        return False


def mark_page(response, kind: str, pk: int) -> None:
    """Say that ``response`` is a reader's view of this page (kept with a cached page;
    counted and removed by ReadershipMiddleware)."""
    response[HEADER] = f"{kind}:{pk}"


def mark_search(response, results: int) -> None:
    """Say that ``response`` answers a reader's search (its words are the ``q`` parameter)
    with ``results`` results."""
    response[HEADER] = f"search:{int(results)}"


# --- what readers see ------------------------------------------------------------------


def pending(kind: str, pks, *, moment: float | None = None) -> dict[int, int]:
    """Readers of each page counted in the cache and not yet in its row: one cache read
    for the last batch written and which batches hold any count, one for the counters of
    the batches after it that do (usually this minute's: a list of twenty rows reads some
    forty keys, not the three hundred of every batch the lookback allows)."""
    pks = list(pks)
    if not pks:
        return {}
    current = batch_of(time.time() if moment is None else moment)
    lookback = range(current - LOOKBACK_BATCHES, current + 1)
    try:
        cache = store()
        found = cache.get_many([WRITTEN_KEY, *(slots_key(b) for b in lookback)])
        written = found.get(WRITTEN_KEY, lookback[0] - 1)
        batches = [b for b in lookback if b > written and found.get(slots_key(b))]
        keys = {(b, pk): counter_key(b, ("r", kind, pk)) for b in batches for pk in pks}
        counts = cache.get_many(list(keys.values())) if keys else {}
    except Exception:
        logger.warning("readership: could not read pending counts", exc_info=True)
        return {}
    totals = dict.fromkeys(pks, 0)
    for (_batch, pk), key in keys.items():
        totals[pk] += max(0, counts.get(key) or 0)
    return totals


def shown(obj, kind: str) -> int:
    """The 人气 of a digest or entry as every page, the API and the admin show it."""
    return obj.view_count + pending(kind, [obj.pk]).get(obj.pk, 0)


def shown_many(objects, kind: str) -> None:
    """Set ``shown_views`` on each object (``pending``: two cache reads for all)."""
    objects = list(objects)
    extra = pending(kind, [o.pk for o in objects])
    for obj in objects:
        obj.shown_views = obj.view_count + extra.get(obj.pk, 0)


def shown_seconds() -> int:
    """How long a page showing 人气 may be served from the page cache."""
    return int(conf("SHOWN_SECONDS", 60))
