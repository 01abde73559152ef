"""Paired timing of the benchmark's list and search pages with and without facets
(docs/performance.md, "Facets and search ranking"): in-process, page cache off, fragment
caches warm, facets on and off alternately; prints a Markdown row per page (medians in ms,
and the page's queries with facets).

    DATABASE_URL=sqlite:////path/bench.sqlite3 DJANGO_SETTINGS_MODULE=digestsite.bench_settings \
        N=30 .venv/bin/python scripts/facetbench.py

on a database made by ``generate_bench_data`` (and ``collectstatic`` for the manifest).
"""

import os
import statistics
import time
from urllib.parse import quote

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from reading.views import lists  # noqa: E402

URLS = {
    "list: tag + category": "/papers/?tag=" + quote("强化学习") + "&category=LG",
    "list: tag + date range": "/papers/?tag="
    + quote("强化学习")
    + "&date_from=2024-01-01&date_to=2024-03-31",
    "tag page": "/tags/" + quote("强化学习") + "/",
    "search 推理 + tag": "/search/?q=" + quote("推理") + "&tag=" + quote("推理模型"),
    "search 蒸馏": "/search/?q=" + quote("蒸馏"),
    "search distillation": "/search/?q=distillation",
    "search reasoning + category": "/search/?q=reasoning&category=CL",
    "search, no result": "/search/?q=" + quote("强化") + "&affiliation=nowhere",
}
N = int(os.environ.get("N", "30"))
original = lists.EntryListView.shows_facets
client = Client()
with override_settings(PAGE_CACHE_ENABLED=False, ALLOWED_HOSTS=["*"]):
    for name, url in URLS.items():
        times = {True: [], False: []}
        for on in (True, False):
            lists.EntryListView.shows_facets = original if on else (lambda self, f: False)
            for _ in range(3):
                assert client.get(url).status_code == 200
        for i in range(N):
            for on in (True, False) if i % 2 else (False, True):
                lists.EntryListView.shows_facets = original if on else (lambda self, f: False)
                start = time.perf_counter()
                client.get(url)
                times[on].append((time.perf_counter() - start) * 1000)
        lists.EntryListView.shows_facets = original
        with CaptureQueriesContext(connection) as q:
            client.get(url)
        on, off = statistics.median(times[True]), statistics.median(times[False])
        print(f"| {name} | {off:.1f} | {on:.1f} | {on - off:+.1f} | {len(q)} |", flush=True)
