"""Limits an outside test got round (issue 22): 人气 inflated by rotating the User-Agent
(then on the view beacon, now on the page: readership/counting.py), and fixed-window
comment limits passing two comments 1.6 s apart. Limits
slide (comments/ratelimit.py), on LocMemCache and on Redis, and a failing cache limits
nothing."""

import os
import threading
import time
import uuid

import pytest
from django.core import signing
from django.core.cache import caches
from django.test import Client

from comments import ratelimit
from comments import services as svc
from comments.models import Comment
from papers.models import Digest, Entry
from readership import counting, writing
from tests import factories
from tests.redis_support import redis_caches, requires_redis
from tests.test_comments_posting import csrf_client, post

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/5"
# 1_800_000_000 is a multiple of 15 and of 3600: a fixed window of either length started there.
BOUNDARY = 1_800_000_015


def browser(n: int) -> str:
    return f"Mozilla/5.0 (X11; Linux x86_64; rv:{100 + n}.0) Gecko/20100101 Firefox/{100 + n}.0"


@pytest.fixture(params=["locmem", pytest.param("redis", marks=requires_redis(REDIS_URL))])
def backend(request, settings):
    """The site's caches: each process's memory, or one Redis shared by every server."""
    if request.param == "redis":
        settings.CACHES = redis_caches(REDIS_URL, f"test-hardening-{os.getpid()}-{uuid.uuid4()}")
    yield request.param
    if request.param == "redis":
        caches["default"].delete_pattern("*")  # this test's keys only (its own prefix)


def beacon(kind, pk, *, agent, address, **headers):
    """A reader's view of the page (counted by readership/middleware.py)."""
    page = (Digest if kind == "digest" else Entry).objects.get(pk=pk)
    return Client().get(
        page.get_absolute_url(), HTTP_USER_AGENT=agent, REMOTE_ADDR=address, **headers
    )


def counted(kind, pk) -> int:
    """Readers of a page counted in the cache over the last two hours."""
    now = counting.batch_of(time.time())
    counts, _ = writing._gather(range(now - 120, now + 1))
    return sum(n for (ident, _day), n in counts.items() if ident == ("r", kind, pk))


# --- 人气: views per address and page -------------------------------------------------


def test_one_address_rotating_its_user_agent_counts_a_few_readers_not_every_beacon(
    backend, settings
):
    digest = factories.digest(entries=1)
    settings.READERSHIP_PER_ADDRESS = (10, 3600)
    readers = 10
    for n in range(30):
        answer = beacon("digest", digest.pk, agent=browser(n), address="203.0.113.9")
        assert answer.status_code == 200
    assert counted("digest", digest.pk) == readers
    # The cap is per page and per address: other pages and other addresses still count.
    entry = digest.entries.get()
    beacon("entry", entry.pk, agent=browser(0), address="203.0.113.9")
    beacon("digest", digest.pk, agent=browser(0), address="203.0.113.10")
    assert (counted("entry", entry.pk), counted("digest", digest.pk)) == (1, readers + 1)


def test_the_cap_per_address_slides_so_the_address_counts_again_later(settings, time_machine):
    settings.READERSHIP_PER_ADDRESS = (2, 3600)
    time_machine.move_to(BOUNDARY - 1, tick=False)
    digest = factories.digest(entries=1)
    for n in range(5):
        beacon("digest", digest.pk, agent=browser(n), address="203.0.113.9")
    time_machine.move_to(BOUNDARY + 1, tick=False)  # a fixed hour would have started afresh
    for n in range(5, 10):
        beacon("digest", digest.pk, agent=browser(n), address="203.0.113.9")
    assert counted("digest", digest.pk) == 2
    time_machine.move_to(BOUNDARY - 1 + 3600, tick=False)  # an hour after the first two
    for n in range(10, 15):
        beacon("digest", digest.pk, agent=browser(n), address="203.0.113.9")
    assert counted("digest", digest.pk) == 4


def test_an_ipv6_client_counts_by_its_64_and_a_forged_forwarded_for_changes_nothing(settings):
    """One subscriber holds a whole IPv6 /64, and the address is the one our proxies vouch
    for (comments.services.client_ip): neither rotating within the /64 nor writing addresses
    into X-Forwarded-For makes another reader."""
    settings.READERSHIP_PER_ADDRESS = (3, 3600)
    digest = factories.digest(entries=1)
    for n in range(10):
        beacon("digest", digest.pk, agent=browser(n), address=f"2001:db8:1:2::{n + 1:x}")
    assert counted("digest", digest.pk) == 3
    beacon("digest", digest.pk, agent=browser(0), address="2001:db8:1:3::1")  # another /64
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        forged = f"198.51.100.{n + 1}, 192.0.2.50"  # the client wrote the first address
        beacon(
            "digest", digest.pk, agent=browser(n), address="10.0.0.1", HTTP_X_FORWARDED_FOR=forged
        )
    assert counted("digest", digest.pk) == 4 + 3


