"""What the analytics page shows: each report is a table (columns and rows); its chart
(readership/charts.py) and its CSV are drawn from the same rows, so they always agree.

A period is the last 7, 30 or 365 days (site time) by day, week or month. Each report is a
fixed number of grouped queries, whatever the period or the data size: over the roll-ups
(readership/rollups.py) for the months wholly inside the period and the site's days, over the
daily rows for the days at its ends. ``Period(rolled=False)`` reads the daily rows alone (the
tests prove both give the same tables).
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comments.models import Comment
from papers.models import Entry, Paper, TaggedEntry
from readership import rollups
from readership.models import DigestDay, EntryDay, SiteDay

PERIODS = (7, 30, 365)
GRAINS = {"day": _("by day"), "week": _("by week"), "month": _("by month")}
TOP = 10


@dataclass(frozen=True)
class Period:
    """The last ``days`` days up to ``today``, in buckets of a ``grain``."""

    days: int = 30
    grain: str = "day"
    today: datetime.date = field(default_factory=timezone.localdate)
    rolled: bool = True

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

    def months(self) -> list[datetime.date]:
        """The months lying wholly inside the period (their first days), read from the
        roll-ups; none when ``rolled`` is off."""
        if not self.rolled:
            return []
        month = rollups.month_of(self.start)
        if month < self.start:
            month = rollups.month_end(month) + datetime.timedelta(days=1)
        months = []
        while rollups.month_end(month) <= self.today:
            months.append(month)
            month = rollups.month_end(month) + datetime.timedelta(days=1)
        return months

    def parts(self, kind: str) -> list:
        """The querysets whose rows add up to the period for ``kind`` (readership/rollups.py):
        the monthly rows of its whole months, the daily rows of the days left."""
        rollup = rollups.ROLLUPS[kind]
        day_model = rollups.model(rollup.day_model)
        months = self.months()
        if not months:
            return [day_model.objects.filter(day__gte=self.start, day__lte=self.today)]
        inside = Q(day__gte=self.start, day__lt=months[0])
        inside |= Q(day__gt=rollups.month_end(months[-1]), day__lte=self.today)
        return [
            rollups.model(rollup.month_model).objects.filter(
                month__gte=months[0], month__lte=months[-1]
            ),
            day_model.objects.filter(inside),
        ]


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


def _summed(period: Period, kind: str, group: tuple[str, ...]) -> dict[tuple, list[int]]:
    """The period's figures of ``kind`` (its roll-up's sums, then maxima) per ``group``."""
    rollup = rollups.ROLLUPS[kind]
    names = [f"sum_{name}" for name in rollup.sums] + [f"max_{name}" for name in rollup.maxima]
    totals: dict[tuple, list[int]] = {}
    for rows in period.parts(kind):
        grouped = (
            rows.values(*group)
            .annotate(**rollup.aggregates())
            .order_by()
            .values_list(*group, *names)
        )
        for row in grouped:
            key, figures = row[: len(group)], row[len(group) :]
            total = totals.get(key)
            if total is None:
                totals[key] = list(figures)
                continue
            for i, value in enumerate(figures):
                total[i] = total[i] + value if i < len(rollup.sums) else max(total[i], value)
    return totals


def _top(totals: dict, order) -> list:
    """The ``TOP`` rows of ``totals`` (key + figures) by ``order`` of such a row."""
    return sorted(((*key, *figures) for key, figures in totals.items()), key=order)[:TOP]


def views_over_time(period: Period) -> Report:
    per_day: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    if period.rolled:
        rows = SiteDay.objects.filter(day__gte=period.start, day__lte=period.today)
        for day, views, readers in rows.values_list("day", "views", "readers"):
            per_day[day] = [views, readers]
    for model in () if period.rolled else (DigestDay, EntryDay):
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


def top_digests(period: Period) -> Report:
    totals = _summed(period, "digest", ("digest__title", "digest__issue_date"))
    # (title, date, views, readers): by readers, then views, then title.
    rows = _top(totals, lambda row: (-row[3], -row[2], row[0]))
    return Report(
        "digests",
        _("Top digests"),
        [_("digest"), _("readers"), _("page views")],
        [
            (f"{title} ({issued:%Y-%m-%d})", readers, views)
            for title, issued, views, readers in rows
        ],
    )


def _entry_figures(period: Period) -> tuple[dict, list, list]:
    return _entry_figures_of_minute(period, int(time.time() // 60))


@lru_cache(maxsize=4)
def _entry_figures_of_minute(period: Period, minute: int) -> tuple[dict, list, list]:
    """Readers and views of each entry read in the period (a grouped query over its monthly
    and one over its daily rows), what each entry is (paper, category), and its tags (the
    entries read picked by the database, not sent as a list): the three reports below add
    these up, instead of grouping every row through joins. Computed once a minute per period
    and process, for the three."""
    sums = {
        pk: (readers, views)
        for (pk,), (views, readers) in _summed(period, "entry", ("entry_id",)).items()
    }
    entries = Entry.objects.filter(_read_in(period, "pk")).values_list(
        "pk", "paper_id", "paper__primary_category__code"
    )
    tags = TaggedEntry.objects.filter(_read_in(period, "content_object_id")).values_list(
        "content_object_id", "tag__name"
    )
    return sums, list(entries), list(tags)


def _read_in(period: Period, entry: str) -> Q:
    """Rows whose ``entry`` was read in the period: a probe of the unique (entry, day or
    month) index per row, which the databases run far faster than a list of the entries."""
    read = Q()
    for rows in period.parts("entry"):
        read |= Q(Exists(rows.filter(entry_id=OuterRef(entry))))
    return read


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
    totals = _summed(period, "referrer", ("domain",))
    return Report(
        "referrers",
        _("Top referring sites"),
        [_("site"), _("readers")],
        _top(totals, lambda row: (-row[1], row[0])),
    )


def _by_searches(row: tuple) -> tuple:
    return (-row[1], row[0])  # (terms, searches, results)


def top_searches(period: Period) -> Report:
    return Report(
        "searches",
        _("Top searches"),
        [_("search terms"), _("searches"), _("results")],
        _top(_summed(period, "search", ("terms",)), _by_searches),
    )


def zero_result_searches(period: Period) -> Report:
    totals = _summed(period, "search", ("terms",))
    return Report(
        "no-results",
        _("Searches that found nothing"),
        [_("search terms"), _("searches"), _("results")],
        _top({k: v for k, v in totals.items() if v[1] == 0}, _by_searches),
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
