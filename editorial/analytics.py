"""The analytics page of the back office (``/admin/analytics/``): readership, searches,
comments and subscriptions over a period, each as a chart, a table and a CSV of that table.

Editors (``readership.view_analytics``) only: every view checks it. The reports come from
readership/reports.py, plus subscribers and sends here (editorial may read subscriptions).
"""

from __future__ import annotations

import datetime

from csp.decorators import csp_update
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

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


def _key(name: str, period: Period, language: str) -> str:
    when = period.today.isoformat()
    return f"analytics:{language}:{name}:{period.days}:{period.grain}:{when}"


def forget_reports() -> None:
    """Empty the reports' cache of today (the benchmark's "after a quiet period")."""
    cache.delete_many(
        [
            _key(name, Period(days=days, grain=grain), language)
            for name in REPORTS
            for days in reports.PERIODS
            for grain in reports.GRAINS
            for language, _name in settings.LANGUAGES
        ]
    )


def report_for(name: str, period: Period) -> Report:
    """A report, kept a minute in the cache: the page and its charts' pictures (separate
    requests) draw from one computation, and figures move by the minute anyway."""
    key = _key(name, period, get_language())
    report = cache.get(key)
    if report is None:
        report = REPORTS[name](period)
        report.title, report.columns = str(report.title), [str(c) for c in report.columns]
        report.note = str(report.note)
        cache.set(key, report, 60)
    return report


def _report(request, name: str) -> Report:
    _allowed(request)
    if name not in REPORTS:
        raise Http404
    return report_for(name, Period.from_query(request.GET))


def analytics_view(request):
    """The page: the period's choices, then each report's chart, table and CSV link."""
    _allowed(request)
    period = Period.from_query(request.GET)
    query = f"days={period.days}&grain={period.grain}"
    context = {
        **_admin_context(request),
        "title": _("Readership analytics"),
        "period": period,
        "periods": reports.PERIODS,
        "grains": reports.GRAINS,
        "query": query,
        "reports": [(name, report_for(name, period)) for name in REPORTS],
    }
    return TemplateResponse(request, "admin/readership/analytics.html", context)


def _admin_context(request) -> dict:
    from django.contrib import admin

    return admin.site.each_context(request)


# pygal's SVG carries its own <style>: allowed for this picture alone (it holds no script).
@csp_update({"style-src": ["'unsafe-inline'"]})
def chart_view(request, name):
    report = _report(request, name)
    response = HttpResponse(charts.svg(report), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


def csv_view(request, name):
    """The report's table as CSV (papers/spreadsheets.py: safe to open in a spreadsheet)."""
    report = _report(request, name)
    period = Period.from_query(request.GET)
    filename = f"{report.name}-{period.days}d-{period.grain}-{period.today:%Y%m%d}.csv"
    return csv_response([[str(column) for column in report.columns], *report.rows], filename)
