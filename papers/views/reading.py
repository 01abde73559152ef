"""Reading the site: the filterable entry list and its presets (tag, category, affiliation,
month), search, section browsing, comparison, robots.txt and the view-count beacon.

Every read starts from ``Entry.objects.published()`` (or ``Digest``'s); filters come from
``papers/filters.py`` and search from ``papers/search.py``. Each page runs a fixed number of
queries whatever the data size (pinned in tests/test_reading_pages.py).
"""

from __future__ import annotations

import calendar
import datetime
import functools
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from taggit.models import Tag

from digestsite.client_ip import client_ip

from .. import viewcounts
from ..content_cache import blocks_version
from ..filters import EntryFilter
from ..fragments import fragment_timeout, markup_revision
from ..models import Category, Entry, Section, SectionKind, TaggedEntry, published_q
from ..search import CappedCountPaginator, snippet

ENTRY_PAGE_SIZE = 20
SECTION_PAGE_SIZE = 20
COMPARE_MIN, COMPARE_MAX = 2, 4
# The largest id of every supported database (a signed 64-bit integer).
MAX_DB_ID = 2**63 - 1


def entry_list_queryset(*, with_text: bool = False):
    """Published entries with what a list row shows, in a fixed number of queries
    (the entry, its paper, category, digest and summary in one; tags in one more).

    Publication is tested on the search row's copy of the digest's state (the same test as
    ``published_q``, still at read time), so that filtering and ordering a list read one
    table and one index; the digest is joined only for the rows of the page."""
    deferred = ["paper__abstract", "unplaced_text", "search__title_terms", "search__body_terms"]
    if not with_text:
        deferred.append("search__plain")
    return (
        Entry.objects.filter(published_q("search__"))
        .select_related("paper__primary_category", "digest", "search")
        .defer(*deferred)
        .prefetch_related("tags")
    )


# What a list row shows (templates/papers/entry_list.html, section_list.html): loading only
# these columns spares parsing the timestamps and texts no row displays.
ROW_FIELDS = (
    "id",
    "created_at",
    "block_version",
    "digest_id",
    "paper_id",
    "position",
    "title_zh",
    "view_count",
    "paper__arxiv_id",
    "paper__title",
    "paper__authors",
    "paper__affiliations",
    "paper__primary_category__code",
    "digest__issue_date",
    "digest__slug",
    "digest__title",
    "search__summary",
)


def list_rows(ids, *, with_text: bool = False):
    """The published entries ``ids`` with what their list rows show, in one query (their
    tags and links come from ``prepare_rows``)."""
    fields = (*ROW_FIELDS, "search__plain") if with_text else ROW_FIELDS
    return (
        Entry.objects.filter(published_q("search__"), pk__in=ids)
        .select_related("paper__primary_category", "digest", "search")
        .only(*fields)
    )


def chips(request, filterset: EntryFilter) -> list[dict]:
    """One removable chip per active filter value: a label and the URL without it."""
    params = request.GET
    result = []
    tag_names = {tag.slug: tag.name for tag in filterset.tags}
    tag_names.update({tag.name: tag.name for tag in filterset.tags})
    labels = {
        "q": gettext("Search"),
        "tag": gettext("Tag"),
        "category": gettext("Category"),
        "affiliation": gettext("Affiliation"),
        "author": gettext("Author"),
        "date_from": pgettext("date range", "From"),
        "date_to": pgettext("date range", "To"),
        "digest": gettext("Digest"),
    }
    digest = filterset.form.cleaned_data.get("digest") if filterset.form.is_valid() else None
    for key in labels:
        for value in params.getlist(key):
            if not value.strip():
                continue
            remaining = params.copy()
            remaining.setlist(key, [v for v in params.getlist(key) if v != value])
            remaining.pop("page", None)
            shown = value
            if key == "tag":
                shown = tag_names.get(value, value)
            elif key == "digest" and digest is not None:
                shown = digest.title
            result.append(
                {
                    "label": labels[key],
                    "value": shown,
                    "remove_url": "?" + remaining.urlencode() if remaining else request.path,
                }
            )
    return result


