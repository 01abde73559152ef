"""Public pages. Every read goes through the queryset methods in models.py
(``published()``, ``visible_to()``), never an inline filter.

The digest and entry pages run a fixed number of queries (docs/architecture.md, "Data flow of
a page"): neighbours and the comment closure are subqueries of the page's main query, and the
papers' blocks come from the fragment cache (papers/fragments.py), so their sections, figures
and tags are only loaded for blocks that are not cached yet.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.generic import DetailView, ListView

from ..comments import comments_context
from ..fragments import DIGEST_PAGE, ENTRY_PAGE, entry_fragments
from ..models import CommentClosure, Digest, Entry, Paper


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
        return response


class HomeView(ListView):
    """Latest published digests, each with its table of contents."""

    template_name = "papers/digest_list.html"
    context_object_name = "digests"

    def get_paginate_by(self, queryset):
        return settings.HOME_PAGE_SIZE

    def get_queryset(self):
        return Digest.objects.listed().with_toc().order_by("-issue_date", "-published_at", "-id")


_NEIGHBOUR_FIELDS = ("title", "slug", "issue_date")


def _digest_neighbour_annotations() -> dict:
    """The published digests just before and after (by issue date, then id) as subqueries of
    the digest's own query: ``prev_title``, ``prev_slug``, ``prev_issue_date``, ``next_…``."""
    readable = Digest.objects.published()
    earlier = readable.filter(
        Q(issue_date__lt=OuterRef("issue_date"))
        | Q(issue_date=OuterRef("issue_date"), id__lt=OuterRef("id"))
    ).order_by("-issue_date", "-id")
    later = readable.filter(
        Q(issue_date__gt=OuterRef("issue_date"))
        | Q(issue_date=OuterRef("issue_date"), id__gt=OuterRef("id"))
    ).order_by("issue_date", "id")
    annotations = {}
    for side, queryset in (("prev", earlier), ("next", later)):
        for field in _NEIGHBOUR_FIELDS:
            annotations[f"{side}_{field}"] = Subquery(queryset.values(field)[:1])
    return annotations


def _closure_annotation(digest_ref: str = "pk") -> dict:
    """Whether a moderator closed the digest's comments, as a subquery (no extra query)."""
    closures = CommentClosure.objects.filter(digest_id=OuterRef(digest_ref))
    return {"comments_closed": Exists(closures)}


def _annotated_neighbours(digest):
    previous = following = None
    if digest.prev_slug is not None:
        previous = Digest(
            title=digest.prev_title, slug=digest.prev_slug, issue_date=digest.prev_issue_date
        )
    if digest.next_slug is not None:
        following = Digest(
            title=digest.next_title, slug=digest.next_slug, issue_date=digest.next_issue_date
        )
    return previous, following


def neighbours(digest):
    """The published digests just before and after ``digest`` (by issue date, then id), in one
    query (none when ``digest`` was loaded with the neighbour annotations)."""
    if not hasattr(digest, "prev_slug"):
        values = (
            Digest.objects.filter(pk=digest.pk)
            .annotate(**_digest_neighbour_annotations())
            .values(*(f"{side}_{name}" for side in ("prev", "next") for name in _NEIGHBOUR_FIELDS))
            .get()
        )
        for name, value in values.items():
            setattr(digest, name, value)
    return _annotated_neighbours(digest)


def digest_entries(digest) -> list:
    """The digest's entries in order with paper and primary category: what the table of
    contents shows and what the blocks' cache keys need (one query)."""
    entries = list(
        Entry.objects.filter(digest=digest)
        .select_related("paper__primary_category")
        .order_by("position")
    )
    for entry in entries:
        entry.digest = digest
    return entries


def digest_page_context(digest, *, is_preview: bool, share: bool = False) -> dict:
    """Everything the digest template shows except comments: the digest's tags, its entries
    (table of contents), the papers' cached blocks, neighbours and share-card data."""
    entries = digest_entries(digest)
    blocks = entry_fragments(entries, page=DIGEST_PAGE, is_preview=is_preview, share=share)
    previous, following = neighbours(digest)
    return {
        "is_preview": is_preview,
        "digest_url": digest.get_absolute_url(),
        "digest_tags": list(digest.tags.all()),
        "entries": entries,
        "entry_blocks": blocks,
        "share_image": next((block.image_url for block in blocks if block.image_url), ""),
        "beacon_url": reverse("papers:view-beacon", args=["digest", digest.pk]),
        "previous_digest": previous,
        "next_digest": following,
    }


