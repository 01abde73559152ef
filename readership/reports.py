"""What the analytics page shows: each report is a table (columns and rows); its chart
(readership/charts.py) and its CSV are drawn from the same rows, so they always agree.

A period is the last 7, 30 or 365 days (site time) by day, week or month. Each report is a
fixed number of grouped queries over the daily rows, whatever the period or the data size.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comments.models import Comment
from papers.models import Entry, Paper, TaggedEntry
from readership.models import DigestDay, EntryDay, ReferrerDay, SearchDay

PERIODS = (7, 30, 365)
GRAINS = {"day": _("by day"), "week": _("by week"), "month": _("by month")}
TOP = 10


@dataclass(frozen=True)
class Period:
    """The last ``days`` days up to ``today``, in buckets of a ``grain``."""

    days: int = 30
    grain: str = "day"
    today: datetime.date = field(default_factory=timezone.localdate)

    @classmethod
    def from_query(cls, query) -> Period:
        """From ``?days=&grain=``; anything else falls back to 30 days by day."""
        try:
            days = int(query.get("days", 30))
        except (TypeError, ValueError):
            days = 30
        grain = query.get("grain", "day")
        return cls(days=days if days in PERIODS else 30, grain=grain if grain in GRAINS else "day")

    @property
    def start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=self.days - 1)

    def days_in(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=n) for n in range(self.days)]

    def bucket(self, day: datetime.date) -> datetime.date:
        if self.grain == "week":
            return day - datetime.timedelta(days=day.weekday())
        if self.grain == "month":
            return day.replace(day=1)
        return day

    def buckets(self) -> list[datetime.date]:
        return sorted({self.bucket(day) for day in self.days_in()})

    def label(self, bucket: datetime.date) -> str:
        return bucket.strftime("%Y-%m" if self.grain == "month" else "%Y-%m-%d")


@dataclass
class Report:
    """One table of the analytics page; ``chart`` is "line" (the first column is the time,
    the others series) or "bar" (the first column names, the second counts)."""

    name: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    chart: str = "bar"
    note: str = ""


def _series(period: Period, per_day: dict[datetime.date, tuple]) -> list[tuple]:
    """Rows of (bucket label, sums...) for every bucket of the period, zeros included."""
    width = len(next(iter(per_day.values()), (0,)))
    sums: dict[datetime.date, list[int]] = {b: [0] * width for b in period.buckets()}
    for day, values in per_day.items():
        bucket = sums.get(period.bucket(day))
        if bucket is not None:
            for i, value in enumerate(values):
                bucket[i] += value or 0
    return [(period.label(b), *values) for b, values in sorted(sums.items())]


def views_over_time(period: Period) -> Report:
    per_day: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    for model in (DigestDay, EntryDay):
        rows = (
            model.objects.filter(day__gte=period.start, day__lte=period.today)
            .values("day")
            .annotate(views=Sum("views"), readers=Sum("readers"))
            .order_by()
        )
        for row in rows:
            per_day[row["day"]][0] += row["views"]
            per_day[row["day"]][1] += row["readers"]
    return Report(
        "views",
        _("Views over time"),
        [_("period"), _("page views"), _("readers")],
        _series(period, {d: tuple(v) for d, v in per_day.items()} or {period.today: (0, 0)}),
        chart="line",
        note=_("Digest and paper pages. Readers: distinct readers of a page on a day (人气)."),
    )


def _in(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.today)


def top_digests(period: Period) -> Report:
    rows = (
        DigestDay.objects.filter(_in(period))
        .values("digest__title", "digest__issue_date")
        .annotate(readers=Sum("readers"), views=Sum("views"))
        .order_by("-readers", "-views", "digest__title")[:TOP]
    )
    return Report(
        "digests",
        _("Top digests"),
        [_("digest"), _("readers"), _("page views")],
        [
            (f"{r['digest__title']} ({r['digest__issue_date']:%Y-%m-%d})", r["readers"], r["views"])
            for r in rows
        ],
    )


def _entry_figures(period: Period) -> tuple[dict, list, list]:
    return _entry_figures_of_minute(period, int(time.time() // 60))


@lru_cache(maxsize=4)
def _entry_figures_of_minute(period: Period, minute: int) -> tuple[dict, list, list]:
    """Readers and views of each entry read in the period (one grouped query over the daily
    rows alone), what each entry is (paper, category), and its tags: the three reports below
    add these up, instead of grouping every daily row through joins. Computed once a minute
    per period and process, for the three."""
    rows = EntryDay.objects.filter(_in(period))
    sums = {
        pk: (readers, views)
        for pk, readers, views in rows.values("entry_id")
        .annotate(readers=Sum("readers"), views=Sum("views"))
        .order_by()
        .values_list("entry_id", "readers", "views")
    }
    ids = sorted(sums)
    entries, tags = [], []
    for start in range(0, len(ids), 5000):  # within every database's limit of parameters
        chunk = ids[start : start + 5000]
        entries += Entry.objects.filter(pk__in=chunk).values_list(
            "pk", "paper_id", "paper__primary_category__code"
        )
        tags += TaggedEntry.objects.filter(content_object_id__in=chunk).values_list(
            "content_object_id", "tag__name"
        )
    return sums, entries, tags


def _ranked(totals: dict) -> list:
    """The ``TOP`` largest (readers, views) totals, by readers, then views, then name."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], -item[1][1], str(item[0])))
    return ordered[:TOP]


