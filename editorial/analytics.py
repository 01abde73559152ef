"""The analytics page of the back office (``/admin/analytics/``): readership, searches,
comments and subscriptions over a period, each as a chart, a table and a CSV of that table.

The reports are computed ahead: the worker refreshes every period's snapshot
(``AnalyticsSnapshot``) every ``ANALYTICS_REFRESH_SECONDS`` (``refresh_analytics`` below),
and the page reads them, so it answers at once whatever the size of the archive; it says
when its figures were computed, and an editor can ask for them again.

Editors (``readership.view_analytics``) only: every view checks it. The reports come from
readership/reports.py, plus subscribers and sends here (editorial may read subscriptions).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from background.tasks import enqueue_periodic, enqueue_unless_due
from editorial.models import AnalyticsSnapshot
from papers.spreadsheets import csv_response
from readership import charts, reports
from readership.reports import Period, Report
from subscriptions.models import Delivery, Subscriber

PERMISSION = "readership.view_analytics"


def subscribers_over_time(period: Period) -> Report:
    """Confirmed subscribers at the end of each bucket (today's, walked back day by day),
    with the sign-ups confirmed and the subscriptions stopped in it."""
    start = timezone.make_aware(datetime.datetime.combine(period.start, datetime.time.min))

    def per_day(field, **where):
        return dict(
            Subscriber.objects.filter(**{f"{field}__gte": start}, **where)
            .annotate(day=TruncDate(field))
            .values("day")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("day", "n")
        )

    joined = per_day("confirmed_at")
    left = per_day("stopped_at", confirmed_at__isnull=False)
    level = Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED).count()
    at_end = {}
    for day in reversed(period.days_in()):
        at_end[period.bucket(day)] = at_end.get(period.bucket(day), level)
        level = level - joined.get(day, 0) + left.get(day, 0)
    rows = reports._series(
        period, {d: (joined.get(d, 0), left.get(d, 0)) for d in period.days_in()}
    )
    return Report(
        "subscribers",
        _("Subscribers"),
        [_("period"), _("new subscribers"), _("stopped subscribing"), _("subscribers")],
        [(*row, at_end[b]) for row, b in zip(rows, period.buckets(), strict=True)],
        chart="line",
    )


def sends_over_time(period: Period) -> Report:
    start = timezone.make_aware(datetime.datetime.combine(period.start, datetime.time.min))
    states = Delivery.State
    counts = (
        Delivery.objects.filter(sent_at__gte=start)
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(
            sent=Count("id", filter=Q(state=states.SENT)),
            failed=Count("id", filter=Q(state__in=[states.FAILED, states.BOUNCED])),
        )
        .order_by()
    )
    per_day = {row["day"]: (row["sent"], row["failed"]) for row in counts}
    return Report(
        "sends",
        _("Mail sent"),
        [_("period"), _("sent"), _("failed or bounced")],
        reports._series(period, {d: per_day.get(d, (0, 0)) for d in period.days_in()}),
        chart="line",
    )


REPORTS = {
    function.__name__: function
    for function in (*reports.READERSHIP_REPORTS, subscribers_over_time, sends_over_time)
}


def _allowed(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _labels(report: Report) -> dict:
    """The report's title, columns and note in each language of the site."""
    labels = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            labels[language] = {
                "title": str(report.title),
                "columns": [str(column) for column in report.columns],
                "note": str(report.note),
            }
    return labels


def refresh(periods=reports.PERIODS) -> int:
    """Compute every report for the last ``periods`` days and each grain, and store them as
    the page's snapshots (in one transaction: the page never mixes two computations). A bar
    report does not depend on the grain and is computed once per period; a line report (over
    time) once per grain. Returns the number of snapshots written."""
    today, now = timezone.localdate(), timezone.now()
    snapshots = []
    for days in periods:
        for name, function in REPORTS.items():
            by_day = function(Period(days=days, grain="day", today=today))
            for grain in reports.GRAINS:
                report = by_day
                if grain != "day" and by_day.chart == "line":
                    report = function(Period(days=days, grain=grain, today=today))
                snapshots.append(
                    AnalyticsSnapshot(
                        name=name,
                        anchor=report.name,
                        days=days,
                        grain=grain,
                        today=today,
                        computed_at=now,
                        chart=report.chart,
                        labels=_labels(report),
                        rows=[list(row) for row in report.rows],
                    )
                )
    with transaction.atomic():
        AnalyticsSnapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["days", "grain", "name"],
            update_fields=["anchor", "today", "computed_at", "chart", "labels", "rows"],
        )
        AnalyticsSnapshot.objects.exclude(name__in=REPORTS).delete()
    return len(snapshots)


