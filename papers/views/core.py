"""Public pages. Every read goes through the queryset methods in models.py
(``published()``, ``visible_to()``), never an inline filter.

The digest and entry pages run a fixed number of queries (docs/architecture.md, "Query
budgets"): the page's main query reads the digest's entries with the digest, paper, category and
"comments closed?"; the papers' blocks, the digest's tags and its neighbour candidates come from
the fragment cache (papers/fragments.py), so sections, figures and tags are only loaded for
blocks that are not cached yet.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.generic import DetailView, ListView

from ..comments import comments_context
from ..content_cache import blocks_version, digests_version
from ..fragments import ENTRY_PAGE, digest_fragments, entry_fragments, fragment_timeout
from ..models import CommentClosure, Digest, Entry


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


def _closure_annotation(digest_ref: str = "pk") -> dict:
    """Whether a moderator closed the digest's comments, as a subquery (no extra query)."""
    closures = CommentClosure.objects.filter(digest_id=OuterRef(digest_ref))
    return {"comments_closed": Exists(closures)}


# How many digests of a readable status are kept on each side of a digest as candidates for
# its neighbours (see ``neighbours``).
NEIGHBOUR_CANDIDATES = 5
_NEIGHBOUR_FIELDS = ("title", "slug", "issue_date", "status", "published_at", "expires_at")


def neighbours(digest):
    """The published digests just before and after ``digest`` (by issue date, then id).

    Which digest is published depends on the clock (a scheduled go-live or an expiry changes
    it without any save), so what is cached is the nearest candidates of a readable status
    on each side, and ``Digest.is_published`` picks among them now. They are kept under the
    digests version (``content_cache.digests_version``: replaced by every save or deletion
    of a digest, which is all they read), not the content version, which every entry edit
    replaces. Only when every candidate on a side is scheduled or expired (five digests
    scheduled ahead of the newest one, say) does that side take a query of its own."""
    key = f"papers:fragment:neighbours:{digests_version()}:{digest.pk}"
    candidates = cache.get(key)
    if candidates is None:
        candidates = _neighbour_candidates(digest)
        cache.set(key, candidates, fragment_timeout())
    found = []
    for side, rows in zip(("earlier", "later"), candidates, strict=True):
        chosen = next((row for row in rows if row.is_published), None)
        if chosen is None and len(rows) == NEIGHBOUR_CANDIDATES:
            chosen = _side(digest, side, Digest.objects.published()).first()
        found.append(chosen)
    return tuple(found)


def _side(digest, side: str, queryset):
    date, pk = digest.issue_date, digest.pk
    if side == "earlier":
        where = Q(issue_date__lt=date) | Q(issue_date=date, id__lt=pk)
        order = ("-issue_date", "-id")
    else:
        where = Q(issue_date__gt=date) | Q(issue_date=date, id__gt=pk)
        order = ("issue_date", "id")
    return queryset.filter(where).order_by(*order).only(*_NEIGHBOUR_FIELDS)


def _neighbour_candidates(digest) -> tuple[list, list]:
    """The nearest digests of a readable status before and after ``digest``, nearest first,
    up to NEIGHBOUR_CANDIDATES on each side, in one query.

    Plain SQL: the ORM spent ten times longer building this query (two ordered, limited
    subqueries) than the database took to answer it. It only reads columns and the readable
    states; whether a candidate is live is decided by ``Digest.is_published``."""
    quote = connection.ops.quote_name
    table = quote(Digest._meta.db_table)
    columns = ", ".join(quote(name) for name in ("id", *_NEIGHBOUR_FIELDS))
    states = ", ".join(["%s"] * len(Digest.READABLE_STATES))
    date = connection.ops.adapt_datefield_value(digest.issue_date)
    # SQLite would take the status index (every published digest) and sort them all, 8 ms
    # at 20,000 digests; ``+status`` keeps that column off any index, so it walks the date.
    status = ("+" if connection.vendor == "sqlite" else "") + quote("status")
    sides = []
    params = []
    for compare, order in (("<", "DESC"), (">", "ASC")):
        sides.append(
            f"SELECT {columns} FROM {table} WHERE {status} IN ({states}) AND "
            f"({quote('issue_date')} {compare} %s OR "
            f"({quote('issue_date')} = %s AND {quote('id')} {compare} %s)) "
            f"ORDER BY {quote('issue_date')} {order}, {quote('id')} {order} LIMIT %s"
        )
        params += [*Digest.READABLE_STATES, date, date, digest.pk, NEIGHBOUR_CANDIDATES]
    # Each side is an ordered walk of the (issue_date, id) index that stops after a few rows;
    # ``id IN (side) OR id IN (side)`` made PostgreSQL test every digest against both
    # (10 ms at 20,000 digests).
    sql = f"SELECT * FROM ({sides[0]}) earlier UNION ALL SELECT * FROM ({sides[1]}) later"
    rows = sorted(Digest.objects.raw(sql, params), key=lambda row: (row.issue_date, row.pk))
    key = (digest.issue_date, digest.pk)
    before = [row for row in reversed(rows) if (row.issue_date, row.pk) < key]
    after = [row for row in rows if (row.issue_date, row.pk) > key]
    return before, after