@functools.lru_cache(maxsize=4096)
def _reverse(prefix: str, urlconf, name: str, args: tuple) -> str:
    return reverse(name, args=args, urlconf=urlconf)


def cached_reverse(name: str, *args) -> str:
    """``reverse()`` remembered per script prefix and URLconf: the links of list rows (a
    category, a tag, an affiliation, a digest) repeat across rows, pages and requests."""
    return _reverse(get_script_prefix(), get_urlconf(), name, args)


def prepare_rows(entries) -> None:
    """Give each entry of a list page (paper, category and digest loaded) what its row
    shows, so that the template only places values: ``url``, ``digest_url``, ``issue_iso``,
    ``category_url``, ``authors``, ``affiliation_links`` and ``tag_links`` (the tags of
    all rows in one query). ``reverse()`` and ``{% url %}`` per link, an include per row
    and taggit's prefetch were most of the time of rendering a list."""
    tags = defaultdict(list)
    for entry_id, name, slug in (
        TaggedEntry.objects.filter(content_object_id__in=[entry.pk for entry in entries])
        .order_by("tag__name")
        .values_list("content_object_id", "tag__name", "tag__slug")
    ):
        tags[entry_id].append((name, cached_reverse("papers:tag-entries", slug)))
    for entry in entries:
        paper, digest = entry.paper, entry.digest
        digest_url = cached_reverse("papers:digest-detail", digest.issue_date, digest.slug)
        entry.digest_url = f"{digest_url}#{entry.anchor}"
        entry.issue_iso = digest.issue_date.isoformat()
        # The entry's address is its digest's plus the arXiv id (papers/urls.py).
        entry.url = f"{digest_url}{paper.arxiv_id}/"
        entry.category_url = cached_reverse("papers:category-entries", paper.primary_category.code)
        entry.authors = ", ".join(paper.author_list)
        entry.affiliation_links = [
            (name, cached_reverse("papers:affiliation-entries", name))
            for name in paper.affiliation_list
        ]
        entry.tag_links = tags[entry.pk]


# One list row (templates/papers/entry_list.html places them): formatted here rather than by
# the template engine, which spent more on twenty rows than the page's queries. Every value
# is escaped; the snippet is already safe (papers/search.py: ``snippet``). A row is kept in
# the cache in three parts around what varies by request: its text (the one-line summary,
# or a search snippet) and its view count.
_ROW_HEAD = (
    '<li><article class="entry-row" aria-labelledby="row-{pk}-title">\n'
    '  <h2 class="entry-row-title" id="row-{pk}-title"><a class="cat" href="{category_url}" '
    'title="{code}">[{short_code}]</a> <a href="{url}" lang="en">{title}</a></h2>\n'
    "{title_zh}"
    '  <p class="authors" lang="en">{authors}</p>\n'
    "{affiliations}"
)
_ROW_MIDDLE = (
    '  <p class="meta">\n'
    '    <span><a href="{digest_url}">{digest_title}</a></span>\n'
    '    <span><time datetime="{issue}">{issue}</time></span>\n'
    "    <span>{views_label}: "
)
_ROW_TAIL = (
    "</span>\n"
    '    <span class="compare-pick"><input type="checkbox" name="e" value="{pk}" '
    'id="compare-{pk}" form="compare-form"> <label for="compare-{pk}">{compare_label}</label>'
    "</span>\n"
    "  </p>\n"
    "{tags}"
    "</article></li>"
)


class RowParts(NamedTuple):
    """A list row as kept in the cache: the HTML around its text and view count, and what
    its text is made from."""

    head: str
    middle: str
    tail: str
    summary: str  # the one-line summary (the row's text outside a search)
    plain: str  # the critique and abstract as plain text (a search snippet's source)


def _links(pairs) -> list[str]:
    return [f'<a href="{escape(url)}">{escape(name)}</a>' for name, url in pairs]


