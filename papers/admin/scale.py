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
    list: the periods are found from the newest down, each one the newest date before the
    start of the period found last. Costs one query per period shown (at most a dozen months
    or 31 days; years as many as the archive spans) whatever the number of rows."""

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
        return result

    _newest = _UNREAD = object()

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

    def dates(self, field_name, kind, order="ASC"):
        """The start of every period (``kind``) with a row, oldest first like Django's.
        The query "newest date before X" is compiled once and run with each period's start
        (the ORM cost a millisecond a query; 56 years of papers are 57 queries)."""
        starts = []
        newest = self._newest
        if newest is self._UNREAD:
            newest = self._edge(self.queryset, newest=True)
        if newest is None:
            return starts
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
