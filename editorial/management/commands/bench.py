"""The page benchmark of `make bench` (issue 7; docs/performance.md explains every figure).

    DJANGO_SETTINGS_MODULE=digestsite.bench_settings python manage.py bench [--quick]

For each data size (1,000 papers / 200 digests, then 100,000 / 20,000; ``--quick``: 100 / 20
then 1,000 / 200) it makes sure a benchmark database of exactly that size exists (one SQLite
file per size under var/bench/, or ``DATABASE_URL``'s PostgreSQL database for the full size and
``<name>_small`` beside it), building it with ``generate_bench_data`` when needed. Then it
measures in-process (Django's test client, the whole middleware stack): two reference views
(a plain response; a static template of a digest page's size and shape, no database) and the
real pages, each warm (after warm-up) and cold (every cache cleared before every request),
with median and p95 time, query count and size. At the full size it starts gunicorn (sync
workers) on 127.0.0.1 and loads every page with wrk (or a small Python load generator), and
it times `make run` from start to its first answer on an existing database. It prints a table
with the issue's targets beside the figures and writes the same as JSON under var/bench/
(``bench-<UTC time>.json`` and ``latest.json``).
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import logging
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote, urlsplit

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from comments.models import Comment
from editorial import analytics
from editorial.management.commands import generate_bench_data as gen
from pagecache import store as pages
from papers.models import Digest, Entry, Paper
from readership import benchmark as readership_bench
from subscriptions.benchmark import time_digest_send

BASE_DIR = Path(settings.BASE_DIR)
ADMIN_USERNAME = "bench-admin"

# The issue's targets (issue 7, "Targets").
TARGET_WARM_DIGEST_RPS_SHARE = 0.5  # of the plain reference's requests/s
TARGET_COLD_DIGEST_TEMPLATE_RATIO = 1.0  # x the static template's time, after a change
TARGET_EMPTY_DIGEST_TEMPLATE_RATIO = 2.0  # x the static template's time, every cache empty
TARGET_MAX_QUERIES = 8  # per public page, same at both sizes
TARGET_LIST_MS = 10.0
TARGET_SEARCH_MS = 30.0
TARGET_ADMIN_CHANGELIST_MS = 150.0
TARGET_STARTUP_S = 3.0
TARGET_SIZE = 100_000  # papers: the size the time targets are set for
ISSUE_TEMPLATE_MS = 4.8  # the static template's time on the machine the issue measured

# name, kind ("reference" | "public" | "admin"), group (for the targets), URL (filled per DB).
PAGES: list[tuple[str, str, str]] = [
    ("reference: plain view", "reference", "plain"),
    ("reference: static template", "reference", "template"),
    ("home", "public", "home"),
    ("digest", "public", "digest"),
    ("entry", "public", "entry"),
    ("list: all papers", "public", "list-all"),  # /papers/: not a filtered list
    ("list: tag + category", "public", "list"),
    ("list: tag + date range", "public", "list"),
    ("tag page", "public", "tag"),
    ("search 推理 + tag", "public", "search"),
    ("search 蒸馏", "public", "search"),
    ("search distillation", "public", "search"),
    ("search reasoning + category", "public", "search"),
    ("Atom feed", "public", "feed"),
    ("sitemap index", "public", "sitemap"),
    ("sitemap: digests", "public", "sitemap"),
    ("API: entry list", "public", "api"),
    ("admin: digest change", "admin", "admin"),
    ("admin: paper changelist", "admin", "admin-changelist"),
]


class QueryCounter:
    """An execute wrapper counting the SQL statements of a request."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (CJK characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def redact(url: str) -> str:
    """A database URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# Pages also timed after a change ("page-cold"): a new page-cache generation before each
# request, as after an edit of another digest (papers.changes.content_changed), so the page
# cache misses; the papers' blocks and list rows, keyed by what they show, stay warm.
# Another reader has loaded the home page since the change, as one does within moments on a
# live site: what every page shares per change (the next scheduled go-live) is looked up
# once per change, not once per page. The timed page is rendered and stored
# as its first reader after the change gets it: for lists and search, a filter no reader has
# asked for since the last change.
RENDERED_PAGES = (
    "digest",
    "entry",
    "list: all papers",
    "list: tag + category",
    "list: tag + date range",
    "tag page",
    "search 推理 + tag",
    "search 蒸馏",
    "search distillation",
    "search reasoning + category",
)


def _verdict(row: dict, words: dict) -> str:
    """A target row's verdict: pass/fail; a stress figure's "within"/"over" its goal; "—"
    when not judged (a small run)."""
    if "stress" in row:
        return {True: "within", False: "over", None: "—"}[row["stress"]]
    return words.get(row["pass"], "—")


def clear_caches():
    """Every cache the site uses, the page store included (its own alias without Redis)."""
    for alias in caches:
        caches[alias].clear()


class Command(BaseCommand):
    help = (
        "Benchmark the site's pages against reference views at two data sizes, in-process "
        "and under HTTP load; print a table with the issue's targets and write JSON to "
        "var/bench/ (docs/performance.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--papers", type=int, help="full size (default 100,000)")
        parser.add_argument("--digests", type=int, help="full size (default 20,000)")
        parser.add_argument("--small-papers", type=int, help="small size (default 1,000)")
        parser.add_argument("--small-digests", type=int, help="small size (default 200)")
        parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
        parser.add_argument(
            "--quick",
            action="store_true",
            help="CI smoke run: 100/20 then 1,000/200, few iterations, 1 s of load per page",
        )
        parser.add_argument("--iterations", type=int, help="timed requests per page and mode")
        parser.add_argument("--warmup", type=int, help="untimed requests before the warm ones")
        parser.add_argument(
            "--page-seconds",
            type=float,
            help="time budget per page and mode in-process (at least 5 requests are timed)",
        )
        parser.add_argument("--duration", type=float, help="seconds of HTTP load per page")
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
        parser.add_argument("--port", type=int, default=8200, help="gunicorn's port (+1: make run)")
        parser.add_argument("--no-http", action="store_true", help="skip the HTTP load")
        parser.add_argument("--no-startup", action="store_true", help="skip timing `make run`")
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="use the configured database as it is and grow it from the small size to the "
            "full one (tests; the database must hold no more than the small size)",
        )
        parser.add_argument("--output", help="directory for the JSON (default var/bench/)")
        parser.add_argument(
            "--mail-subscribers",
            type=int,
            default=10_000,
            help="confirmed subscribers a digest is sent to, through a local SMTP server "
            "(default 10,000; 0 skips the mail figure)",
        )
        parser.add_argument(
            "--mail-only",
            action="store_true",
            help="only the mail figure, on the small database",
        )

    # -- options ----------------------------------------------------------------------

    def handle(self, *args, **options):
        quick = options["quick"]
        # The configured database, before switch_database() points the connection elsewhere.
        self.configured_name = connection.settings_dict["NAME"]

        def given(name, default):
            return default if options[name] is None else options[name]

        full = (
            given("papers", gen.QUICK_PAPERS if quick else gen.DEFAULT_PAPERS),
            given("digests", gen.QUICK_DIGESTS if quick else gen.DEFAULT_DIGESTS),
        )
        small = (
            given("small_papers", 100 if quick else gen.QUICK_PAPERS),
            given("small_digests", 20 if quick else gen.QUICK_DIGESTS),
        )
        for label, (papers, digests) in (("small", small), ("full", full)):
            if digests < 1 or papers < gen.ENTRIES_PER_DIGEST:
                raise CommandError(
                    f"The {label} size needs at least 1 digest and {gen.ENTRIES_PER_DIGEST} papers."
                )
        if small[0] > full[0] or small[1] > full[1]:
            raise CommandError("The small size must not be larger than the full size.")
        self.iterations = given("iterations", 10 if quick else 50)
        self.warmup = given("warmup", 2 if quick else 5)
        self.page_seconds = given("page_seconds", 3.0 if quick else 10.0)
        self.duration = given("duration", 1.0 if quick else 5.0)
        for name, value in (
            ("iterations", self.iterations),
            ("page-seconds", self.page_seconds),
            ("duration", self.duration),
            ("connections", options["connections"]),
            ("workers", options["workers"]),
        ):
            if value <= 0:
                raise CommandError(f"--{name} must be positive.")
        if self.warmup < 0:
            raise CommandError("--warmup must be 0 or more.")
        if not 1 <= options["port"] <= 65534:
            raise CommandError("--port must be between 1 and 65534.")
        self.options = options
        self.seed = options["seed"]
        self.out_dir = Path(options["output"] or settings.VAR_DIR / "bench")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if settings.DEBUG:
            self.stderr.write(
                "warning: DEBUG is on; timings include Django's query log and template "
                "debugging. Run with DJANGO_SETTINGS_MODULE=digestsite.bench_settings."
            )
        started = time.perf_counter()
        report = {
            "schema": 1,
            "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": os.environ.get("BENCH_COMMAND")
            or " ".join(shlex.quote(a) for a in ["python", *sys.argv]),
            "argv": sys.argv,
            "quick": quick,
            "settings": {
                "iterations": self.iterations,
                "warmup": self.warmup,
                "page_seconds": self.page_seconds,
                "http_seconds_per_page": self.duration,
                "connections": options["connections"],
                "gunicorn_workers": options["workers"],
                "seed": self.seed,
                "settings_module": os.environ.get("DJANGO_SETTINGS_MODULE", ""),
                "debug": settings.DEBUG,
            },
            "sizes": [],
            "pages": {name: {"kind": kind, "group": group} for name, kind, group in PAGES},
        }
        if options["mail_only"]:
            self.prepare("small", *small)
            figure = self.measure_mail()
            self.stdout.write(self.mail_line(figure))
            return
        with override_settings(
            ROOT_URLCONF="digestsite.bench_urls",
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        ):
            self.collect_static()
            for label, (papers, digests) in (("small", small), ("full", full)):
                if label == "small" and small == full:
                    continue
                size = self.prepare(label, papers, digests)
                report["sizes"].append(size)
                self.measure_in_process(report, size)
                report.setdefault("readership", {})[str(size["papers"])] = self.measure_readership()
            report["machine"] = self.machine()
            report["checks"] = self.checks()
            report["mail"] = self.measure_mail()
            if options["no_http"]:
                report["http"] = {"skipped": True}
            else:
                report["http"] = self.measure_http(report)
        report["startup"] = {"skipped": True} if options["no_startup"] else self.measure_startup()
        report["targets"] = self.targets(report)
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["machine"]["load_average_after"] = round(os.getloadavg()[0], 2)
        self.print_report(report)
        self.write(report)

    # -- databases ----------------------------------------------------------------------

    def collect_static(self):
        backend = settings.STORAGES["staticfiles"]["BACKEND"]
        if "Manifest" in backend:  # pages need the manifest of hashed names
            call_command("collectstatic", interactive=False, verbosity=0)

    def database_for(self, label: str, papers: int, digests: int) -> tuple[str, str]:
        """(NAME, URL) of the database holding one size."""
        configured = self.configured_name
        if os.environ.get("DATABASE_URL"):
            url = os.environ["DATABASE_URL"]
            if label == "full":
                return configured, url
            if connection.vendor == "sqlite":
                path = Path(configured)
                name = str(path.with_name(f"{path.stem}-small{path.suffix}"))
                return name, f"sqlite:///{name}"
            name = f"{configured}_small"
            parts = urlsplit(url)
            return name, parts._replace(path=f"/{name}").geturl()
        if connection.vendor != "sqlite":
            raise CommandError("Without DATABASE_URL the benchmark uses SQLite files.")
        path = self.out_dir / f"bench-{papers}p-{digests}d.sqlite3"
        return str(path), f"sqlite:///{path}"

    def switch_database(self, name: str):
        connection.close()
        if connection.vendor == "postgresql":
            self.create_postgresql_database(name)
        connection.settings_dict["NAME"] = name

    def create_postgresql_database(self, name: str):
        import psycopg

        params = connection.get_connection_params()
        params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if not exists.fetchone():
                admin.execute(f'CREATE DATABASE "{name}"')

    def prepare(self, label: str, papers: int, digests: int) -> dict:
        """Make the database of this size current, complete and migrated."""
        if self.options["in_place"]:
            name, url = connection.settings_dict["NAME"], ""
        else:
            name, url = self.database_for(label, papers, digests)
            if label == "full":
                self.full_database_url = url
            self.switch_database(name)
            call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"== {label} size: {papers:,} papers / {digests:,} digests ({name})")
        have = gen.bench_counts()
        arguments = ["--papers", str(papers), "--digests", str(digests), "--seed", str(self.seed)]
        if have[0] > papers or have[1] > digests:
            if self.options["in_place"]:
                raise CommandError(
                    f"--in-place: the database already holds {have[0]:,} papers / "
                    f"{have[1]:,} digests of benchmark data, more than the {label} size."
                )
            arguments.append("--reset")  # a benchmark database of another size
        started = time.perf_counter()
        call_command("generate_bench_data", *arguments, stdout=self.stdout)
        generated = time.perf_counter() - started
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Measure a settled database: the importing benchmark's rolled-back rows and
            # the generator's updates leave dead tuples and pages not marked all-visible,
            # which make index-only scans visit the heap, depending on when autovacuum ran.
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        return {
            "label": label,
            "papers": Paper.objects.count(),
            "digests": Digest.objects.count(),
            "entries": Entry.objects.count(),
            "comments": Comment.objects.count(),
            "database": redact(url) if url else "(configured database, in place)",
            "generation_seconds": round(generated, 1) if have != (papers, digests) else 0.0,
        }

    # -- mail ---------------------------------------------------------------------------

    def measure_readership(self) -> dict:
        """Counting's cost on the warm digest (each request a new reader) and the analytics
        page over a year of daily rows (readership/benchmark.py)."""
        rounds = 100 if self.options.get("quick") else 400
        figures = {
            "counting": readership_bench.counting_overhead(self.urls()["digest"], rounds=rounds),
            "analytics": readership_bench.analytics_at_scale(
                self.admin_client(),
                analytics.refresh,
                days=30 if self.options.get("quick") else 365,
            ),
        }
        self.stdout.write("  " + self.readership_line(figures))
        return figures

    @staticmethod
    def readership_line(figures: dict) -> str:
        c, a = figures["counting"], figures["analytics"]
        pages = ", ".join(
            f"{k.removeprefix('page_ms ')} {v} ms" for k, v in a.items() if k.startswith("page_ms")
        )
        refreshes = ", ".join(
            f"{k.removeprefix('refresh_s ')} {v} s"
            for k, v in a.items()
            if k.startswith("refresh_s")
        )
        return (
            f"Readership: warm digest {c['rps_counting']} req/s counting a new reader each, "
            f"{c['rps_not_counting']} req/s not counting (ratio {c['ratio']}); analytics over "
            f"{a['rows']['digest_days'] + a['rows']['entry_days']:,} daily page rows: the page "
            f"(stored reports) {pages}; the worker's refresh {refreshes}"
        )

    def measure_mail(self) -> dict:
        """Queue and send a digest to ``--mail-subscribers`` confirmed subscribers through a
        local SMTP server, with the worker (subscriptions/benchmark.py)."""
        count = self.options["mail_subscribers"]
        if count <= 0:
            return {"skipped": "--mail-subscribers 0"}
        self.stdout.write(f"== mail: a digest to {count:,} subscribers through local SMTP")
        return time_digest_send(subscribers=count)

    @staticmethod
    def mail_line(figure: dict) -> str:
        if "skipped" in figure:
            return f"Mail: skipped ({figure['skipped']})"
        return (
            f"Mail: queued and sent a digest to {figure['subscribers']:,} subscribers through "
            f"local SMTP in {figure['seconds']:.1f} s ({figure['mails_per_second']:.0f} mails/s, "
            f"{figure['kilobytes_per_mail']} KB each, {figure['sent']:,} sent, "
            f"{figure['failed']} failed, {figure['distinct_recipients']:,} distinct recipients; "
            f"{figure['database']})"
        )

    # -- in-process ---------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        digest = (
            Digest.objects.listed()
            .filter(comments__status=Comment.Status.APPROVED)
            .order_by("-issue_date", "-id")
            .first()
        ) or Digest.objects.listed().order_by("-issue_date", "-id").first()
        if digest is None:
            raise CommandError("No published benchmark digest to measure.")
        entry = digest.entries.select_related("paper").order_by("position").first()
        entry.digest = digest
        first_day = gen.FIRST_ISSUE + datetime.timedelta(days=5)
        return {
            "reference: plain view": reverse("bench-plain"),
            "reference: static template": reverse("bench-template"),
            "home": reverse("reading:home"),
            "digest": digest.get_absolute_url(),
            "entry": entry.get_absolute_url(),
            "list: all papers": reverse("reading:entry-list"),
            "list: tag + category": "/papers/?tag=" + quote("强化学习") + "&category=LG",
            "list: tag + date range": "/papers/?tag="
            + quote("推理模型")
            + f"&date_from={first_day:%Y-%m-%d}"
            "&date_to=2030-12-31",
            "tag page": reverse("reading:tag-entries", args=["强化学习"]),
            "search 推理 + tag": "/search/?q=" + quote("推理") + "&tag=" + quote("推理模型"),
            "search 蒸馏": "/search/?q=" + quote("蒸馏"),
            "search distillation": "/search/?q=distillation",
            "search reasoning + category": "/search/?q=reasoning&category=CL",
            "Atom feed": reverse("reading:feed-atom"),
            "sitemap index": reverse("reading:sitemap-index"),
            "sitemap: digests": reverse("reading:sitemap-section", args=["digests"]),
            "API: entry list": "/api/v1/entries/",
            "admin: digest change": reverse("admin:papers_digest_change", args=[digest.pk]),
            "admin: paper changelist": reverse("admin:papers_paper_changelist"),
        }

    def admin_client(self) -> Client:
        user, _created = get_user_model().objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "bench@localhost"},
        )
        client = Client()
        client.force_login(user)
        return client

    def measure_in_process(self, report: dict, size: dict):
        urls = self.urls()
        anonymous = Client()
        admin = self.admin_client()
        self.admin_session = admin.cookies[settings.SESSION_COOKIE_NAME].value
        key = str(size["papers"])
        for name, kind, _group in PAGES:
            page = report["pages"][name]
            page["url"] = urls[name]
            client = admin if kind == "admin" else anonymous
            results = page.setdefault("in_process", {})[key] = {}
            modes = ("warm",) if kind != "public" else ("warm", "cold")
            judged = kind == "public" and name != "home"
            for mode in modes:
                paired = judged and mode == "cold"
                results[mode] = self.time_page(
                    client, urls[name], cold=mode == "cold", paired=paired
                )
            if name in RENDERED_PAGES:
                results["page-cold"] = self.time_page(
                    client, urls[name], cold=False, changed=True, paired=True
                )
            line = "  ".join(
                f"{mode} {r['p50_ms']:7.2f} ms {r['queries']:2d} q" for mode, r in results.items()
            )
            self.stdout.write(f"  {pad(name, 30)} {line}")
        template = report["pages"]["reference: static template"]["in_process"][key]["warm"]
        for name, _kind, _group in PAGES:
            for figures in report["pages"][name]["in_process"][key].values():
                figures["ratio_to_template"] = round(figures["p50_ms"] / template["p50_ms"], 3)

    def time_page(
        self, client: Client, url: str, *, cold: bool, changed: bool = False, paired: bool = False
    ) -> dict:
        """p50/p95 of ``url``: warm, ``cold`` (every cache cleared before each request) or
        ``changed`` (a new page-cache generation before each request: "page-cold").
        ``paired``: the static template is also timed before each request (its p50 kept as
        ``paired_template_p50_ms``), so the ratios judged share the machine's drift."""

        def prepare():
            if cold:
                clear_caches()
            if changed:
                pages.invalidate()
                Client().get(reverse("reading:home"))  # another reader, since the change

        def get(counter=None):
            prepare()  # not counted: the other reader's queries are not this page's
            if client.cookies.get(settings.SESSION_COOKIE_NAME) is None:
                client.cookies.clear()  # anonymous readers as a load generator sends them
            if counter is None:
                return client.get(url)
            with connection.execute_wrapper(counter):
                return client.get(url)

        response = get()
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}, not 200")
        for _ in range(self.warmup):
            get()
        counter = QueryCounter()
        response = get(counter)
        size = len(body_of(response))
        timings, references = [], []
        reference = reverse("bench-template") if paired else None
        budget_end = time.perf_counter() + self.page_seconds
        while len(timings) < self.iterations:
            if reference:
                started = time.perf_counter()
                body_of(client.get(reference))
                references.append((time.perf_counter() - started) * 1000)
            prepare()
            started = time.perf_counter()
            if client.cookies.get(settings.SESSION_COOKIE_NAME) is None:
                client.cookies.clear()
            response = client.get(url)
            body_of(response)
            timings.append((time.perf_counter() - started) * 1000)
            if len(timings) >= 5 and time.perf_counter() > budget_end:
                break
        figures = {
            "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(percentile(timings, 0.95), 3),
            "runs": len(timings),
            "queries": counter.count,
            "bytes": size,
            "status": response.status_code,
        }
        if references:
            figures["paired_template_p50_ms"] = round(statistics.median(references), 3)
        return figures

    def checks(self) -> dict:
        """Unpublished benchmark digests must be invisible to readers (404)."""
        client = Client()
        hidden = {}
        quiet = logging.getLogger("django.request")
        level, quiet.level = quiet.level, logging.ERROR  # the expected 404s are not news
        for label, filters in (
            ("draft", {"status": Digest.Status.DRAFT}),
            ("in review", {"status": Digest.Status.REVIEW}),
            ("scheduled", {"status": Digest.Status.PUBLISHED, "published_at": gen.FAR_FUTURE}),
            ("expired", {"expires_at__isnull": False}),
        ):
            digest = Digest.objects.filter(slug__startswith=gen.SLUG_PREFIX, **filters).first()
            if digest is not None:
                hidden[label] = client.get(digest.get_absolute_url()).status_code == 404
        quiet.level = level
        return {"unpublished_digests_hidden": hidden}

    # -- HTTP ---------------------------------------------------------------------------

    def measure_http(self, report: dict) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "REDIS_URL", "VAR_DIR", "STATIC_ROOT")
        }
        database_url = getattr(self, "full_database_url", "") or os.environ.get("DATABASE_URL", "")
        if not database_url:
            self.stderr.write("HTTP load skipped: --in-place on a database gunicorn cannot open.")
            return {"skipped": True, "reason": "in-place database"}
        port = self.options["port"]
        env.update(
            DJANGO_SETTINGS_MODULE="digestsite.bench_settings",
            DEBUG="0",
            SECRET_KEY=settings.SECRET_KEY,  # the admin session below is valid there too
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=database_url,
            LOG_LEVEL="WARNING",
            GUNICORN_ACCESS_LOG="",
            WEB_CONCURRENCY=str(self.options["workers"]),
            GUNICORN_BIND=f"127.0.0.1:{port}",
        )
        wrk = shutil.which("wrk")
        generator = "wrk" if wrk else "python"
        self.stdout.write(
            f"== HTTP: gunicorn ({self.options['workers']} sync workers) on 127.0.0.1:{port}, "
            f"{generator}, {self.options['connections']} connections, {self.duration:g} s per page"
        )
        log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        process = subprocess.Popen(
            [str(gunicorn), "--config", "gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        results = {"load_generator": generator, "pages": {}}
        try:
            self.wait_for(port, "/healthz", process, log.name, timeout=60)
            cookie = f"{settings.SESSION_COOKIE_NAME}={self.admin_session}"
            for name, kind, _group in PAGES:
                url = report["pages"][name]["url"]
                headers = {"Cookie": cookie} if kind == "admin" else {}
                try:
                    # A slow page leaves queued requests behind: let the workers drain first.
                    self.wait_for(port, "/healthz", process, log.name, timeout=180)
                    for _ in range(2 * self.options["workers"]):  # every worker warm
                        status = self.http_get(port, url, headers, timeout=120)
                    if status != 200:
                        raise CommandError(f"{url} answered {status} over HTTP, not 200")
                    if wrk:
                        figures = self.run_wrk(wrk, port, url, headers)
                    else:
                        figures = self.run_python_load(port, url, headers)
                except (OSError, http.client.HTTPException) as exc:
                    figures = {
                        "requests_per_second": 0.0,
                        "requests": 0,
                        "latency_p50_ms": None,
                        "errors": 1,
                        "failure": f"{type(exc).__name__}: {exc}",
                    }
                results["pages"][name] = figures
                latency = figures["latency_p50_ms"]
                self.stdout.write(
                    f"  {pad(name, 30)} {figures['requests_per_second']:9.1f} req/s"
                    + (f"  p50 {latency:.1f} ms" if latency is not None else "")
                    + (f"  ERRORS {figures['errors']}" if figures["errors"] else "")
                    + (f"  ({figures['failure']})" if "failure" in figures else "")
                )
            if wrk:
                results["paired"] = self.paired_wrk(wrk, port, report)
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # gunicorn's graceful stop, our group only
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
            Path(log.name).unlink(missing_ok=True)
        plain = results["pages"]["reference: plain view"]["requests_per_second"] or 1.0
        for figures in results["pages"].values():
            figures["ratio_to_plain"] = round(figures["requests_per_second"] / plain, 3)
        if wrk:
            version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
            results["wrk"] = (version.stdout + version.stderr).strip().splitlines()[0]
        return results

    def paired_wrk(self, wrk: str, port: int, report: dict, rounds: int = 5) -> dict:
        """The warm digest against the plain view, alternated ``rounds`` times: the judged
        ratio is of their medians. One pass each, seconds apart, swings with whatever else the
        machine does; alternating shares that drift, and five rounds keep one slow pass of
        either from deciding the median (docs/performance.md, "The warm share")."""
        urls = {name: report["pages"][name]["url"] for name in ("reference: plain view", "digest")}
        seen = {name: [] for name in urls}
        for _ in range(rounds):
            for name, url in urls.items():
                seen[name].append(self.run_wrk(wrk, port, url, {})["requests_per_second"])
        plain, digest = (statistics.median(seen[name]) for name in urls)
        ratio = round(digest / plain, 3) if plain else 0.0
        self.stdout.write(
            f"  paired, {rounds} rounds: plain {plain:.1f} req/s, digest {digest:.1f} req/s, "
            f"ratio {ratio:.3f}"
        )
        return {"rounds": rounds, "requests_per_second": seen, "ratio_to_plain": ratio}

    @staticmethod
    def http_get(port: int, url: str, headers: dict, timeout: float = 30) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", url, headers={"Host": "127.0.0.1", **headers})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def wait_for(self, port, url, process, log_path, *, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.http_get(port, url, {}, timeout=5) == 200:
                    return time.monotonic()
            if process.poll() is not None:
                tail = Path(log_path).read_text(errors="replace")[-2000:]
                raise CommandError(f"the server on port {port} exited:\n{tail}")
            time.sleep(0.05)
        raise CommandError(f"the server on port {port} did not answer {url} within {timeout} s")

    def run_wrk(self, wrk: str, port: int, url: str, headers: dict) -> dict:
        command = [
            wrk,
            "-t2",
            f"-c{self.options['connections']}",
            f"-d{max(1, round(self.duration))}s",
            "--timeout",
            "10s",
            "--latency",
        ]
        for header, value in headers.items():
            command += ["-H", f"{header}: {value}"]
        command.append(f"http://127.0.0.1:{port}{url}")
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=self.duration + 60, check=False
        )
        out = run.stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if run.returncode != 0 or not rps:
            raise CommandError(f"wrk failed on {url}: {run.stderr or out}")
        non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        socket = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        latency = re.search(r"\s50%\s+([\d.]+)(us|ms|s)\b", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        return {
            "requests_per_second": float(rps.group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "latency_p50_ms": round(float(latency.group(1)) * scale[latency.group(2)], 2)
            if latency
            else None,
            "errors": (int(non_2xx.group(1)) if non_2xx else 0)
            + (sum(int(n) for n in socket.groups()) if socket else 0),
        }

    def run_python_load(self, port: int, url: str, headers: dict) -> dict:
        """A small closed-loop load generator (used only when wrk is not installed)."""
        stop = time.monotonic() + self.duration
        latencies, errors, lock = [], [0], threading.Lock()

        def worker():
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    status = self.http_get(port, url, headers, timeout=10)
                except (OSError, http.client.HTTPException):
                    status = 0
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors[0] += 1

        threads = [threading.Thread(target=worker) for _ in range(self.options["connections"])]
        begun = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begun
        return {
            "requests_per_second": round(len(latencies) / elapsed, 1),
            "requests": len(latencies),
            "latency_p50_ms": round(statistics.median(latencies), 2) if latencies else None,
            "errors": errors[0],
        }

    # -- startup ------------------------------------------------------------------------

    def measure_startup(self) -> dict:
        """`make run` on an existing database, from starting it to its first 200 answer.
        Its own SQLite file under var/bench/ (make run loads the demo into its database)."""
        port = self.options["port"] + 1
        database = self.out_dir / "startup.sqlite3"
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
        env.update(DATABASE_URL=f"sqlite:///{database}", REDIS_URL="")
        command = ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"]
        if not shutil.which("make"):
            return {"skipped": True, "reason": "make is not installed"}
        runs = []
        for attempt in ("prepare", "timed"):  # the first run creates and migrates the database
            log = tempfile.NamedTemporaryFile(prefix="bench-run-", suffix=".log", delete=False)
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                answered = self.wait_for(port, "/", process, log.name, timeout=300)
                runs.append((attempt, answered - started))
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                log.close()
                Path(log.name).unlink(missing_ok=True)
            time.sleep(0.5)  # the port is free again
        seconds = dict(runs)
        self.stdout.write(
            f"== startup: `make run` to first 200 on an existing database: "
            f"{seconds['timed']:.2f} s (first run, creating it: {seconds['prepare']:.1f} s)"
        )
        return {
            "command": " ".join(command),
            "database": str(database),
            "seconds_to_first_response": round(seconds["timed"], 2),
            "first_run_seconds": round(seconds["prepare"], 2),
        }

    # -- report -------------------------------------------------------------------------

    def machine(self) -> dict:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
            else:
                cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
        return {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "database": f"{connection.vendor} {version}",
            "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            "load_average_before": round(os.getloadavg()[0], 2),
        }

    def targets(self, report: dict) -> list[dict]:
        pages = report["pages"]
        sizes = [str(s["papers"]) for s in report["sizes"]]
        full = sizes[-1]
        at_target = int(full) >= TARGET_SIZE
        rows = []

        def add(name, target, value, passed, note="", *, stress=False):
            # A stress figure (every cache empty) is shown against the same goal but is
            # not one of the issue's targets: "within" or "over" rather than pass or fail.
            row = {"target": name, "goal": target, "value": value, "pass": passed, "note": note}
            if stress:
                row.update({"pass": None, "stress": None if passed is None else bool(passed)})
            rows.append(row)

        def p50(name, mode="cold", size=full):
            return pages[name]["in_process"][size][mode]["p50_ms"]

        def ratio_of(name, mode):
            """The page's p50 over the template's: the template timed beside it when it was
            (paired), else the one warm run of the template at the start."""
            figures = pages[name]["in_process"][full][mode]
            reference = figures.get("paired_template_p50_ms") or p50(
                "reference: static template", "warm"
            )
            return figures["p50_ms"] / reference

        http = report.get("http", {})
        if http.get("pages"):
            share = http.get("paired", http["pages"]["digest"])["ratio_to_plain"]
            add(
                "warm digest req/s ÷ plain req/s",
                f"≥ {TARGET_WARM_DIGEST_RPS_SHARE:.2f}",
                share,
                share >= TARGET_WARM_DIGEST_RPS_SHARE,
                f"medians of the digest and the plain view alternated {http['paired']['rounds']} "
                "times"
                if "paired" in http
                else "",
            )
        else:
            add("warm digest req/s ÷ plain req/s", "≥ 0.50", None, None, "HTTP load skipped")
        ratio = round(ratio_of("digest", "page-cold"), 3)
        add(
            "cold digest (after a change) ÷ static template",
            f"≤ {TARGET_COLD_DIGEST_TEMPLATE_RATIO:.1f}",
            ratio,
            ratio <= TARGET_COLD_DIGEST_TEMPLATE_RATIO,
            "page cache cold: a new generation before each request (another reader "
            "loaded the home page since), the page rendered and stored from its papers' "
            "cached blocks, as the issue's remedies (per-entry fragments) intend",
        )
        ratio = round(ratio_of("digest", "cold"), 3)
        add(
            "digest, every cache empty ÷ static template",
            f"≤ {TARGET_EMPTY_DIGEST_TEMPLATE_RATIO:.1f}",
            ratio,
            ratio <= TARGET_EMPTY_DIGEST_TEMPLATE_RATIO,
            "page, papers' blocks and site settings all gone, as after a cache flush or a "
            "first deploy",
        )
        public = [name for name, kind, _g in PAGES if kind == "public"]
        worst = max(pages[n]["in_process"][full]["cold"]["queries"] for n in public)
        add(
            "queries per public page (cold, most)",
            f"≤ {TARGET_MAX_QUERIES}",
            worst,
            worst <= TARGET_MAX_QUERIES,
        )
        differ = [
            n
            for n in public
            for mode in ("warm", "cold")
            if len({pages[n]["in_process"][s][mode]["queries"] for s in sizes}) > 1
        ]
        add(
            f"same query counts at {' and '.join(f'{int(s):,}' for s in sizes)} papers",
            "identical",
            "identical" if not differ else "differ: " + ", ".join(sorted(set(differ))),
            not differ if len(sizes) > 1 else None,
            "" if len(sizes) > 1 else "one size only",
        )
        note = "" if at_target else f"measured at {int(full):,} papers, not {TARGET_SIZE:,}"
        for group, label, goal in (
            ("list", "filtered list p50", TARGET_LIST_MS),
            ("search", "search p50", TARGET_SEARCH_MS),
        ):
            for mode, what in (
                ("page-cold", "after a change, slowest"),
                ("cold", "every cache empty, slowest"),
            ):
                slowest = max(
                    (n for n, _k, g in PAGES if g == group), key=lambda n: ratio_of(n, mode)
                )
                value = p50(slowest, mode)
                # The issue set its targets on a machine where the static template took
                # 4.8 ms, and asks for figures as ratios to the references of the same run
                # "so a noisy machine does not fool anyone": the goal is judged as that
                # multiple of the template timed beside each page (here it took 7.5 to 24 ms
                # from one run to the next); the milliseconds are the value, shown alongside.
                ratio, allowed = ratio_of(slowest, mode), goal / ISSUE_TEMPLATE_MS
                scaled = f"{ratio:.2f}× the template timed beside it ({slowest}), against "
                scaled += f"{allowed:.2f}× "
                scaled += f"({goal:g} ms where the issue's template took {ISSUE_TEMPLATE_MS} ms)"
                passed = ratio <= allowed if at_target else None
                add(
                    f"{label} ({what})",
                    f"≤ {allowed:.2f}× tmpl",
                    value,
                    passed,
                    note or scaled,
                    stress=mode == "cold",
                )
        value = p50("admin: paper changelist", "warm")
        add(
            "admin paper changelist p50",
            f"≤ {TARGET_ADMIN_CHANGELIST_MS:g} ms",
            value,
            value <= TARGET_ADMIN_CHANGELIST_MS if at_target else None,
            note,
        )
        startup = report.get("startup", {})
        seconds = startup.get("seconds_to_first_response")
        add(
            "`make run` on an existing database to first response",
            f"≤ {TARGET_STARTUP_S:g} s",
            seconds,
            None if seconds is None else seconds <= TARGET_STARTUP_S,
            "" if seconds is not None else "skipped",
        )
        return rows

    def print_report(self, report: dict):
        sizes = [str(s["papers"]) for s in report["sizes"]]
        full = sizes[-1]
        pages = report["pages"]
        template = pages["reference: static template"]["in_process"][full]["warm"]["p50_ms"]
        http = report.get("http", {}).get("pages", {})
        machine = report["machine"]
        w = self.stdout.write
        w("")
        w(
            f"Page benchmark, {report['measured_at']} — {machine['database']}, "
            f"{machine['cpus']} CPUs, Python {machine['python']}, Django {machine['django']}; "
            + ", ".join(
                f"{s['papers']:,} papers / {s['digests']:,} digests" for s in report["sizes"]
            )
        )
        w(f"command: {report['command']}")
        w(
            f"in-process ms per request at {int(full):,} papers (p50, p95); ÷tmpl = time ÷ the "
            f"static template's ({template:.2f} ms); queries cold (warm) at "
            + " → ".join(f"{int(s):,}" for s in sizes)
            + "; req/s under HTTP load, ÷plain = ÷ the plain view's req/s"
        )
        header = (
            f"{'page':30} {'warm p50':>9} {'p95':>7} {'÷tmpl':>6} {'cold p50':>9} {'p95':>7} "
            f"{'÷tmpl':>6} {'chg p50':>9} {'queries':>14} {'KB':>7} {'req/s':>8} {'÷plain':>7}"
        )
        w(header)
        w("-" * len(header))
        for name, _kind, _group in PAGES:
            runs = pages[name]["in_process"]
            warm = runs[full]["warm"]
            cold = runs[full].get("cold")
            view = runs[full].get("page-cold")
            counts = " → ".join(
                f"{runs[s]['cold']['queries']}({runs[s]['warm']['queries']})"
                if "cold" in runs[s]
                else f"{runs[s]['warm']['queries']}"
                for s in sizes
            )
            h = http.get(name)
            w(
                f"{pad(name, 30)} {warm['p50_ms']:9.2f} {warm['p95_ms']:7.2f} "
                f"{warm['p50_ms'] / template:6.2f} "
                + (
                    f"{cold['p50_ms']:9.2f} {cold['p95_ms']:7.2f} {cold['p50_ms'] / template:6.2f} "
                    if cold
                    else f"{'':9} {'':7} {'':6} "
                )
                + (f"{view['p50_ms']:9.2f} " if view else f"{'':9} ")
                + f"{counts:>14} {warm['bytes'] / 1024:7.1f} "
                + (f"{h['requests_per_second']:8.0f} {h['ratio_to_plain']:7.3f}" if h else "")
            )
        w("")
        w("Targets (issue 7):")
        for row in report["targets"]:
            verdict = _verdict(row, {True: "PASS", False: "FAIL"})
            value = "n/a" if row["value"] is None else row["value"]
            note = f"  ({row['note']})" if row["note"] else ""
            w(f"  {verdict:6}  {row['target']:52} {row['goal']:>10}  got {value}{note}")
        hidden = report["checks"]["unpublished_digests_hidden"]
        w(
            "Unpublished digests hidden from readers: "
            + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in hidden.items())
        )
        for size in report["sizes"]:
            if size["generation_seconds"]:
                w(
                    f"Generated {size['papers']:,} papers / {size['digests']:,} digests in "
                    f"{size['generation_seconds']:.0f} s"
                )
        for papers, figures in report.get("readership", {}).items():
            w(f"{int(papers):,} papers. " + self.readership_line(figures))
        if "mail" in report:
            w(self.mail_line(report["mail"]))
        w(
            f"Load average {machine['load_average_before']} → {machine['load_average_after']} "
            "(the machine may be shared: compare ratios, not absolute figures)"
        )

    @staticmethod
    def markdown(report: dict) -> str:
        """The run as Markdown, for docs/performance.md."""
        sizes = [str(s["papers"]) for s in report["sizes"]]
        full = sizes[-1]
        machine = report["machine"]
        http = report.get("http", {}).get("pages", {})
        lines = [
            f"Measured {report['measured_at']} with `{report['command']}`: "
            f"{machine['database']}, {machine['cpus']} CPUs ({machine['platform']}), "
            f"Python {machine['python']}, Django {machine['django']}, cache "
            f"{machine['cache']}; load average {machine['load_average_before']} before, "
            f"{machine['load_average_after']} after. Data: "
            + ", ".join(
                f"{s['papers']:,} papers / {s['digests']:,} digests" for s in report["sizes"]
            )
            + f". In-process times in ms at {int(full):,} papers; queries cold (warm) at "
            + " → ".join(f"{int(s):,}" for s in sizes)
            + " papers.",
            "",
            "| page | warm p50 | warm p95 | ÷ tmpl | cold p50 | cold p95 | ÷ tmpl "
            "| after a change p50 | queries | KB | req/s | ÷ plain |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, _kind, _group in PAGES:
            runs = report["pages"][name]["in_process"]
            warm, cold = runs[full]["warm"], runs[full].get("cold")
            view = runs[full].get("page-cold")
            counts = " → ".join(
                f"{runs[s]['cold']['queries']} ({runs[s]['warm']['queries']})"
                if "cold" in runs[s]
                else str(runs[s]["warm"]["queries"])
                for s in sizes
            )
            h = http.get(name)
            cells = [
                name,
                f"{warm['p50_ms']:.2f}",
                f"{warm['p95_ms']:.2f}",
                f"{warm['ratio_to_template']:.2f}",
                f"{cold['p50_ms']:.2f}" if cold else "",
                f"{cold['p95_ms']:.2f}" if cold else "",
                f"{cold['ratio_to_template']:.2f}" if cold else "",
                f"{view['p50_ms']:.2f}" if view else "",
                counts,
                f"{warm['bytes'] / 1024:.1f}",
                f"{h['requests_per_second']:.0f}" if h else "",
                f"{h['ratio_to_plain']:.3f}" if h else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "| target | goal | got | verdict |", "|---|---|---|---|"]
        for row in report["targets"]:
            verdict = _verdict(row, {True: "pass", False: "**fail**"})
            value = "n/a" if row["value"] is None else row["value"]
            note = f" ({row['note']})" if row["note"] else ""
            lines.append(f"| {row['target']} | {row['goal']} | {value}{note} | {verdict} |")
        generated = [
            f"{s['papers']:,} papers / {s['digests']:,} digests in {s['generation_seconds']:.0f} s"
            for s in report["sizes"]
            if s["generation_seconds"]
        ]
        if generated:
            lines += ["", "Generated in this run: " + "; ".join(generated) + "."]
        return "\n".join(lines) + "\n"

    def write(self, report: dict):
        stamp = report["measured_at"].replace(":", "").replace("+0000", "Z")
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        path = self.out_dir / f"bench-{stamp}.json"
        path.write_text(text, encoding="utf-8")
        (self.out_dir / "latest.json").write_text(text, encoding="utf-8")
        (self.out_dir / "latest.md").write_text(self.markdown(report), encoding="utf-8")
        self.stdout.write(f"written {path} and {self.out_dir / 'latest.json'}")
