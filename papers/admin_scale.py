"""What keeps the back office's lists fast at 100,000 papers and 200,000 comments.

Django's changelist counts its rows twice (the filtered count and the "of N" total) with
``COUNT(*)``, which on PostgreSQL reads the whole table or one of its indexes. The lists
of large tables use ``EstimatedCountPaginator`` and ``show_full_result_count = False``
instead (docs/architecture.md, "Database indexes").

Django's date drill-down asks for every distinct year (or month, or day) of the list with
``SELECT DISTINCT`` of a truncated date, which reads every row and, on SQLite, calls a
Python function per row (0.15-0.8 s at 100,000 papers). ``SeekingDates`` finds the same
periods by walking the date index (one ``ORDER BY … LIMIT 1`` per period found) when no
filter or search narrows the list.
"""

import datetime

from django.conf import settings
from django.contrib.admin import helpers
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

# Below this many rows an exact count is cheap and used even on PostgreSQL.
ESTIMATE_ABOVE = 10_000


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's own estimate of the rows of an *unfiltered* queryset's table
    (``pg_class.reltuples``, kept by ANALYZE and autovacuum), or ``None`` when the
    queryset is filtered, the database is not PostgreSQL or the table was never analysed."""
    query = queryset.query
    if query.where or query.distinct or query.combinator or query.is_sliced:
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered list of a large table from PostgreSQL's statistics instead of
    ``COUNT(*)``. Filtered lists (a filter or a search) are counted exactly: their filters are
    indexed. The estimate is replaced by an exact count when the last pages are requested, so
    every row stays reachable by paging even when the statistics lag behind."""

    @cached_property
    def count(self):
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate >= ESTIMATE_ABOVE:
            self.count_is_estimated = True
            return estimate
        self.count_is_estimated = False
        return super().count

    count_is_estimated = False

    def page(self, number):
        number = self.validate_number(number)
        if self.count_is_estimated and number >= self.num_pages - 1:
            self.__dict__["count"] = self.object_list.count()
            self.__dict__.pop("num_pages", None)
            self.count_is_estimated = False
            number = self.validate_number(min(number, self.num_pages))
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.rows(bottom, top), number, self)

    def rows(self, bottom, top):
        """The page's rows. On SQLite a list that joins related rows for its columns
        (``list_select_related``) picks the page's ids first with only the joins its order
        needs, then reads those rows with their related ones: without statistics SQLite
        planned the entry list (entry ⋈ digest ⋈ paper, ordered by digest) as a scan and
        sort of every entry with all its columns (0.5 s at 100,000 entries) instead of a
        walk down the digest date index (3 ms)."""
        rows = self.object_list
        if (
            isinstance(rows, QuerySet)
            and rows.query.select_related
            and not (rows.query.distinct or rows.query.annotations or rows.query.extra)
            and connections[rows.db].vendor == "sqlite"
        ):
            ids = rows.select_related(None).values("pk")[bottom:top]
            # The page's rows by id alone: the list's filters (a search can scan a table)
            # were applied once, in ``ids``.
            page = rows.model._default_manager.using(rows.db).filter(pk__in=ids)
            page.query.select_related = rows.query.select_related
            page.query.deferred_loading = rows.query.deferred_loading
            return page.order_by(*rows.query.order_by) if rows.query.order_by else page
        return rows[bottom:top]


