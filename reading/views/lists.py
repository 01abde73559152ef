"""Reading the site: the filterable entry list and its presets (tag, category, affiliation,
month), search, section browsing, comparison, and robots.txt.

Every read starts from ``Entry.objects.published()`` (or ``Digest``'s); filters come from
``reading/filters.py`` and search from ``reading/search.py``. Each page runs a fixed number of
queries whatever the data size (pinned in tests/test_reading_pages.py).
"""

from __future__ import annotations

import calendar
import datetime
import time

from django.conf import settings
from django.core.paginator import InvalidPage
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from taggit.models import Tag

from pagecache import store as pages
from papers.changes import names_version
from papers.models import Category, Entry, Section, SectionKind, published_q
from readership import counting
from reading.facets import build_facets
from reading.filters import EntryFilter
from reading.related import related_annotation, related_items
from reading.search import CappedCountPaginator, snippet
from reading.suggestions import closest_tags, rarest_chip
from reading.views.pages import entry_fragment_key, fragment_seconds, uncached

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


def row_key(entry, names: str, highlighted: bool = False) -> str:
    """The key of ``{% cache %}`` in templates/includes/_entry_row.html for ``entry``
    (``highlighted``: a search's row, whose titles are rendered outside the fragment)."""
    return entry_fragment_key("entry-row", entry, names, highlighted)


# What a list row shows (templates/includes/_entry_row.html) and keys its fragment by; the
# rest (a paper's arXiv snapshot, a digest's summary, ...) is never read for a list.
ROW_FIELDS = [
    *("position", "title_zh", "view_count", "updated_at"),
    *("digest", "digest__title", "digest__slug", "digest__issue_date"),
    *("paper", "paper__arxiv_id", "paper__title", "paper__authors", "paper__affiliations"),
    *("paper__authors_shortened",),
    *("paper__updated_at", "paper__primary_category", "paper__primary_category__code"),
    *("search", "search__summary"),
]


def list_rows(ids, *, with_text: bool = False) -> list:
    """The published entries ``ids``, in that order, with what their rows show
    (templates/includes/_entry_row.html) and, ``with_text``, the text a search snippet is
    cut from: one query whatever their number."""
    found = (
        Entry.objects.filter(published_q("search__"), pk__in=ids)
        .select_related("paper__primary_category", "digest", "search")
        .only(*ROW_FIELDS, *(["search__plain"] if with_text else []))
        .in_bulk()
    )
    return [found[pk] for pk in ids if pk in found]


def chips(request, filterset: EntryFilter) -> list[dict]:
    """One removable chip per active filter value: a label and the URL without it."""
    params = request.GET
    result = []
    tag_names = {tag.slug.casefold(): tag.name for tag in filterset.tags}
    tag_names.update({tag.name.casefold(): tag.name for tag in filterset.tags})
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
                shown = tag_names.get(value.casefold(), value)
            elif key == "digest" and digest is not None:
                shown = digest.title
            result.append(
                {
                    "key": key,
                    "raw": value,
                    "label": labels[key],
                    "value": shown,
                    "remove_url": "?" + remaining.urlencode() if remaining else request.path,
                }
            )
    return result


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
        names = names_version()  # before the rows it keys
        filterset = self.get_filterset()
        results = filterset.results()
        # A filtered list's count reads its matches' facet names (reading/facets.py).
        results.with_facet_names = self.shows_facets(filterset)
        # Count (capped at 1000) and cut the page on ids, reading the search rows' sort
        # index; then the page's rows.
        paginator = CappedCountPaginator(results, self.page_size)
        page_number = request.GET.get("page") or 1
        try:
            page = paginator.page(page_number)
        except InvalidPage as exc:  # past the end, or not a number (a database error is a 503)
            raise Http404(gettext("There is no such page.")) from exc
        rows = self.rows(page, filterset, names)
        facets = None
        if results.with_facet_names and results.facet_names is not None:
            facets = build_facets(
                results.facet_names, filterset=filterset, params=request.GET, path=request.path
            )
        active = chips(request, filterset)
        suggestions = None
        if not paginator.count and active and not filterset.form.errors:
            suggestions = self.suggestions(filterset, active)
        context = self.get_context_data(
            facets=facets,
            suggestions=suggestions,
            filterset=filterset,
            form=filterset.form,
            page_obj=page,
            entries=rows,
            names_version=names,
            row_seconds=fragment_seconds(),
            chips=active,
            notices=filterset.notices,
            heading=self.get_heading(filterset),
            query=request.GET.get("q", "").strip(),
            sort_order=filterset.sort_order,
            preset=filterset.preset,
            feeds=self.feed_links(),
            selected_tags=request.GET.getlist("tag"),
            query_terms=filterset.query_terms,
            highlighted=bool(filterset.query_terms),
        )
        if filterset.notices or filterset.form.errors or not rows:
            pages.dont_store(request)  # a made-up or empty filter: answered, not kept
        if self.names_nothing(filterset, page):
            raise Http404(gettext("There is nothing here."))
        response = self.render_to_response(context)
        if context["query"] and page.number == 1:
            # Counted as a reader's search, also when served from the page cache.
            counting.mark_search(response, paginator.count)
        if filterset.notices and self.get_preset() and not filterset.active_values.get("q"):
            # The page's own tag or category does not exist: say so, and keep it unindexed.
            preset = self.get_preset()
            missing_tag = "tag" in preset and not filterset.tag_groups.get(preset["tag"])
            missing_category = "category" in preset and not filterset.categories
            if missing_tag or missing_category:
                response.status_code = self.not_found_status
        return response

    def suggestions(self, filterset, active: list[dict]) -> dict:
        """What a list with no result offers (reading/suggestions.py): the tags closest to
        the words searched and the tags not found, and the list without its rarest filter."""
        needles = [term.text for term in filterset.query_terms]  # parsed, a dozen at most
        needles += [value for value, group in filterset.tag_groups.items() if not group]
        return {"tags": closest_tags(needles), "without": rarest_chip(filterset, active)}

    def shows_facets(self, filterset) -> bool:
        """Whether the list offers facets: a list filtered or searched (the whole archive's
        tags and categories have their own pages, with counts)."""
        return bool(filterset.preset or filterset.active_values)

    def names_nothing(self, filterset, page) -> bool:
        """Whether the page's own subject (an affiliation, a month) has no published paper
        at all: such an address is not found, whatever is typed into it."""
        return False

    def rows(self, page, filterset, names: str) -> list:
        """The page's entries, with a snippet of their matches when searching; tags are
        loaded only for rows the fragment cache does not hold (templates/includes/
        _entry_row.html)."""
        searching = bool(filterset.query_terms)
        entries = list_rows(page.object_list, with_text=searching)
        prefetch_related_objects(
            uncached(entries, lambda entry: row_key(entry, names, searching)), "tags"
        )
        if searching:
            for entry in entries:
                entry.snippet = snippet(entry.search.plain, filterset.query_terms)
        # 人气 as every page shows it: the rows' counts plus the unwritten ones (two cache
        # reads), the list kept a minute at most.
        counting.shown_many(entries, "entry")
        pages.expire_at(self.request, time.time() + counting.shown_seconds())
        return entries

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
    feed_names = ("reading:tag-feed-atom", "reading:tag-feed-rss")

    def get_preset(self):
        return {"tag": self.kwargs["slug"]}

    def get_feed_kwargs(self):
        return {"slug": self.kwargs["slug"]}

    def get_heading(self, filterset):
        name = filterset.tags[0].name if filterset.tags else self.kwargs["slug"]
        return gettext("Tag: %(tag)s") % {"tag": name}


class CategoryEntryListView(EntryListView):
    feed_names = ("reading:category-feed-atom", "reading:category-feed-rss")

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
    feed_names = ("reading:affiliation-feed-atom", "reading:affiliation-feed-rss")

    def get_preset(self):
        return {"affiliation": self.kwargs["name"]}

    def get_feed_kwargs(self):
        return {"name": self.kwargs["name"]}

    def get_heading(self, filterset):
        return gettext("Affiliation: %(name)s") % {"name": self.kwargs["name"]}

    def names_nothing(self, filterset, page) -> bool:
        return not page.paginator.count and not self.request.GET


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    if not (1 <= month <= 12 and 1990 <= year <= 2999):
        raise Http404(gettext("There is no such month."))
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, 1), datetime.date(year, month, last)


class MonthEntryListView(EntryListView):
    feed_names = ("reading:month-feed-atom", "reading:month-feed-rss")

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

    def names_nothing(self, filterset, page) -> bool:
        return not page.paginator.count and not self.request.GET


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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = context["entries"]
        sections = (
            Section.objects.filter(kind=self.kind, entry__in=[entry.pk for entry in entries])
            .only("id", "entry_id", "kind_id", "body_html")
            .annotate(similar_list=related_annotation(Section, "entry", "kind"))
        )
        by_entry = {}
        for section in sections:  # and the entries whose same section is most alike
            section.similar = related_items(section.similar_list)
            by_entry[section.entry_id] = section
        context["section_rows"] = [(entry, by_entry.get(entry.pk)) for entry in entries]
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
        "Disallow: /search/",
        "Disallow: /compare/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('reading:sitemap-index'))}",
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class PrivacyView(TemplateView):
    """What the site counts about its readers, and how (readership/counting.py)."""

    template_name = "reading/privacy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            retention_days=settings.READERSHIP_RETENTION_DAYS,
            honours_signals=settings.READERSHIP_HONOUR_PRIVACY_SIGNALS,
            **kwargs,
        )