def row_parts(entry) -> RowParts:
    """The parts of the row of ``entry`` (prepared by ``prepare_rows``)."""
    paper, category = entry.paper, entry.paper.primary_category
    title_zh = f'  <p class="title-zh">{escape(entry.title_zh)}</p>\n' if entry.title_zh else ""
    affiliations = ""
    if entry.affiliation_links:
        links = " &amp; ".join(_links(entry.affiliation_links))
        affiliations = f'  <p class="affiliations" lang="en">[{links}]</p>\n'
    tags = ""
    if entry.tag_links:
        items = "".join(f"<li>{link}</li>" for link in _links(entry.tag_links))
        tags = f'  <ul class="tags" aria-label="{escape(gettext("Tags"))}">{items}</ul>\n'
    search_row = getattr(entry, "search", None)
    return RowParts(
        head=_ROW_HEAD.format(
            pk=entry.pk,
            category_url=escape(entry.category_url),
            code=escape(category.code),
            short_code=escape(category.short_code),
            url=escape(entry.url),
            title=escape(paper.title),
            title_zh=title_zh,
            authors=escape(entry.authors),
            affiliations=affiliations,
        ),
        middle=_ROW_MIDDLE.format(
            digest_url=escape(entry.digest_url),
            digest_title=escape(entry.digest.title),
            issue=entry.issue_iso,
            views_label=escape(gettext("Views")),
        ),
        tail=_ROW_TAIL.format(pk=entry.pk, compare_label=escape(gettext("Compare")), tags=tags),
        summary=search_row.summary if search_row else "",
        plain=search_row.plain if search_row else "",
    )


def rows_html(rows, query_terms=()) -> SafeString:
    """The ``<li>`` rows of a list page: ``rows`` are (parts, view count) pairs; with
    ``query_terms`` each row's text is a snippet of its matches."""
    html = []
    for parts, views in rows:
        text = ""
        found = snippet(parts.plain, query_terms) if query_terms else ""
        if found:
            text = f'  <p class="snippet">{conditional_escape(found)}</p>\n'
        elif parts.summary:
            text = f'  <p class="row-summary">{escape(parts.summary)}</p>\n'
        html.append(f"{parts.head}{text}{parts.middle}{int(views)}{parts.tail}")
    return mark_safe("\n".join(html))  # noqa: S308 (every value escaped above)


# What the page-cutting query returns with each id (``EntryResults.columns``): enough to
# find the entry's kept row, and its view count, which changes too often to be kept in it.
ROW_HEAD_COLUMNS = ("created_at", "block_version", "view_count")


@functools.cache
def _rows_revision() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(markup_revision().encode())
    return digest.hexdigest()[:12]


def _stamp(created_at) -> str:
    if isinstance(created_at, str):  # SQLite's text, from a raw query (``_union_of_limited``)
        created_at = parse_datetime(created_at)
        if timezone.is_naive(created_at):
            created_at = timezone.make_aware(created_at, datetime.UTC)
    return f"{created_at.timestamp():.6f}"


def row_key(pk: int, created_at, block_version: int, version: str) -> str:
    """The cache key of an entry's row: its counter (``Entry.block_version``, raised by
    every change the row shows: papers/block_versions.py), the global blocks version
    (renames), the language and script prefix (labels, links) and this code's revision."""
    return (
        f"papers:row:{_rows_revision()}:{version}:{get_language()}:{get_script_prefix()}:"
        f"{pk}:{_stamp(created_at)}:{block_version}"
    )


def kept_rows(heads) -> list[tuple[RowParts, int]]:
    """(parts, view count) of the rows whose ``heads`` are (id, created, counter, views), in
    order: the kept ones from one cache read, the others loaded in two queries whatever
    their number (``list_rows``, ``prepare_rows``) and kept. A row whose entry is gone or
    no longer published is left out."""
    version = blocks_version()  # before the rows are read (a rename in between then shows)
    keys = {head[0]: row_key(*head[:3], version) for head in heads}
    found = cache.get_many(list(keys.values())) if keys else {}
    missing = [pk for pk, key in keys.items() if key not in found]
    if missing:
        loaded = list_rows(missing, with_text=True).in_bulk()
        entries = [loaded[pk] for pk in missing if pk in loaded]
        prepare_rows(entries)
        fresh = {}
        for entry in entries:
            # The key of the row as loaded now (its counter may have moved on).
            key = row_key(entry.pk, entry.created_at, entry.block_version, version)
            fresh[key] = found[keys[entry.pk]] = row_parts(entry)
        cache.set_many(fresh, fragment_timeout())
    return [(found[keys[pk]], views) for pk, *_rest, views in heads if keys[pk] in found]


