"""Readership figures for ``make bench`` (editorial/management/commands/bench.py).

``counting_overhead``: the warm digest page with counting and without, alternating request by
request in one loop (so both share the machine's drift), each request a new reader (the most
a view costs: a salt read, the day's mark, the address window and two counters; the readers
share twenty browsers, as real ones share a few, so the crawler check is mostly remembered).
``analytics_at_scale``: the analytics page over a year of daily rows made for the run (every
day the newest issues and their papers are read, and a share of the older ones, with
searches and referrers) and their roll-ups, deleted afterwards. Two figures: the **worker's
refresh** of each period (every report, each grain, stored: what the page then reads), timed
cold and warm; and the **page** of each period as editors get it, from the stored reports,
cold and warm. **Cold** is after a quiet period: the process's entry figures emptied, a new
database connection, and on SQLite the database files dropped from the operating system's
page cache, so they are read from the disk again (PostgreSQL's shared buffers cannot be
emptied without a restart and stay warm); **warm** is the same again (median of ``runs``).
"""

from __future__ import annotations

import datetime
import glob
import itertools
import os
import random
import statistics
import time

from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from papers.models import Digest, Entry
from readership import reports, rollups
from readership.models import DigestDay, EntryDay, ReferrerDay, SearchDay

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:{n}.0) Gecko/20100101 Firefox/128.0"


def counting_overhead(url: str, *, rounds: int = 400, warmup: int = 20) -> dict:
    """p50 of the warm ``url`` with and without counting, and req/s with ÷ without."""
    numbers = itertools.count(1)
    anonymous = Client()

    def one(counting: bool) -> float:
        n = next(numbers)
        with override_settings(READERSHIP_COUNTING=counting):
            anonymous.cookies.clear()
            started = time.perf_counter()
            response = anonymous.get(
                url,
                REMOTE_ADDR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                HTTP_USER_AGENT=BROWSER.format(n=100 + n % 20),  # readers share a few browsers
            )
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    for _ in range(warmup):
        one(True)
        one(False)
    with_counting, without = [], []
    for _ in range(rounds):
        with_counting.append(one(True))
        without.append(one(False))
    on, off = statistics.mean(with_counting), statistics.mean(without)
    return {
        "rounds": rounds,
        "p50_ms_counting": round(statistics.median(with_counting), 3),
        "p50_ms_not_counting": round(statistics.median(without), 3),
        "rps_counting": round(1000 / on, 1),
        "rps_not_counting": round(1000 / off, 1),
        "ratio": round(off / on, 3),
    }


def _insert(model, rows) -> int:
    """Insert ``rows``; a (page, day) the site's own counting wrote already (the digest the
    counting benchmark read, written by a worker since) keeps its row."""
    return len(model.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True))


def _fill_year(days: int, *, seed: int = 7) -> dict:
    rng = random.Random(seed)
    today = timezone.localdate()
    digests = list(Digest.objects.published().order_by("-issue_date").values_list("pk", flat=True))
    entries_of: dict[int, list[int]] = {}
    for pk, digest_id in Entry.objects.filter(digest_id__in=digests).values_list("pk", "digest_id"):
        entries_of.setdefault(digest_id, []).append(pk)
    counts = {"digest_days": 0, "entry_days": 0, "search_days": 0, "referrer_days": 0}
    batch_d, batch_e, batch_s, batch_r = [], [], [], []
    for age in range(days):
        day = today - datetime.timedelta(days=age)
        recent = digests[age : age + 30]  # the month's issues, newest read most
        older = rng.sample(digests, min(len(digests), 120))
        for rank, pk in enumerate(dict.fromkeys(recent + older)):
            readers = max(1, int(400 / (rank + 1)))
            batch_d.append(DigestDay(digest_id=pk, day=day, views=readers * 2, readers=readers))
            for entry in entries_of.get(pk, []):
                batch_e.append(
                    EntryDay(entry_id=entry, day=day, views=readers, readers=max(1, readers // 2))
                )
        for n in range(150):
            batch_s.append(
                SearchDay(day=day, terms=f"query {n}", searches=rng.randint(1, 30), results=n % 7)
            )
        for n in range(25):
            batch_r.append(ReferrerDay(day=day, domain=f"site{n}.example.com", readers=n + 1))
        if len(batch_e) > 20_000:
            counts["digest_days"] += len(
                DigestDay.objects.bulk_create(batch_d, batch_size=5000, ignore_conflicts=True)
            )
            counts["entry_days"] += len(
                EntryDay.objects.bulk_create(batch_e, batch_size=5000, ignore_conflicts=True)
            )
            batch_d, batch_e = [], []
    counts["digest_days"] += len(
        DigestDay.objects.bulk_create(batch_d, batch_size=5000, ignore_conflicts=True)
    )
    counts["entry_days"] += len(
        EntryDay.objects.bulk_create(batch_e, batch_size=5000, ignore_conflicts=True)
    )
    counts["search_days"] += len(
        SearchDay.objects.bulk_create(batch_s, batch_size=5000, ignore_conflicts=True)
    )
    counts["referrer_days"] += len(
        ReferrerDay.objects.bulk_create(batch_r, batch_size=5000, ignore_conflicts=True)
    )
    return counts


PERIODS = (
    ("30 days by day", "days=30&grain=day"),
    ("365 days by month", "days=365&grain=month"),
    ("365 days by day", "days=365&grain=day"),
)


def _quiet() -> None:
    """As after a quiet period: nothing in the process, a new connection, and (SQLite) the
    database files out of the operating system's page cache."""
    reports._entry_figures_of_minute.cache_clear()
    connection.close()
    if connection.vendor == "sqlite":
        for path in glob.glob(f"{connection.settings_dict['NAME']}*"):
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def _timed(admin: Client, url: str) -> float:
    started = time.perf_counter()
    response = admin.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def analytics_at_scale(admin: Client, refresh, *, days: int = 365, runs: int = 5) -> dict:
    """The worker's refresh of each period and the analytics page of each, over ``days`` of
    rows; ``refresh(periods=[n])`` is the worker's computation (editorial/analytics.py)."""
    figures: dict = {}
    page = reverse("admin-analytics")
    admin.get(f"{page}?days=7")  # the session, the templates and the imports, once
    models = (DigestDay, EntryDay, ReferrerDay, SearchDay)
    before = {
        model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in models
    }
    try:
        started = time.perf_counter()
        with transaction.atomic():
            figures["rows"] = _fill_year(days)
        figures["fill_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        with transaction.atomic():
            figures["rollup_rows"] = rollups.rebuild()
        figures["rollup_seconds"] = round(time.perf_counter() - started, 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # as autovacuum would after such a fill
                cursor.execute("ANALYZE")
        for period in reports.PERIODS:
            _quiet()
            started = time.perf_counter()
            refresh(periods=[period])
            figures[f"refresh_s cold {period} days"] = round(time.perf_counter() - started, 2)
            reports._entry_figures_of_minute.cache_clear()
            started = time.perf_counter()
            refresh(periods=[period])
            figures[f"refresh_s warm {period} days"] = round(time.perf_counter() - started, 2)
        for label, query in PERIODS:
            url = f"{page}?{query}"
            _quiet()
            figures[f"page_ms cold {label}"] = round(_timed(admin, url), 1)
            warm = [_timed(admin, url) for _ in range(runs)]
            figures[f"page_ms warm {label}"] = round(statistics.median(warm), 1)
    finally:  # the rows made for the run go; the roll-ups follow
        with transaction.atomic():
            for model in models:
                model.objects.filter(pk__gt=before[model]).delete()
            rollups.rebuild()
    return figures