class DigestDetailView(PreviewAwareMixin, DetailView):
    """One digest as the seed page shows it: TOC, summary, one block per paper."""

    template_name = "papers/digest_detail.html"
    context_object_name = "digest"

    def get_object(self, queryset=None):
        queryset = (
            Digest.objects.visible_to(self.request.user)
            .annotate(**_digest_neighbour_annotations(), **_closure_annotation())
            .prefetch_related("tags")
        )
        return get_object_or_404(queryset, issue_date=self.kwargs["date"], slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        digest = self.object
        context.update(digest_page_context(digest, is_preview=not digest.is_published))
        context.update(comments_context(self.request, digest, closed=digest.comments_closed))
        return context


def _entry_neighbour_annotations() -> dict:
    """The papers just before and after in the same digest (by position), as subqueries:
    ``prev_arxiv_id``, ``prev_title``, ``prev_position``, ``next_…``."""
    siblings = Entry.objects.filter(digest_id=OuterRef("digest_id"))
    earlier = siblings.filter(position__lt=OuterRef("position")).order_by("-position")
    later = siblings.filter(position__gt=OuterRef("position")).order_by("position")
    annotations = {}
    for side, queryset in (("prev", earlier), ("next", later)):
        for name, field in (("arxiv_id", "paper__arxiv_id"), ("title", "paper__title")):
            annotations[f"{side}_{name}"] = Subquery(queryset.values(field)[:1])
        annotations[f"{side}_position"] = Subquery(queryset.values("position")[:1])
    return annotations


def _entry_neighbour(entry, side: str):
    arxiv_id = getattr(entry, f"{side}_arxiv_id")
    if arxiv_id is None:
        return None
    paper = Paper(arxiv_id=arxiv_id, title=getattr(entry, f"{side}_title"))
    neighbour = Entry(position=getattr(entry, f"{side}_position"), paper=paper)
    neighbour.digest = entry.digest
    return neighbour


class EntryDetailView(PreviewAwareMixin, DetailView):
    """One paper of a digest on its own page, with an anchor per critique section."""

    template_name = "papers/entry_detail.html"
    context_object_name = "entry"

    def get_object(self, queryset=None):
        """The entry with its paper, primary category and digest, its neighbours and whether
        comments are closed, in one query. 404 when the digest is not visible to the reader or
        the paper is not in it."""
        readable = Digest.objects.visible_to(self.request.user)
        queryset = (
            Entry.objects.select_related("digest", "paper__primary_category")
            .defer("digest__summary")
            .filter(digest__in=readable.values("pk"))
            .annotate(**_entry_neighbour_annotations(), **_closure_annotation("digest_id"))
        )
        try:
            return queryset.get(
                digest__issue_date=self.kwargs["date"],
                digest__slug=self.kwargs["slug"],
                paper__arxiv_id=self.kwargs["arxiv_id"],
            )
        except Entry.DoesNotExist as exc:
            raise Http404("No such paper in this digest") from exc

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = self.object
        digest = entry.digest
        is_preview = not digest.is_published
        (body,) = entry_fragments([entry], page=ENTRY_PAGE, is_preview=is_preview)
        context.update(
            {
                "digest": digest,
                "digest_url": digest.get_absolute_url(),
                "entry_url": entry.get_absolute_url(),
                "is_preview": is_preview,
                "entry_body": body,
                "entry_summary": body.summary,
                "share_image": body.image_url,
                "beacon_url": reverse("papers:view-beacon", args=["entry", entry.pk]),
                "previous_entry": _entry_neighbour(entry, "prev"),
                "next_entry": _entry_neighbour(entry, "next"),
            }
        )
        context.update(comments_context(self.request, entry, closed=entry.comments_closed))
        return context