def _add(totals: dict, key, figures: tuple) -> None:
    readers, views = totals.get(key, (0, 0))
    totals[key] = (readers + figures[0], views + figures[1])


def top_papers(period: Period) -> Report:
    sums, entries, _tags = _entry_figures(period)
    totals: dict = {}
    for pk, paper_id, _category in entries:
        _add(totals, paper_id, sums.get(pk, (0, 0)))
    top = _ranked(totals)
    papers = Paper.objects.in_bulk([pk for pk, _ in top])
    return Report(
        "papers",
        _("Top papers"),
        [_("paper"), _("readers"), _("page views")],
        [
            (
                f"{papers[pk].title[:60]} [{papers[pk].arxiv_id or papers[pk].source_url}]",
                readers,
                views,
            )
            for pk, (readers, views) in top
            if pk in papers
        ],
    )


def top_tags(period: Period) -> Report:
    sums, _entries, tags = _entry_figures(period)
    totals: dict = {}
    for entry_id, name in tags:
        _add(totals, name, sums.get(entry_id, (0, 0)))
    return Report(
        "tags",
        _("Top tags"),
        [_("tag"), _("readers"), _("page views")],
        [(name, readers, views) for name, (readers, views) in _ranked(totals)],
        note=_("Readers of the papers carrying each tag."),
    )


def top_categories(period: Period) -> Report:
    sums, entries, _tags = _entry_figures(period)
    totals: dict = {}
    for pk, _paper, category in entries:
        if category:
            _add(totals, category, sums.get(pk, (0, 0)))
    return Report(
        "categories",
        _("Top categories"),
        [_("category"), _("readers"), _("page views")],
        [(code, readers, views) for code, (readers, views) in _ranked(totals)],
    )


def top_referrers(period: Period) -> Report:
    rows = (
        ReferrerDay.objects.filter(_in(period))
        .values("domain")
        .annotate(readers=Sum("readers"))
        .order_by("-readers", "domain")[:TOP]
    )
    return Report(
        "referrers",
        _("Top referring sites"),
        [_("site"), _("readers")],
        [(r["domain"], r["readers"]) for r in rows],
    )


def _searches(period: Period):
    return (
        SearchDay.objects.filter(_in(period))
        .values("terms")
        .annotate(searches=Sum("searches"), results=Max("results"))
    )


def top_searches(period: Period) -> Report:
    rows = _searches(period).order_by("-searches", "terms")[:TOP]
    return Report(
        "searches",
        _("Top searches"),
        [_("search terms"), _("searches"), _("results")],
        [(r["terms"], r["searches"], r["results"]) for r in rows],
    )


def zero_result_searches(period: Period) -> Report:
    rows = _searches(period).filter(results=0).order_by("-searches", "terms")[:TOP]
    return Report(
        "no-results",
        _("Searches that found nothing"),
        [_("search terms"), _("searches"), _("results")],
        [(r["terms"], r["searches"], r["results"]) for r in rows],
        note=_("What readers looked for and did not find: topics to cover, or words to add."),
    )


def comments_over_time(period: Period) -> Report:
    """Comments posted, and the moderation backlog at the end of each bucket: today's
    backlog, walked back day by day (a day's arrivals added it, its decisions took from it)."""
    start = timezone.make_aware(datetime.datetime.combine(period.start, datetime.time.min))
    waited = Q(status=Comment.Status.PENDING) | Q(moderated_at__isnull=False)
    posted = dict(
        Comment.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    arrived = dict(
        Comment.objects.filter(waited, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    decided = dict(
        Comment.objects.filter(moderated_at__gte=start)
        .annotate(day=TruncDate("moderated_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    backlog_now = Comment.objects.filter(status=Comment.Status.PENDING).count()
    backlog = {}
    level = backlog_now
    for day in reversed(period.days_in()):
        backlog[day] = level
        level = level - arrived.get(day, 0) + decided.get(day, 0)
    rows = []
    for bucket_row in _series(period, {d: (posted.get(d, 0),) for d in period.days_in()}):
        rows.append(bucket_row)
    last_day = {}
    for day in period.days_in():
        last_day[period.bucket(day)] = backlog[day]
    rows = [(*row, last_day[b]) for row, b in zip(rows, period.buckets(), strict=True)]
    return Report(
        "comments",
        _("Comments and moderation backlog"),
        [_("period"), _("comments posted"), _("waiting for moderation")],
        rows,
        chart="line",
    )


READERSHIP_REPORTS = (
    views_over_time,
    top_digests,
    top_papers,
    top_tags,
    top_categories,
    top_referrers,
    top_searches,
    zero_result_searches,
    comments_over_time,
)
