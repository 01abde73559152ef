"""Public pages. Every read goes through the queryset methods in models.py
(``published()``, ``visible_to()``), never an inline filter."""

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.generic import DetailView, ListView

from ..comments import comments_context
from ..models import SECTIONS_WITH_KIND, Digest, Entry


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


class DigestDetailView(PreviewAwareMixin, DetailView):
    """One digest as the seed page shows it: TOC, summary, one block per paper."""

    template_name = "papers/digest_detail.html"
    context_object_name = "digest"

    def get_object(self, queryset=None):
        queryset = Digest.objects.visible_to(self.request.user).with_content()
        return get_object_or_404(queryset, issue_date=self.kwargs["date"], slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        digest = self.object
        context["is_preview"] = not digest.is_published
        context["previous_digest"], context["next_digest"] = neighbours(digest)
        context.update(comments_context(self.request, digest))
        return context


def neighbours(digest):
    """The published digests just before and after ``digest`` (by issue date, then id)."""
    fields = ("title", "slug", "issue_date")
    readable = Digest.objects.published().only(*fields)
    earlier = Q(issue_date__lt=digest.issue_date) | Q(
        issue_date=digest.issue_date, id__lt=digest.id
    )
    later = Q(issue_date__gt=digest.issue_date) | Q(issue_date=digest.issue_date, id__gt=digest.id)
    previous = readable.filter(earlier).order_by("-issue_date", "-id").first()
    following = readable.filter(later).order_by("issue_date", "id").first()
    return previous, following


class EntryDetailView(PreviewAwareMixin, DetailView):
    """One paper of a digest on its own page, with an anchor per critique section."""

    template_name = "papers/entry_detail.html"
    context_object_name = "entry"

    def get_object(self, queryset=None):
        digests = Digest.objects.visible_to(self.request.user)
        digest = get_object_or_404(
            digests.only(
                "id", "title", "slug", "issue_date", "status", "published_at", "expires_at"
            ),
            issue_date=self.kwargs["date"],
            slug=self.kwargs["slug"],
        )
        try:
            entry = (
                Entry.objects.select_related("paper__primary_category")
                .prefetch_related("tags", "paper__categories", "figures", SECTIONS_WITH_KIND)
                .get(digest=digest, paper__arxiv_id=self.kwargs["arxiv_id"])
            )
        except Entry.DoesNotExist as exc:
            raise Http404("No such paper in this digest") from exc
        entry.digest = digest
        return entry

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = self.object
        context["digest"] = entry.digest
        context["is_preview"] = not entry.digest.is_published
        siblings = list(
            Entry.objects.filter(digest=entry.digest)
            .select_related("paper")
            .only("position", "paper__arxiv_id", "paper__title", "digest_id")
        )
        for sibling in siblings:
            sibling.digest = entry.digest
        index = next(i for i, s in enumerate(siblings) if s.pk == entry.pk)
        context["siblings"] = siblings
        context["previous_entry"] = siblings[index - 1] if index > 0 else None
        context["next_entry"] = siblings[index + 1] if index + 1 < len(siblings) else None
        context.update(comments_context(self.request, entry))
        return context
