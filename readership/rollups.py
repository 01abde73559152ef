"""Roll-ups of the daily rows: each page's, referrer's and search's month, and every page's day.

A roll-up row is always the sum of the daily rows it covers (searches: the most results of
its days), recomputed from them in SQL, never added to: the worker refreshes the months and
days it has just written (``refresh``, in the same transaction), ``prune`` follows the daily
rows' retention, and ``rebuild`` (``manage.py build_readership_rollups``, and the migration
that added them) makes them all anew. The analytics page (readership/reports.py) reads the
months lying wholly inside a period from here and only the days at its ends from the daily
rows.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps as installed_apps
from django.db.models import Max, Sum

CHUNK = 500  # keys per query, within every database's limit of parameters


@dataclass(frozen=True)
class Rollup:
    """Which daily rows add up into which monthly rows, per ``key``."""

    day_model: str
    month_model: str
    key: str
    sums: tuple[str, ...]
    maxima: tuple[str, ...] = ()

    @property
    def figures(self) -> tuple[str, ...]:
        return (*self.sums, *self.maxima)

    def aggregates(self) -> dict:
        """The figures' aggregates, named apart from the model's fields."""
        return {
            **{f"sum_{name}": Sum(name) for name in self.sums},
            **{f"max_{name}": Max(name) for name in self.maxima},
        }


ROLLUPS = {
    "digest": Rollup("DigestDay", "DigestMonth", "digest_id", ("views", "readers")),
    "entry": Rollup("EntryDay", "EntryMonth", "entry_id", ("views", "readers")),
    "referrer": Rollup("ReferrerDay", "ReferrerMonth", "domain", ("readers",)),
    "search": Rollup("SearchDay", "SearchMonth", "terms", ("searches",), ("results",)),
}
PAGE_KINDS = ("digest", "entry")  # what SiteDay adds up


def model(name: str, apps=installed_apps):
    return apps.get_model("readership", name)


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def refresh_month(kind: str, month: datetime.date, keys=None, *, apps=installed_apps) -> None:
    """Make ``month``'s roll-up rows of ``keys`` (or of every key) the sums of their days."""
    rollup = ROLLUPS[kind]
    day_model, month_model = model(rollup.day_model, apps), model(rollup.month_model, apps)
    days = day_model.objects.filter(day__gte=month, day__lte=month_end(month))
    months = month_model.objects.filter(month=month)
    keys = sorted(keys) if keys is not None else None
    chunks = [None] if keys is None else [keys[n : n + CHUNK] for n in range(0, len(keys), CHUNK)]
    names = [f"sum_{name}" for name in rollup.sums] + [f"max_{name}" for name in rollup.maxima]
    for chunk in chunks:
        these_days, these_months = days, months
        if chunk is not None:
            these_days = days.filter(**{f"{rollup.key}__in": chunk})
            these_months = months.filter(**{f"{rollup.key}__in": chunk})
        sums = (
            these_days.values(rollup.key)
            .annotate(**rollup.aggregates())
            .order_by()
            .values_list(rollup.key, *names)
        )
        rows = [
            month_model(
                month=month, **{rollup.key: key}, **dict(zip(rollup.figures, figures, strict=True))
            )
            for key, *figures in sums
        ]
        these_months.delete()
        month_model.objects.bulk_create(rows, batch_size=CHUNK)


def refresh_days(days: Iterable[datetime.date], *, apps=installed_apps) -> None:
    """Make the SiteDay rows of ``days`` the sums of those days' digest and paper rows."""
    days = sorted(set(days))
    site_day = model("SiteDay", apps)
    for start in range(0, len(days), CHUNK):
        chunk = days[start : start + CHUNK]
        totals: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
        for kind in PAGE_KINDS:
            rows = (
                model(ROLLUPS[kind].day_model, apps)
                .objects.filter(day__in=chunk)
                .values("day")
                .annotate(sum_views=Sum("views"), sum_readers=Sum("readers"))
                .order_by()
                .values_list("day", "sum_views", "sum_readers")
            )
            for day, views, readers in rows:
                totals[day][0] += views
                totals[day][1] += readers
        site_day.objects.filter(day__in=chunk).delete()
        site_day.objects.bulk_create(
            [
                site_day(day=day, views=views, readers=readers)
                for day, (views, readers) in totals.items()
            ],
            batch_size=CHUNK,
        )


def refresh(written: dict[str, set[tuple]]) -> None:
    """After the worker wrote daily rows: ``written`` holds, by kind, the (key, day) written."""
    page_days = set()
    for kind, pairs in written.items():
        by_month: dict[datetime.date, set] = defaultdict(set)
        for key, day in pairs:
            by_month[month_of(day)].add(key)
            if kind in PAGE_KINDS:
                page_days.add(day)
        for month, keys in sorted(by_month.items()):
            refresh_month(kind, month, keys)
    if page_days:
        refresh_days(page_days)


def prune(cutoff: datetime.date) -> int:
    """The daily rows before ``cutoff`` are gone: drop the roll-ups wholly before it, and make
    the month it falls in the sum of the days that are left. Returns the rows deleted."""
    deleted = model("SiteDay").objects.filter(day__lt=cutoff).delete()[0]
    for kind, rollup in ROLLUPS.items():
        deleted += model(rollup.month_model).objects.filter(month__lt=month_of(cutoff)).delete()[0]
        if cutoff.day != 1:
            refresh_month(kind, month_of(cutoff))
    return deleted


def rebuild(*, apps=installed_apps) -> dict[str, int]:
    """Every roll-up row anew from the daily rows; returns how many rows of each model."""
    made = {}
    for kind, rollup in ROLLUPS.items():
        month_model = model(rollup.month_model, apps)
        month_model.objects.all().delete()
        for month in model(rollup.day_model, apps).objects.dates("day", "month"):
            refresh_month(kind, month, apps=apps)
        made[rollup.month_model] = month_model.objects.count()
    site_day = model("SiteDay", apps)
    site_day.objects.all().delete()
    days = set()
    for kind in PAGE_KINDS:
        days.update(
            model(ROLLUPS[kind].day_model, apps).objects.values_list("day", flat=True).distinct()
        )
    refresh_days(days, apps=apps)
    made["SiteDay"] = site_day.objects.count()
    return made


def note_days(sender, instance, **kwargs) -> None:
    """Before a digest or paper page goes (its daily and monthly rows with it): the days
    whose SiteDay counts it."""
    kind = "digest" if sender._meta.model_name == "digest" else "entry"
    rows = model(ROLLUPS[kind].day_model).objects.filter(**{ROLLUPS[kind].key: instance.pk})
    instance._readership_days = set(rows.values_list("day", flat=True))


def refresh_noted_days(sender, instance, **kwargs) -> None:
    """After it went: those days without it."""
    days = getattr(instance, "_readership_days", None)
    if days:
        refresh_days(days)