class EntryListView(TemplateView):
    """The list of published entries with filters, search, sort and pages. Presets (tag,
    category, affiliation, month) are the same list with a filter fixed by the URL."""

    template_name = "papers/entry_list.html"
    page_size = ENTRY_PAGE_SIZE
    heading = _("Papers")
    feed_names: tuple[str, str] | None = None  # (atom, rss) URL names of this list's feeds
    not_found_status = 404

    def get_preset(self) -> dict:
        return {}

    def get_feed_kwargs(self) -> dict:
        return {}

    def get_heading(self, filterset) -> str:
        return self.heading

    def get_filterset(self):
        return EntryFilter(
            self.request.GET,
            queryset=entry_list_queryset(),
            request=self.request,
            preset=self.get_preset(),
        )

    def get(self, request, *args, **kwargs):
        filterset = self.get_filterset()
        results = filterset.results()
        results.columns = ROW_HEAD_COLUMNS
        # Count (capped at 1000) and cut the page on ids (and what finds their kept rows),
        # reading the search rows' sort index; then the page's rows, kept or loaded.
        paginator = CappedCountPaginator(results, self.page_size)
        page_number = request.GET.get("page") or 1
        try:
            page = paginator.page(page_number)
        except Exception as exc:  # InvalidPage, or a non-number: no such page
            raise Http404(gettext("There is no such page.")) from exc
        rows = self.rows(page, filterset)
        context = self.get_context_data(
            filterset=filterset,
            form=filterset.form,
            page_obj=page,
            entries=rows,
            rows_html=self.format_rows(rows, filterset),
            chips=chips(request, filterset),
            notices=filterset.notices,
            heading=self.get_heading(filterset),
            query=request.GET.get("q", "").strip(),
            sort_order=filterset.sort_order,
            preset=filterset.preset,
            feeds=self.feed_links(),
            selected_tags=request.GET.getlist("tag"),
        )
        response = self.render_to_response(context)
        if filterset.notices and self.get_preset() and not filterset.active_values.get("q"):
            # The page's own tag or category does not exist: say so, and keep it unindexed.
            preset_keys = set(self.get_preset())
            if preset_keys & {"tag", "category"} and not (filterset.tags or filterset.categories):
                response.status_code = self.not_found_status
        return response

    def rows(self, page, filterset) -> list:
        """The page's rows: (parts, view count) pairs (``kept_rows``)."""
        return kept_rows(page.object_list)

    def format_rows(self, rows, filterset) -> str:
        return rows_html(rows, filterset.query_terms)

    def feed_links(self):
        if not self.feed_names:
            return None
        atom, rss = self.feed_names
        kwargs = self.get_feed_kwargs()
        return {"atom": reverse(atom, kwargs=kwargs), "rss": reverse(rss, kwargs=kwargs)}


class SearchView(EntryListView):
    """The search box's target: the entry list, headed by the query."""

    template_name = "papers/search.html"

    def get_heading(self, filterset):
        query = self.request.GET.get("q", "").strip()
        if query:
            return gettext("Search results for “%(query)s”") % {"query": query}
        return gettext("Search")


class TagEntryListView(EntryListView):
    feed_names = ("papers:tag-feed-atom", "papers:tag-feed-rss")

    def get_preset(self):
        return {"tag": self.kwargs["slug"]}

    def get_feed_kwargs(self):
        return {"slug": self.kwargs["slug"]}

    def get_heading(self, filterset):
        name = filterset.tags[0].name if filterset.tags else self.kwargs["slug"]
        return gettext("Tag: %(tag)s") % {"tag": name}


class CategoryEntryListView(EntryListView):
    feed_names = ("papers:category-feed-atom", "papers:category-feed-rss")

    def get_preset(self):
        return {"category": self.kwargs["code"]}

    def get_feed_kwargs(self):
        return {"code": self.kwargs["code"]}

    def get_heading(self, filterset):
        if len(filterset.categories) == 1:
            category = filterset.categories[0]
            return f"{category.code} · {category.name_zh or category.name}"
        return gettext("Category: %(category)s") % {"category": self.kwargs["code"]}


class AffiliationEntryListView(EntryListView):
    feed_names = ("papers:affiliation-feed-atom", "papers:affiliation-feed-rss")

    def get_preset(self):
        return {"affiliation": self.kwargs["name"]}

    def get_feed_kwargs(self):
        return {"name": self.kwargs["name"]}

    def get_heading(self, filterset):
        return gettext("Affiliation: %(name)s") % {"name": self.kwargs["name"]}


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    if not (1 <= month <= 12 and 1990 <= year <= 2999):
        raise Http404(gettext("There is no such month."))
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, 1), datetime.date(year, month, last)


class MonthEntryListView(EntryListView):
    feed_names = ("papers:month-feed-atom", "papers:month-feed-rss")

    def get_preset(self):
        start, end = month_bounds(self.kwargs["year"], self.kwargs["month"])
        return {"date_from": start.isoformat(), "date_to": end.isoformat()}

    def get_feed_kwargs(self):
        return {"year": self.kwargs["year"], "month": self.kwargs["month"]}

    def get_heading(self, filterset):
        return gettext("Archive: %(year)d-%(month)02d") % {
            "year": self.kwargs["year"],
            "month": self.kwargs["month"],
        }


class BrowseView(TemplateView):
    """An index of one way into the list: tags, categories or months, with counts."""

    template_name = "papers/browse.html"
    kind = "tags"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["kind"] = self.kind
        if self.kind == "tags":
            context["heading"] = gettext("Tags")
            context["items"] = published_tags()
        elif self.kind == "categories":
            context["heading"] = gettext("Categories")
            context["items"] = published_categories()
        else:
            context["heading"] = gettext("Archive")
            context["items"] = digest_archive_months()
        return context


def published_tags():
    """Tags of published entries, with their number of published entries."""
    return (
        Tag.objects.filter(papers_taggedentry_items__content_object__in=Entry.objects.published())
        .annotate(entry_count=Count("papers_taggedentry_items"))
        .order_by("-entry_count", "name")
    )


def published_categories():
    """Categories that are the primary category of a published entry, with counts."""
    return (
        Category.objects.filter(primary_papers__entries__in=Entry.objects.published())
        .annotate(entry_count=Count("primary_papers__entries"))
        .order_by("code")
    )