@dataclass
class Snapshot:
    """The reports of one period as last computed: what the page shows."""

    period: Period
    computed_at: datetime.datetime
    reports: dict[str, Report]

    @property
    def stale(self) -> bool:
        """Older than two refreshes, or of another day: the worker has not refreshed it."""
        late = timezone.now() - self.computed_at > datetime.timedelta(
            seconds=2 * settings.ANALYTICS_REFRESH_SECONDS
        )
        return late or self.period.today != timezone.localdate()


def _report(snapshot: AnalyticsSnapshot, language: str) -> Report:
    labels = snapshot.labels.get(language) or snapshot.labels[settings.LANGUAGE_CODE]
    return Report(
        snapshot.anchor,
        labels["title"],
        labels["columns"],
        snapshot.rows,
        chart=snapshot.chart,
        note=labels["note"],
    )


def snapshot_for(period: Period, names=None) -> Snapshot:
    """The stored reports of ``period`` (all of them, or those ``names``). A period never
    computed (a new site, before the worker's first run) is computed now, once."""
    wanted = list(names or REPORTS)
    rows = AnalyticsSnapshot.objects.filter(days=period.days, grain=period.grain, name__in=wanted)
    stored = {snapshot.name: snapshot for snapshot in rows}
    if len(stored) < len(wanted):
        refresh(periods=[period.days])
        stored = {snapshot.name: snapshot for snapshot in rows.all()}
    language = translation.get_language() or settings.LANGUAGE_CODE
    oldest = min(stored.values(), key=lambda snapshot: snapshot.computed_at)
    return Snapshot(
        period=Period(days=period.days, grain=period.grain, today=oldest.today),
        computed_at=oldest.computed_at,
        reports={name: _report(stored[name], language) for name in wanted},
    )


def _one(request, name: str) -> tuple[Snapshot, Report]:
    _allowed(request)
    if name not in REPORTS:
        raise Http404
    snapshot = snapshot_for(Period.from_query(request.GET), names=[name])
    return snapshot, snapshot.reports[name]


def analytics_view(request):
    """The page: the period's choices, then each report's chart, table and CSV link."""
    _allowed(request)
    if request.method == "POST":
        return _refresh_now(request)
    snapshot = snapshot_for(Period.from_query(request.GET))
    period = snapshot.period
    context = {
        **_admin_context(request),
        "title": _("Readership analytics"),
        "period": period,
        "periods": reports.PERIODS,
        "grains": reports.GRAINS,
        "query": f"days={period.days}&grain={period.grain}",
        "snapshot": snapshot,
        "refresh_minutes": max(1, round(settings.ANALYTICS_REFRESH_SECONDS / 60)),
        "reports": list(snapshot.reports.items()),
    }
    return TemplateResponse(request, "admin/readership/analytics.html", context)


def _refresh_now(request):
    """An editor's "Refresh now": the worker computes the reports as soon as it is free
    (a year of a large archive takes seconds: never in the editor's request)."""
    period = Period.from_query(request.POST)
    refresh_analytics_now()
    messages.success(
        request,
        _("The figures are being computed again; reload the page in a minute to see them."),
    )
    return redirect(f"{reverse('admin-analytics')}?days={period.days}&grain={period.grain}")


def _admin_context(request) -> dict:
    from django.contrib import admin

    return admin.site.each_context(request)


# pygal's SVG carries its own <style>: allowed for this picture alone (it holds no script).
@csp_update({"style-src": ["'unsafe-inline'"]})
def chart_view(request, name):
    _snapshot, report = _one(request, name)
    response = HttpResponse(charts.svg(report), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


def csv_view(request, name):
    """The report's table as CSV (papers/spreadsheets.py: safe to open in a spreadsheet)."""
    snapshot, report = _one(request, name)
    period = snapshot.period
    filename = f"{report.name}-{period.days}d-{period.grain}-{period.today:%Y%m%d}.csv"
    return csv_response([[str(column) for column in report.columns], *report.rows], filename)


# The worker computes the reports ahead: a task that enqueues its next run, started as the
# worker starts (``background.tasks.worker_ready``), so restarts and several workers never
# multiply it; an editor's "Refresh now" adds one run.


@task()
def refresh_analytics() -> str:
    """Every period's reports, stored for the page; then the next run is enqueued."""
    try:
        written = refresh()
    finally:
        start_refreshing(after=settings.ANALYTICS_REFRESH_SECONDS)
    return f"Stored {written} report(s)."


def start_refreshing(sender=None, *, after: float = 0, **kwargs) -> None:
    """Enqueue the next refresh (unless one is waiting) ``after`` seconds from now."""
    if not settings.ANALYTICS_WORKER_REFRESHES:
        return
    enqueue_periodic(
        refresh_analytics, run_after=timezone.now() + datetime.timedelta(seconds=after)
    )


def refresh_analytics_now() -> None:
    """A refresh as soon as a worker is free, unless one is due already (an editor clicking
    twice makes one run)."""
    enqueue_unless_due(refresh_analytics)