# --- comments: a sliding window ---------------------------------------------------------


def _stamp() -> str:
    """A form served 30 s ago (by the travelling clock)."""
    return signing.dumps(int(svc.clock()) - 30, salt=svc._STAMP_SALT)


def test_two_comments_straddling_a_window_boundary_are_still_one_per_15_seconds(
    settings, time_machine
):
    settings.COMMENTS_RATE_LIMITS = [(1, 15)]
    digest = factories.digest()
    client = csrf_client()
    time_machine.move_to(BOUNDARY - 0.8, tick=False)
    assert post(client, digest, body="边界前", stamp=_stamp()).status_code == 303
    time_machine.move_to(BOUNDARY + 0.8, tick=False)  # 1.6 s later, in the next fixed window
    refused = post(client, digest, body="边界后", stamp=_stamp())
    assert refused.status_code == 429
    assert refused["Retry-After"] == "14"  # 15 s after the first: 13.4 s, rounded up
    time_machine.move_to(BOUNDARY - 0.8 + 15, tick=False)
    assert post(client, digest, body="十五秒后", stamp=_stamp()).status_code == 303
    assert list(Comment.objects.values_list("body", flat=True).order_by("id")) == [
        "边界前",
        "十五秒后",
    ]


def test_the_hourly_limit_slides_too(settings, time_machine):
    settings.COMMENTS_RATE_LIMITS = [(3, 3600)]
    time_machine.move_to(BOUNDARY + 3600 - 10, tick=False)
    assert [svc.rate_limited("post-ip", "192.0.2.7") for _ in range(3)] == [0, 0, 0]
    time_machine.move_to(BOUNDARY + 3600 + 10, tick=False)  # a fixed hour starts in between
    assert svc.rate_limited("post-ip", "192.0.2.7") == 3600 - 20
    time_machine.move_to(BOUNDARY + 2 * 3600 - 10, tick=False)
    assert svc.rate_limited("post-ip", "192.0.2.7") == 0


def test_a_refused_attempt_is_not_counted_under_any_limit(settings, time_machine):
    """A comment refused by the hourly limit keeps no slot of the 15-second one, and
    hammering while refused does not push the wait further away."""
    time_machine.move_to(BOUNDARY, tick=False)
    limits = [(1, 15), (2, 3600)]
    assert svc.rate_limited("post-ip", "192.0.2.8", limits=limits) == 0
    time_machine.move_to(BOUNDARY + 20, tick=False)
    assert svc.rate_limited("post-ip", "192.0.2.8", limits=limits) == 0
    time_machine.move_to(BOUNDARY + 40, tick=False)
    for _ in range(5):
        assert svc.rate_limited("post-ip", "192.0.2.8", limits=limits) == 3600 - 40
    assert svc.rate_limited("post-ip", "192.0.2.8", limits=[(1, 15)]) == 0


# --- the limiter itself, on both backends -------------------------------------------------


def test_the_limiter_slides_on_both_cache_backends(backend):
    cache = caches["default"]
    limit = ratelimit.Limit(f"test:slide:{uuid.uuid4()}", 1, 15)
    start = float(BOUNDARY) - 0.8
    assert ratelimit.attempt(cache, [limit], now=start) == 0
    assert ratelimit.attempt(cache, [limit], now=start + 1.6) == 14
    assert ratelimit.attempt(cache, [limit], now=start + 15) == 0


@requires_redis(REDIS_URL)
def test_concurrent_servers_sharing_redis_get_exactly_the_allowed_attempts(settings):
    settings.CACHES = redis_caches(REDIS_URL, f"test-hardening-{os.getpid()}-{uuid.uuid4()}")
    limit = ratelimit.Limit("test:concurrent", 3, 60)
    now = float(BOUNDARY)
    results = []
    try:

        def server():  # each thread has its own cache connection, like another app server
            results.append(ratelimit.attempt(caches["default"], [limit], now=now))

        threads = [threading.Thread(target=server) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [0, 0, 0, 60, 60, 60, 60, 60]
    finally:
        caches["default"].delete_pattern("*")


def test_a_failing_cache_limits_nothing_and_raises_nothing(settings):
    """Redis down (django-redis with IGNORE_EXCEPTIONS, as in production): every attempt
    is allowed, and comments and views are still accepted."""
    settings.CACHES = redis_caches("redis://127.0.0.1:1/0", "test-hardening-down")
    limit = ratelimit.Limit("test:down", 1, 15)
    assert [ratelimit.attempt(caches["default"], [limit], now=1.0) for _ in range(3)] == [0, 0, 0]
    settings.COMMENTS_RATE_LIMITS = [(1, 15)]
    assert [svc.rate_limited("post-ip", "192.0.2.9") for _ in range(3)] == [0, 0, 0]
    settings.READERSHIP_PER_ADDRESS = (1, 3600)
    digest = factories.digest()
    for n in range(3):
        assert beacon("digest", digest.pk, agent=browser(n), address="192.0.2.9").status_code == 200