class SeekingDates:
    """What Django's ``date_hierarchy`` tag asks of ``cl.queryset`` (the first and last date,
    then the distinct years, months or days), answered by index seeks instead of reading the
    list. The first and last dates are one seek each from either end of the index; then
    every period between them is tested in one statement, an ``EXISTS`` seek per period
    (papers' years since 1991, or 12 months, or 31 days): three queries whatever the number
    of rows or periods. Only a date range too wide to list (``MAX_PERIODS``, a typo such as
    the year 202) falls back to one seek per period found, newest first."""

    MAX_PERIODS = 400

    def __init__(self, queryset, field_name):
        self.queryset = queryset.order_by()
        self.field_name = field_name
        self.field = get_fields_from_path(queryset.model, field_name)[-1]
        self.aware = isinstance(self.field, models.DateTimeField) and settings.USE_TZ

    def _edge(self, queryset, newest):
        order = models.F(self.field_name).desc() if newest else models.F(self.field_name).asc()
        values = (
            queryset.filter(**{f"{self.field_name}__isnull": False})
            .order_by(order)
            .values_list(self.field_name, flat=True)[:1]
        )
        return next(iter(values), None)

    def aggregate(self, **aggregates):
        """The tag's ``first=Min(field), last=Max(field)``, each read from one end of the
        index (SQLite reads the whole index for both in one query)."""
        result = {}
        for name, aggregate in aggregates.items():
            if not isinstance(aggregate, models.Min | models.Max):
                raise TypeError(f"SeekingDates answers Min and Max only, not {aggregate!r}")
            result[name] = self._edge(self.queryset, isinstance(aggregate, models.Max))
            if isinstance(aggregate, models.Max):
                self._newest = result[name]  # where dates() starts, already read
            else:
                self._oldest = result[name]
        return result

    _newest = _oldest = _UNREAD = object()

    def _start(self, value, kind):
        if self.aware:
            value = timezone.localtime(value)
        day = value.date() if isinstance(value, datetime.datetime) else value
        start = {
            "year": day.replace(month=1, day=1),
            "month": day.replace(day=1),
            "day": day,
        }[kind]
        if isinstance(value, datetime.datetime):
            start = datetime.datetime.combine(start, datetime.time())
            if self.aware:
                start = timezone.make_aware(start)
        return start

    def _from_db(self, value):
        value = self.field.to_python(value)
        if self.aware and timezone.is_naive(value):  # SQLite stores UTC without a zone
            value = timezone.make_aware(value, datetime.UTC)
        return value

    @staticmethod
    def _next_day(day: datetime.date, kind: str) -> datetime.date:
        """The first day of the period after the one ``day`` starts."""
        if kind == "year":
            return day.replace(year=day.year + 1)
        if kind == "month":
            return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        return day + datetime.timedelta(days=1)

    def _moment(self, day: datetime.date, like):
        """``day`` as the field stores it: a date, or midnight (local, when aware)."""
        if not isinstance(like, datetime.datetime):
            return day
        moment = datetime.datetime.combine(day, datetime.time())
        return timezone.make_aware(moment) if self.aware else moment

    def _periods(self, field_name, kind, oldest, newest):
        """Every period from ``oldest``'s to ``newest``'s, as (start, end) in the field's
        type, or None when there are more than ``MAX_PERIODS``."""
        first = self._start(oldest, kind)
        last = self._start(newest, kind)
        day = first.date() if isinstance(first, datetime.datetime) else first
        end_day = last.date() if isinstance(last, datetime.datetime) else last
        periods = []
        while day <= end_day:
            following = self._next_day(day, kind)
            periods.append((self._moment(day, first), self._moment(following, first)))
            if len(periods) > self.MAX_PERIODS:
                return None
            day = following
        return periods

    def _with_rows(self, field_name, periods) -> list | None:
        """The periods with at least one row, in one statement of one ``EXISTS`` seek per
        period; None if the compiled seek does not end with the period's bounds."""
        connection = connections[self.queryset.db]
        start, end = periods[0]
        probe = self.queryset.filter(
            **{f"{field_name}__gte": start, f"{field_name}__lt": end}
        ).values("pk")[:1]
        try:
            sql, params = probe.query.sql_with_params()
        except EmptyResultSet:
            return []
        bounds = [self.field.get_db_prep_value(v, connection) for v in (start, end)]
        if list(params[-2:]) != bounds:
            return None
        head = list(params[:-2])
        statement = "SELECT " + ", ".join(f"EXISTS({sql})" for _ in periods)
        arguments = []
        for start, end in periods:
            arguments += [
                *head,
                *(self.field.get_db_prep_value(v, connection) for v in (start, end)),
            ]
        with connection.cursor() as cursor:
            cursor.execute(statement, arguments)
            found = cursor.fetchone()
        return [start for (start, _end), exists in zip(periods, found, strict=True) if exists]

    def dates(self, field_name, kind, order="ASC"):
        """The start of every period (``kind``) with a row, oldest first like Django's:
        every period between the first and the last date tested in one statement
        (``_with_rows``); past ``MAX_PERIODS``, the query "newest date before X" compiled
        once and run with each period's start found (56 years of papers were 57 queries)."""
        starts = []
        newest = self._newest
        if newest is self._UNREAD:
            newest = self._edge(self.queryset, newest=True)
        if newest is None:
            return starts
        oldest = self._oldest
        if oldest is self._UNREAD:
            oldest = self._edge(self.queryset, newest=False)
        periods = self._periods(field_name, kind, oldest, newest)
        found = None if periods is None else self._with_rows(field_name, periods)
        if found is not None:
            return found if order == "ASC" else found[::-1]
        connection = connections[self.queryset.db]
        # The first boundary, to find where its parameter sits in the compiled query.
        floor = self._start(newest, kind)
        before = (
            self.queryset.filter(**{f"{field_name}__isnull": False, f"{field_name}__lt": floor})
            .order_by(models.F(field_name).desc())
            .values_list(field_name, flat=True)[:1]
        )
        sql, params = before.query.sql_with_params()
        adapted = self.field.get_db_prep_value(floor, connection)
        with connection.cursor() as cursor:
            while newest is not None:
                start = self._start(newest, kind)
                starts.append(start)
                if params and params[-1] == adapted:
                    prepared = self.field.get_db_prep_value(start, connection)
                    cursor.execute(sql, (*params[:-1], prepared))
                    row = cursor.fetchone()
                    newest = self._from_db(row[0]) if row else None
                else:  # a query shape whose boundary is not the last parameter
                    newest = self._edge(
                        self.queryset.filter(**{f"{field_name}__lt": start}), newest=True
                    )
        return starts[::-1] if order == "ASC" else starts

    datetimes = dates


