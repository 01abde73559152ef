"""Public pages of a digest and of one paper. Every read goes through the queryset methods
in models.py (``published()``, ``visible_to()``), never an inline filter.

The papers' blocks are template fragments (``{% cache %}`` in
templates/includes/_paper_block.html): the view asks the cache which of them it holds and
loads sections, figures and tags only for the others, with one query per kind of row, so a
page runs a fixed number of queries whatever the number of papers.
"""

import datetime
import json
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.db.models import (
    Case,
    Exists,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    When,
    prefetch_related_objects,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.generic import DetailView, ListView

from comments.models import CommentClosure
from comments.services import comments_context
from pagecache import store as pages
from papers.changes import names_version
from papers.models import (
    Category,
    Digest,
    Entry,
    Figure,
    Section,
    TaggedEntry,
    digest_address,
    neighbour_links,
)
from readership import counting
from reading.models import EntrySearch
from reading.related import related_annotation, related_items

DIGEST_PAGE, ENTRY_PAGE = "digest-paper", "entry-paper"


class PreviewAwareMixin:
    """Staff may open drafts at their would-be URL. Such a page carries a banner, is never
    cached by anyone, and asks search engines not to index it."""

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context.get("is_preview"):
            patch_cache_control(response, private=True, no_store=True, max_age=0)
            response["X-Robots-Tag"] = "noindex, nofollow"
        if context.get("comments_private"):  # the reader's own waiting comment is on it
            patch_cache_control(response, private=True)
        if context.get("counted_page") and not context.get("is_preview"):
            counting.mark_page(response, *context["counted_page"])
        return response

    def live_views(self, obj, kind: str) -> int:
        """人气 now (the row plus what the cache holds): the page is kept in the page cache
        only for ``READERSHIP_SHOWN_SECONDS``, so every server shows it within that time."""
        pages.expire_at(self.request, time.time() + counting.shown_seconds())
        return counting.shown(obj, kind)


class HomeView(ListView):
    """Latest published digests, each with its table of contents."""

    template_name = "papers/digest_list.html"
    context_object_name = "digests"

    def get_paginate_by(self, queryset):
        return settings.HOME_PAGE_SIZE

    def get_queryset(self):
        return Digest.objects.listed().with_toc().order_by("-issue_date", "-published_at", "-id")


def _closure_annotation(digest_ref: str = "pk") -> dict:
    """Whether a moderator closed the digest's comments, as a subquery (no extra query)."""
    closures = CommentClosure.objects.filter(digest_id=OuterRef(digest_ref))
    return {"comments_closed": Exists(closures)}


def _page_annotations() -> dict:
    """Subqueries of the page's main query, so they cost no query of their own: whether
    comments are closed, the neighbouring published digests (by issue date, then id)
    and each paper's first uploaded figure (the share card's image)."""
    figures = Figure.objects.filter(entry=OuterRef("pk")).exclude(image="")
    return {
        **_closure_annotation("digest_id"),
        **neighbour_links(Entry, "digest"),
        "first_image": Subquery(figures.order_by("position", "id").values("image")[:1]),
    }


def _neighbour(link) -> Digest | None:
    if not link:
        return None
    if isinstance(link, str):  # a backend that hands the JSON back as text
        link = json.loads(link)
    date = datetime.date.fromisoformat(str(link["issue_date"])[:10])
    return Digest(title=link["title"], slug=link["slug"], issue_date=date)


def _share_image(entries) -> str:
    storage = Figure._meta.get_field("image").storage
    return next((storage.url(entry.first_image) for entry in entries if entry.first_image), "")


def entry_fragment_key(name: str, entry, names: str, *more) -> str:
    """The key of an entry's ``{% cache name … %}`` fragment: what every such fragment shows
    of its entry (id, update times, its digest's date and slug in the links), the names
    version and the language, then ``more``, in the template's order."""
    digest = entry.digest
    values = [entry.pk, entry.updated_at, entry.paper.updated_at, digest.issue_date, digest.slug]
    return make_template_fragment_key(name, [*values, names, get_language(), *more])


def block_fragment_key(page: str, entry, *, is_preview: bool, share: bool, names: str) -> str:
    """The key of ``{% cache %}`` in templates/includes/_paper_block.html for ``entry``."""
    return entry_fragment_key("paper-block", entry, names, page, is_preview, share)


def fragment_cache():
    """The cache ``{% cache %}`` writes to: its own alias when configured, else the default."""
    return caches["template_fragments" if "template_fragments" in settings.CACHES else "default"]


def uncached(entries, key) -> list:
    """The ``entries`` whose fragment, under ``key(entry)``, the cache does not hold (one
    ``get_many``): only those need what their fragment shows loaded."""
    keys = {entry.pk: key(entry) for entry in entries}
    held = fragment_cache().get_many(list(keys.values())) if keys else {}
    return [entry for entry in entries if keys[entry.pk] not in held]


def fragment_seconds() -> int:
    """How long blocks and rows are kept: briefly when figure URLs are signed and expire
    (S3 with query-string auth), else FRAGMENT_CACHE_SECONDS."""
    options = settings.STORAGES.get("default", {}).get("OPTIONS", {})
    return 300 if options.get("querystring_auth") else settings.FRAGMENT_CACHE_SECONDS


def load_blocks(entries, page: str, *, names: str, is_preview: bool, share: bool = False) -> dict:
    """What the template needs to place the papers' blocks of ``entries`` (each with its
    digest, paper and primary category loaded): sections, figures and tags are loaded, one
    query per kind, only for the entries whose block the fragment cache does not hold.
    ``names``: ``names_version()`` read before the entries were (a rename committed in
    between then shows on the next visit, not cached under the new version)."""
    missing = uncached(
        entries,
        lambda entry: block_fragment_key(
            page, entry, is_preview=is_preview, share=share, names=names
        ),
    )
    lookups = [
        Prefetch("sections", queryset=Section.objects.select_related("kind")),
        Prefetch("figures", queryset=Figure.objects.order_by("position", "id")),
        # The tags through their rows: taggit's own prefetch of ``tags`` (a DISTINCT query
        # with an extra column) is the slower way to the same names (docs/performance.md).
        Prefetch("taggedentry_set", queryset=TaggedEntry.objects.select_related("tag")),
    ]
    if page == ENTRY_PAGE:
        lookups.append(Prefetch("paper__categories", queryset=Category.objects.order_by("code")))
    if missing:
        prefetch_related_objects(missing, *lookups)
    for entry in missing:  # the digest page's anchors are "paper-N-…", the entry page's bare
        entry.block_prefix = f"{entry.anchor}-" if page == DIGEST_PAGE else ""
        entry.block_tags = sorted(item.tag.name for item in entry.taggedentry_set.all())
    return {
        "block_page": page,
        "block_headings": ("h2", "h3") if page == DIGEST_PAGE else ("h1", "h2"),
        "block_names": names,
        "block_share": share,
        "block_seconds": fragment_seconds(),
    }


def visible_entries(user, extra=None, **where):
    """The entries of the digest ``where`` names, as ``user`` may read them (one query)."""
    entries = Entry.objects.visible_to(user)
    return page_entries(entries.filter(**{f"digest__{k}": v for k, v in where.items()}), extra)


def page_entries(entries, extra=None) -> list:
    """``entries`` in order, with their digest, paper and category and the page's
    annotations (and ``extra`` ones): one query."""
    return list(
        entries.select_related("digest", "paper__primary_category")
        .annotate(**_page_annotations(), **(extra or {}))
        .order_by("position")
    )


def digest_page_context(
    digest, entries, *, names: str, is_preview: bool, share: bool = False
) -> dict:
    """Everything the digest template shows except comments (``entries`` from
    ``visible_entries``)."""
    annotated = entries[0] if entries else digest
    previous = _neighbour(getattr(annotated, "previous_link", None))
    following = _neighbour(getattr(annotated, "next_link", None))
    return {
        "is_preview": is_preview,
        "digest_url": digest.get_absolute_url(),
        "entries": entries,
        "view_count": digest.view_count,
        "share_image": _share_image(entries),
        "previous_digest": previous,
        "next_digest": following,
        **load_blocks(entries, DIGEST_PAGE, names=names, is_preview=is_preview, share=share),
    }


class DigestDetailView(PreviewAwareMixin, DetailView):
    """One digest as the seed page shows it: contents, summary, one block per paper."""

    template_name = "papers/digest_detail.html"
    context_object_name = "digest"

    def get_object(self, queryset=None):
        """The digest with its entries in one query; a digest without entries takes a query
        of its own."""
        self.names = names_version()  # before the rows it keys
        user = self.request.user
        where = digest_address(self.kwargs["date"], self.kwargs["slug"])
        self.entries = visible_entries(user, **where)
        if self.entries:
            digest = self.entries[0].digest
            digest.comments_closed = self.entries[0].comments_closed
            for entry in self.entries:
                entry.digest = digest
            return digest
        readable = Digest.objects.visible_to(user).annotate(
            **_closure_annotation(), **neighbour_links(Digest, "id")
        )
        return get_object_or_404(readable, **where)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        digest = self.object
        context.update(
            digest_page_context(
                digest, self.entries, names=self.names, is_preview=not digest.is_published
            )
        )
        context["counted_page"] = ("digest", digest.pk)
        context["view_count"] = self.live_views(digest, "digest")
        context.update(comments_context(self.request, digest, closed=digest.comments_closed))
        return context


class EntryDetailView(PreviewAwareMixin, DetailView):
    """One paper of a digest on its own page, with an anchor per critique section."""

    template_name = "papers/entry_detail.html"
    context_object_name = "entry"

    def get_object(self, queryset=None):
        """The entry and its siblings (for previous/next) in one query; 404 when the digest
        is not visible to the reader or the paper is not in it."""
        self.names = names_version()  # before the rows it keys
        where = digest_address(self.kwargs["date"], self.kwargs["slug"])
        key = self.kwargs["arxiv_id"]  # an arXiv id, or link-<paper id>
        if key.startswith("link-"):
            this_paper = Q(paper_id=int(key[5:]), paper__arxiv_id__isnull=True)
        else:
            this_paper = Q(paper__arxiv_id=key)
        # The one-line summary as plain text (its search row's): the page's description and
        # structured data, where Markdown would show its asterisks.
        summary = EntrySearch.objects.filter(entry=OuterRef("pk"))
        extra = {
            "summary_text": Subquery(summary.values("summary")[:1]),
            # The related papers of this entry only, not of its siblings.
            "related_list": Case(
                When(this_paper, then=related_annotation(Entry, "id")),
                output_field=JSONField(),
            ),
        }
        siblings = visible_entries(self.request.user, extra, **where)
        index = next((i for i, s in enumerate(siblings) if s.paper.url_key == key), None)
        if index is None:
            raise Http404("No such paper in this digest")
        digest = siblings[index].digest
        for sibling in siblings:
            sibling.digest = digest
        self.previous_entry = siblings[index - 1] if index > 0 else None
        self.next_entry = siblings[index + 1] if index + 1 < len(siblings) else None
        return siblings[index]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = self.object
        digest = entry.digest
        is_preview = not digest.is_published
        context.update(
            {
                "digest": digest,
                "digest_url": digest.get_absolute_url(),
                "entry_url": entry.get_absolute_url(),
                "is_preview": is_preview,
                "share_image": _share_image([entry]),
                "entry_summary": entry.summary_text or "",
                "counted_page": ("entry", entry.pk),
                "view_count": self.live_views(entry, "entry"),
                "previous_entry": self.previous_entry,
                "next_entry": self.next_entry,
                "related_entries": related_items(entry.related_list),
                **load_blocks([entry], ENTRY_PAGE, names=self.names, is_preview=is_preview),
            }
        )
        context.update(comments_context(self.request, entry, closed=entry.comments_closed))
        return context
