"""The roll-ups of the daily readership rows (readership/rollups.py): always the exact sums of
the daily rows, through the worker's writes (a day written late, across a month's end), the
pruning of old rows, a page deleted and the rebuild command; and the analytics page's tables
are the same read through them as read from the daily rows alone."""

import datetime
import io
import random
import zoneinfo
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.test import Client

from readership import counting, reports, rollups, writing
from readership.models import (
    DigestDay,
    DigestMonth,
    EntryDay,
    EntryMonth,
    ReferrerDay,
    ReferrerMonth,
    SearchDay,
    SearchMonth,
    SiteDay,
)
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/128.0"
TODAY = datetime.date(2026, 3, 10)


def expected() -> dict:
    """Every roll-up row, added up in Python from the daily rows."""
    result = {}
    for rollup in rollups.ROLLUPS.values():
        rows: dict = {}
        for row in rollups.model(rollup.day_model).objects.all():
            key = (getattr(row, rollup.key), row.day.replace(day=1))
            sums = [getattr(row, name) for name in rollup.sums]
            maxima = [getattr(row, name) for name in rollup.maxima]
            if key in rows:
                old = rows[key]
                sums = [a + b for a, b in zip(old[: len(sums)], sums, strict=True)]
                maxima = [max(a, b) for a, b in zip(old[len(sums) :], maxima, strict=True)]
            rows[key] = (*sums, *maxima)
        result[rollup.month_model] = rows
    site: dict = defaultdict(lambda: (0, 0))
    for model in (DigestDay, EntryDay):
        for row in model.objects.all():
            views, readers = site[row.day]
            site[row.day] = (views + row.views, readers + row.readers)
    result["SiteDay"] = dict(site)
    return result


def stored() -> dict:
    result = {}
    for rollup in rollups.ROLLUPS.values():
        rows = rollups.model(rollup.month_model).objects.values_list(
            rollup.key, "month", *rollup.figures
        )
        result[rollup.month_model] = {(key, month): tuple(f) for key, month, *f in rows}
    result["SiteDay"] = {
        day: (views, readers)
        for day, views, readers in SiteDay.objects.values_list("day", "views", "readers")
    }
    return result


def assert_rollups_match():
    want, have = expected(), stored()
    for name in want:
        assert have.get(name, {}) == want[name], name


def fill(today=TODAY, days=400, seed=3):
    """``days`` of daily rows (some pages not read on some days) for three digests of three
    papers each, with tags, referrers and searches whose results change from day to day."""
    rng = random.Random(seed)
    digests = [factories.digest(title=f"AI前沿推介({n})", entries=3) for n in range(3)]
    entries = [entry for digest in digests for entry in digest.entries.all()]
    for n, entry in enumerate(entries):
        entry.tags.add(["强化学习", "大模型", "推理"][n % 3], *(["蒸馏"] if n % 2 else []))
    for age in range(days):
        day = today - datetime.timedelta(days=age)
        for digest in digests:
            if rng.random() < 0.8:
                DigestDay.objects.create(
                    digest=digest, day=day, views=rng.randint(1, 50), readers=rng.randint(1, 20)
                )
        for entry in entries:
            if rng.random() < 0.7:
                EntryDay.objects.create(
                    entry=entry, day=day, views=rng.randint(1, 30), readers=rng.randint(1, 10)
                )
        for domain in ("zhihu.com", "weibo.com", "x.com"):
            if rng.random() < 0.5:
                ReferrerDay.objects.create(day=day, domain=domain, readers=rng.randint(1, 9))
        for terms in ("强化学习", "量子引力", "多模态推理", "=cmd"):
            if rng.random() < 0.5:
                SearchDay.objects.create(
                    day=day, terms=terms, searches=rng.randint(1, 9), results=rng.choice([0, 0, 3])
                )
    return digests, entries


def test_the_rebuild_command_makes_every_rollup_the_sum_of_its_days():
    fill()
    out = io.StringIO()
    call_command("build_readership_rollups", stdout=out)
    assert "EntryMonth: 126 row(s)" in out.getvalue()  # 9 papers, 2025-02 to 2026-03
    assert_rollups_match()
    assert EntryMonth.objects.filter(month=datetime.date(2026, 3, 1)).exists()
    call_command("build_readership_rollups", stdout=io.StringIO())  # again: the same
    assert_rollups_match()