class LeanChangeList(ChangeList):
    """The list's rows without the long columns no list column shows (``changelist_defer``
    of the ModelAdmin): abstracts, arXiv snapshots (JSON decoded per row), rendered HTML.
    Only the displayed rows: actions get the full rows (``get_queryset`` is unchanged)."""

    def get_results(self, request):
        deferred = getattr(self.model_admin, "changelist_defer", ())
        if deferred:
            self.queryset = self.queryset.defer(*deferred)
        super().get_results(request)

    @cached_property
    def date_hierarchy_dates(self):
        """The list as the date drill-down reads it: ``SeekingDates`` when nothing but the
        drill-down itself narrows the list (the seeks then walk the date index alone),
        ``None`` (Django's own query) under a filter or a search, where each seek would
        re-read the rows the filter's own index finds (the "on the site" digests: 57 seeks
        of 8 ms against one 60 ms query)."""
        own = f"{self.date_hierarchy}__"
        narrowed = [key for key in self.get_filters_params() if not key.startswith(own)]
        if self.query or narrowed:
            return None
        return SeekingDates(self.queryset, self.date_hierarchy)


class LargeTableAdminMixin:
    """For the changelists of tables that grow without bound (papers, digests, entries,
    comments, the audit trails): estimated unfiltered count, no second "of N" count, long
    columns left out of the rows, a cheap row checkbox."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    changelist_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return LeanChangeList

    def action_checkbox(self, obj):
        """Django's row checkbox, the same HTML written directly: rendering it through the
        form widget templates cost about 1 ms a row, a third of a 100-row list."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )
