"""The read-only JSON API, ``/api/v1/`` (documented in docs/api.md).

Plain Django views returning JSON: the API is small, read-only and anonymous, so Django REST
framework would add a dependency and a second way to paginate and filter without adding
anything a reader of the API needs. Lists reuse the HTML list's FilterSet and search, every
read goes through ``published()``, lists are paginated (``page``, ``page_size`` ≤ 100) as
``{"count", "next", "previous", "results"}``, and responses are cached like pages.
"""

from __future__ import annotations

import time
from functools import wraps

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from pagecache import store as pages
from papers.models import SECTIONS_WITH_KIND, Digest, Entry, SectionKind, digest_address
from readership import counting
from reading import converters  # noqa: F401 (registers the path converters)
from reading.filters import EntryFilter
from reading.search import CappedCountPaginator
from reading.views.lists import entry_list_queryset, published_categories, published_tags

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _json(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(message, status, **extra):
    return _json({"error": message, **extra}, status=status)


def api_view(view):
    """GET only. Answers are cached and revalidated like pages (pagecache/:
    until the content changes, never past a scheduled go-live or expiry, with an ETag and
    ``public, max-age=0, must-revalidate``), so an unpublished digest lingers nowhere."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return require_GET(wrapped)


def _paginate(request, queryset, serialize, paginator_class=Paginator, views_of=""):
    try:
        size = int(request.GET.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        return None, _error("page_size must be a number.", 400)
    if not 1 <= size <= MAX_PAGE_SIZE:
        return None, _error(f"page_size must be between 1 and {MAX_PAGE_SIZE}.", 400)
    paginator = paginator_class(queryset, size)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except PageNotAnInteger:
        return None, _error("page must be a number.", 400)
    except EmptyPage:
        return None, _error("There is no such page.", 404)

    def link(number):
        params = request.GET.copy()
        params["page"] = number
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

    data = {
        "count": paginator.count,
        "count_is_capped": getattr(paginator, "is_capped", False),
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "results": [serialize(request, item) for item in _with_views(page.object_list, views_of)],
    }
    return data, None


def _with_views(objects, kind: str) -> list:
    """``objects``, with their 人气 read for all of them at once when they show it."""
    objects = list(objects)
    if kind:
        counting.shown_many(objects, kind)
    return objects


def _url(request, location):
    return request.build_absolute_uri(location)


def _views(request, obj, kind: str) -> int:
    """人气 as the pages show it (the row plus the counts the worker has not written): an
    answer showing it is kept in the page cache for a minute at most."""
    if isinstance(request, HttpRequest):
        pages.expire_at(request, time.time() + counting.shown_seconds())
    shown = getattr(obj, "shown_views", None)  # read with its neighbours (_with_views)
    return counting.shown(obj, kind) if shown is None else shown


def _tag(tag):
    return {"name": tag.name, "slug": tag.slug}


def _category(category):
    return {
        "code": category.code,
        "short_code": category.short_code,
        "name": category.name,
        "name_zh": category.name_zh,
    }


def _paper(paper, *, full=False):
    data = {
        "arxiv_id": paper.arxiv_id,  # null for an item not on arXiv: see source_url
        "source_url": paper.source_url or None,
        "title": paper.title,
        "authors": paper.author_list,
        "authors_shortened": paper.authors_shortened,
        "affiliations": paper.affiliation_list,
        "primary_category": _category(paper.primary_category),
        "abs_url": paper.abs_url or None,
        "pdf_url": paper.pdf_url or None,
    }
    if full:
        data["abstract"] = paper.abstract
        data["categories"] = [c.code for c in paper.categories.all()]
        data["published_on"] = paper.published_on
    return data


def _digest_brief(request, digest):
    return {
        "title": digest.title,
        "slug": digest.slug,
        "issue_date": digest.issue_date,
        "published_at": digest.published_at,
        "view_count": _views(request, digest, "digest"),
        "url": _url(request, digest.get_absolute_url()),
        "api_url": _url(
            request,
            reverse(
                "reading:api-digest-detail",
                kwargs={"date": digest.issue_date, "slug": digest.slug},
            ),
        ),
    }


def _entry_brief(request, entry):
    search = getattr(entry, "search", None)
    return {
        "id": entry.pk,
        "position": entry.position,
        "title_zh": entry.title_zh,
        "summary": search.summary if search else "",
        "view_count": _views(request, entry, "entry"),
        "paper": _paper(entry.paper),
        "tags": [_tag(t) for t in entry.tags.all()],
        "digest": {
            "title": entry.digest.title,
            "slug": entry.digest.slug,
            "issue_date": entry.digest.issue_date,
        },
        "url": _url(request, entry.get_absolute_url()),
        "api_url": _url(request, reverse("reading:api-entry-detail", kwargs={"pk": entry.pk})),
    }


def _entry_full(request, entry):
    return {
        "id": entry.pk,
        "position": entry.position,
        "title_zh": entry.title_zh,
        "view_count": _views(request, entry, "entry"),
        "paper": _paper(entry.paper, full=True),
        "tags": [_tag(t) for t in entry.tags.all()],
        "sections": [
            {
                "kind": section.kind.slug,
                "name_zh": section.kind.name_zh,
                "name_en": section.kind.name_en,
                "text": section.body,
                "html": section.body_html,
            }
            for section in entry.sections.all()
        ],
        "figures": [
            {
                "position": figure.position,
                "url": _url(request, figure.image.url),
                "width": figure.width,
                "height": figure.height,
                "caption": figure.caption,
                "alt_text": figure.alt_text,
                "source_url": figure.source_url,
                "licence": figure.licence,
            }
            for figure in entry.figures.all()
            if figure.image
        ],
        "url": _url(request, entry.get_absolute_url()),
    }


@api_view
def api_root(request):
    def link(name):
        return _url(request, reverse(name))

    return _json(
        {
            "digests": link("reading:api-digest-list"),
            "entries": link("reading:api-entry-list"),
            "categories": link("reading:api-category-list"),
            "tags": link("reading:api-tag-list"),
            "section_kinds": link("reading:api-section-kind-list"),
        }
    )


@api_view
def digest_list(request):
    queryset = Digest.objects.published().order_by("-issue_date", "-id")
    data, error = _paginate(request, queryset, _digest_brief, views_of="digest")
    return error or _json(data)


def with_detail(entries):
    """``entries`` with what ``digest_detail_data`` reads, in a fixed number of queries."""
    return (
        entries.select_related("digest", "paper__primary_category")
        .prefetch_related("tags", SECTIONS_WITH_KIND, "figures", "paper__categories")
        .order_by("position")
    )


def digest_detail_data(request, digest, entries) -> dict:
    """The body of ``/api/v1/digests/<date>/<slug>/``: ``digest`` with ``entries`` (loaded by
    ``with_detail``). ``request`` makes the addresses absolute: the request, or anything with
    its ``build_absolute_uri`` (the digest export, editorial/exporting/, writes the same
    document with the site's address)."""
    data = _digest_brief(request, digest)
    data.update(
        {
            "summary": digest.summary,
            "status": digest.status,
            "tags": [_tag(t) for t in digest.tags.all()],
            "entries": [_entry_full(request, e) for e in _with_views(entries, "entry")],
        }
    )
    del data["api_url"]
    return data


@api_view
def digest_detail(request, date, slug):
    # The digest comes with its entries (one query, not two): the answer stays within the
    # page budget of 8 queries with the cache's own lookups (docs/architecture.md).
    address = digest_address(date, slug)
    entries = list(
        with_detail(
            Entry.objects.published().filter(**{f"digest__{k}": v for k, v in address.items()})
        )
    )
    if entries:
        digest = entries[0].digest
        for entry in entries:
            entry.digest = digest
    else:
        digest = get_object_or_404(Digest.objects.published(), **address)
    return _json(digest_detail_data(request, digest, entries))


@api_view
def entry_list(request):
    filterset = EntryFilter(request.GET, queryset=entry_list_queryset(), request=request)
    if not filterset.is_valid():
        return _error("Invalid filter.", 400, errors=filterset.errors.get_json_data())
    queryset = filterset.qs
    if not filterset.query_terms:
        data, error = _paginate(request, queryset, _entry_brief, views_of="entry")
    else:
        # As the HTML search: rank and cut the page on ids, then load the page's rows.
        data, error = _paginate(
            request, filterset.results(), lambda _request, pk: pk, CappedCountPaginator
        )
        if error is None:
            rows = entry_list_queryset().filter(pk__in=data["results"]).in_bulk()
            found = _with_views([rows[pk] for pk in data["results"] if pk in rows], "entry")
            data["results"] = [_entry_brief(request, entry) for entry in found]
    if error:
        return error
    data["notices"] = filterset.notices
    return _json(data)


@api_view
def entry_detail(request, pk):
    entry = get_object_or_404(
        Entry.objects.published()
        .select_related("paper__primary_category", "digest")
        .prefetch_related("tags", "figures", "paper__categories", SECTIONS_WITH_KIND),
        pk=pk,
    )
    data = _entry_full(request, entry)
    data["digest"] = _digest_brief(request, entry.digest)
    return _json(data)


@api_view
def category_list(request):
    return _json(
        {
            "results": [
                {**_category(c), "entry_count": c.entry_count} for c in published_categories()
            ]
        }
    )


@api_view
def tag_list(request):
    data, error = _paginate(
        request,
        published_tags(),
        lambda request, tag: {**_tag(tag), "entry_count": tag.entry_count},
    )
    return error or _json(data)


@api_view
def section_kind_list(request):
    return _json(
        {
            "results": [
                {
                    "slug": kind.slug,
                    "name_zh": kind.name_zh,
                    "name_en": kind.name_en,
                    "order": kind.order,
                    "is_list": kind.is_list,
                }
                for kind in SectionKind.objects.all()
            ]
        }
    )


urlpatterns = [
    path("", api_root, name="api-root"),
    path("digests/", digest_list, name="api-digest-list"),
    path("digests/<isodate:date>/<slug:slug>/", digest_detail, name="api-digest-detail"),
    path("entries/", entry_list, name="api-entry-list"),
    path("entries/<int:pk>/", entry_detail, name="api-entry-detail"),
    path("categories/", category_list, name="api-category-list"),
    path("tags/", tag_list, name="api-tag-list"),
    path("section-kinds/", section_kind_list, name="api-section-kind-list"),
]