@pytest.mark.parametrize(
    "today",
    [TODAY, datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), datetime.date(2026, 3, 1)],
)
def test_the_rolled_up_reports_equal_the_daily_ones(today):
    fill(today=today)
    rollups.rebuild()
    for days in reports.PERIODS:
        for grain in reports.GRAINS:
            rolled = reports.Period(days=days, grain=grain, today=today)
            daily = reports.Period(days=days, grain=grain, today=today, rolled=False)
            assert rolled.months() or days < 365  # a year always reads whole months
            for report in reports.READERSHIP_REPORTS:
                assert report(rolled).rows == report(daily).rows, (report.__name__, days, grain)


def test_a_month_wholly_inside_the_period_is_read_from_its_rollup():
    assert reports.Period(days=365, today=datetime.date(2026, 3, 10)).months() == [
        datetime.date(2025, month, 1) for month in range(4, 13)
    ] + [datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)]
    assert reports.Period(days=31, today=datetime.date(2026, 3, 31)).months() == [
        datetime.date(2026, 3, 1)
    ]
    assert reports.Period(days=30, today=datetime.date(2026, 3, 31)).months() == []
    assert reports.Period(days=365, today=datetime.date(2026, 3, 31), rolled=False).months() == []


def test_the_worker_keeps_them_equal_across_a_months_end_and_a_day_written_late(time_machine):
    def read(n):
        response = Client().get(url, REMOTE_ADDR=f"198.51.100.{n}", HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200

    def at(moment):
        time_machine.move_to(moment, tick=False)

    at(datetime.datetime(2026, 3, 31, 23, 57, 5, tzinfo=SHANGHAI))
    digest = factories.digest(entries=1)
    url = digest.get_absolute_url()
    read(1)
    at(datetime.datetime(2026, 3, 31, 23, 58, 5 + counting.GRACE_SECONDS, tzinfo=SHANGHAI))
    assert writing.write_counts() == 1, list(DigestDay.objects.values_list("day", "views"))
    assert_rollups_match()
    march = DigestMonth.objects.get(digest=digest, month=datetime.date(2026, 3, 1))
    assert (march.views, march.readers) == (1, 1)
    read(2)  # the month's last minute: its batch is written after midnight
    at(datetime.datetime(2026, 4, 1, 0, 0, 5, tzinfo=SHANGHAI))
    read(3)  # April
    at(datetime.datetime(2026, 4, 1, 0, 1, 5 + counting.GRACE_SECONDS, tzinfo=SHANGHAI))
    assert writing.write_counts() == 2
    assert_rollups_match()
    march = DigestMonth.objects.get(digest=digest, month=datetime.date(2026, 3, 1))
    assert (march.views, march.readers) == (2, 2)
    april = DigestMonth.objects.get(digest=digest, month=datetime.date(2026, 4, 1))
    assert (april.views, april.readers) == (1, 1)
    assert SiteDay.objects.get(day=datetime.date(2026, 3, 31)).readers == 2


def test_searches_keep_the_most_results_of_their_month_when_a_day_is_rewritten():
    day = datetime.date(2026, 3, 5)
    SearchDay.objects.create(day=day, terms="强化学习", searches=2, results=7)
    SearchDay.objects.create(day=day + datetime.timedelta(days=1), terms="强化学习", results=2)
    rollups.refresh({"search": {("强化学习", day)}})
    assert SearchMonth.objects.get().results == 7
    SearchDay.objects.filter(day=day).update(results=0)  # the last search found less
    rollups.refresh({"search": {("强化学习", day)}})
    assert_rollups_match()
    assert SearchMonth.objects.get().results == 2


@pytest.mark.parametrize("retention", [30, 100, 365])
def test_pruning_keeps_them_the_sum_of_the_days_left(settings, retention):
    settings.READERSHIP_RETENTION_DAYS = retention
    fill(days=420)
    rollups.rebuild()
    assert writing.prune(today=TODAY) > 0
    assert_rollups_match()
    cutoff = TODAY - datetime.timedelta(days=retention)
    assert not DigestMonth.objects.filter(month__lt=cutoff.replace(day=1)).exists()
    assert not SiteDay.objects.filter(day__lt=cutoff).exists()
    assert ReferrerMonth.objects.exists()


def test_a_deleted_page_leaves_the_sites_days():
    digests, entries = fill(days=40)
    rollups.rebuild()
    entries[0].delete()
    assert_rollups_match()
    digests[1].delete()
    assert_rollups_match()