def digest_archive_months():
    """Months with published digests and their number of entries, newest first."""
    return (
        Entry.objects.published()
        .annotate(month=TruncMonth("digest__issue_date"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("-month")
    )


class SectionListView(EntryListView):
    """One critique section kind across published entries (e.g. every 不足), filterable
    like the entry list; each row names its entry and links to the section's anchor."""

    template_name = "papers/section_list.html"
    page_size = SECTION_PAGE_SIZE

    def get(self, request, *args, **kwargs):
        # Every kind in one query: the page lists them all as links beside this one.
        self.kinds = list(SectionKind.objects.all())
        self.kind = next((k for k in self.kinds if k.slug == self.kwargs["kind"]), None)
        if self.kind is None:
            raise Http404(gettext("There is no such section kind."))
        return super().get(request, *args, **kwargs)

    def get_heading(self, filterset):
        return gettext("Every “%(kind)s”") % {"kind": self.kind.name_zh}

    def rows(self, page, filterset) -> list:
        """The page's entries (the template places each with its section)."""
        ids = [head[0] for head in page.object_list]
        searching = bool(filterset.query_terms)
        loaded = list_rows(ids, with_text=searching).in_bulk()
        entries = [loaded[pk] for pk in ids if pk in loaded]
        prepare_rows(entries)
        if searching:
            for entry in entries:
                entry.snippet = snippet(entry.search.plain, filterset.query_terms)
        return entries

    def format_rows(self, rows, filterset) -> str:
        return ""  # templates/papers/section_list.html places each entry with its section

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = context["entries"]
        by_entry = {
            section.entry_id: section
            for section in Section.objects.filter(
                kind=self.kind, entry__in=[entry.pk for entry in entries]
            ).only("id", "entry_id", "kind_id", "body_html")
        }
        context["rows"] = [(entry, by_entry.get(entry.pk)) for entry in entries]
        context["kind"] = self.kind
        context["kinds"] = self.kinds
        return context

    def get_filterset(self):
        filterset = super().get_filterset()
        # Only entries that have this section.
        filterset.queryset = filterset.queryset.filter(
            pk__in=Section.objects.filter(kind=self.kind).values("entry_id")
        )
        filterset.rows_only = False  # a condition the search rows alone cannot test
        filterset.scope = ("section", self.kind.pk)  # and another count than the list's
        return filterset


class CompareView(TemplateView):
    """2–4 published entries side by side, one row per section kind."""

    template_name = "papers/compare.html"

    @staticmethod
    def entry_id(value: str) -> int | None:
        """An ``e=`` value as an entry id, or None: ASCII digits only (``str.isdigit`` also
        accepts "²", which ``int`` refuses, and "٣", which it reads as 3), at most
        MAX_DB_ID (more overflows the database's integer: a 500 on SQLite)."""
        if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_DB_ID))):
            return None
        pk = int(value)
        return pk if pk <= MAX_DB_ID else None

    def get(self, request, *args, **kwargs):
        raw = request.GET.getlist("e")
        error = None
        ids = []
        for value in raw:
            pk = self.entry_id(value)
            if pk is None:
                shown = "".join(c if c.isprintable() else "\ufffd" for c in value[:20])
                error = gettext("“%(value)s” is not a paper number.") % {"value": shown}
                break
            if pk not in ids:
                ids.append(pk)
        if error is None and not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
            error = gettext("Choose between %(min)d and %(max)d papers to compare.") % {
                "min": COMPARE_MIN,
                "max": COMPARE_MAX,
            }
        entries = []
        if error is None:
            found = {
                entry.pk: entry
                for entry in Entry.objects.published()
                .filter(pk__in=ids)
                .select_related("paper__primary_category", "digest")
                .prefetch_related(
                    Prefetch("sections", queryset=Section.objects.select_related("kind"))
                )
            }
            entries = [found[pk] for pk in ids if pk in found]
            if len(entries) < len(ids):
                error = gettext("Some of these papers do not exist or are not published.")
                entries = []
        rows = []
        if entries:
            kinds = {}
            for entry in entries:
                entry.section_by_kind = {s.kind_id: s for s in entry.sections.all()}
                for section in entry.sections.all():
                    kinds[section.kind_id] = section.kind
            for kind in sorted(kinds.values(), key=lambda k: (k.order, k.pk)):
                rows.append((kind, [entry.section_by_kind.get(kind.pk) for entry in entries]))
        context = self.get_context_data(entries=entries, rows=rows, error=error)
        response = self.render_to_response(context)
        if error:
            response.status_code = 400
        return response


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /i18n/",
        "Disallow: /views/",
        "Disallow: /search/",
        "Disallow: /compare/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('papers:sitemap-index'))}",
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt  # a beacon carries no token and changes no reader state; see viewcounts
def view_beacon(request, kind, pk):
    """Count one reader visit of a digest or an entry page (sent by static/js/reading.js).
    Bots, unknown and unpublished objects are not counted (204); a counted visit answers
    with the current count, which the page shows in place of its cached number."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if kind not in viewcounts.MODELS or pk > MAX_DB_ID:  # more overflows SQLite: a 500
        raise Http404
    agent = request.headers.get("User-Agent", "")
    if viewcounts.record(kind, pk, user_agent=agent, visitor=f"{client_ip(request)}|{agent}"):
        response = JsonResponse({"views": viewcounts.current(kind, pk)})
    else:
        response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response