def digest_entries(digest) -> list:
    """The digest's entries in order with paper and primary category (one query)."""
    entries = list(
        Entry.objects.filter(digest=digest)
        .select_related("paper__primary_category")
        .order_by("position")
    )
    for entry in entries:
        entry.digest = digest
    return entries


def digest_page_context(
    digest, *, is_preview: bool, share: bool = False, entries=None, version=None
) -> dict:
    """Everything the digest template shows except comments: the digest's tags, its entries
    (table of contents), the papers' cached blocks, neighbours and share-card data.
    ``entries`` given: ``version`` is the blocks version read before they were loaded."""
    if entries is None:
        version = blocks_version()
        entries = digest_entries(digest)
    blocks, tags = digest_fragments(
        digest, entries, version=version, is_preview=is_preview, share=share
    )
    previous, following = neighbours(digest)
    return {
        "is_preview": is_preview,
        "digest_url": digest.get_absolute_url(),
        "digest_tags": tags,
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
        """The digest and its entries (paper, primary category) and whether its comments
        are closed, in one query; a digest without entries takes a query of its own."""
        user = self.request.user
        where = {"issue_date": self.kwargs["date"], "slug": self.kwargs["slug"]}
        self.blocks_version = blocks_version()  # before the rows it keys (fragments.py)
        self.entries = list(
            Entry.objects.visible_to(user)
            .filter(**{f"digest__{name}": value for name, value in where.items()})
            .select_related("digest", "paper__primary_category")
            .annotate(**_closure_annotation("digest_id"))
            .order_by("position")
        )
        if self.entries:
            digest = self.entries[0].digest
            digest.comments_closed = self.entries[0].comments_closed
            for entry in self.entries:
                entry.digest = digest
            return digest
        readable = Digest.objects.visible_to(user).annotate(**_closure_annotation())
        return get_object_or_404(readable, **where)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        digest = self.object
        page = digest_page_context(
            digest,
            is_preview=not digest.is_published,
            entries=self.entries,
            version=self.blocks_version,
        )
        context.update(page)
        context.update(comments_context(self.request, digest, closed=digest.comments_closed))
        return context


class EntryDetailView(PreviewAwareMixin, DetailView):
    """One paper of a digest on its own page, with an anchor per critique section."""

    template_name = "papers/entry_detail.html"
    context_object_name = "entry"

    def get_object(self, queryset=None):
        """The entry with its paper, primary category and digest, and whether comments are
        closed, in one query that reads every entry of the digest: its neighbours come with
        it. 404 when the digest is not visible to the reader or the paper is not in it."""
        self.blocks_version = blocks_version()  # before the rows it keys (fragments.py)
        siblings = list(
            Entry.objects.visible_to(self.request.user)
            .filter(digest__issue_date=self.kwargs["date"], digest__slug=self.kwargs["slug"])
            .select_related("digest", "paper__primary_category")
            .annotate(**_closure_annotation("digest_id"))
            .order_by("position")
        )
        arxiv_id = self.kwargs["arxiv_id"]
        index = next((i for i, s in enumerate(siblings) if s.paper.arxiv_id == arxiv_id), None)
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
        (body,) = entry_fragments(
            [entry], version=self.blocks_version, page=ENTRY_PAGE, is_preview=is_preview
        )
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
                "previous_entry": self.previous_entry,
                "next_entry": self.next_entry,
            }
        )
        context.update(comments_context(self.request, entry, closed=entry.comments_closed))
        return context
