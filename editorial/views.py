"""The share-link preview: a reviewer without an account sees a digest's current draft,
with the preview banner, for as long as the link is valid."""

from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.generic import DetailView

from editorial import workflow
from papers.changes import names_version
from papers.models import Digest, Entry
from reading.views.pages import digest_page_context, page_entries


def _private(response):
    """Never cached, never indexed, and the token never leaks through a Referer."""
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


class SharePreviewView(DetailView):
    """``/preview/<token>/``: the digest as it is now, draft or not, marked as a preview.
    An unknown or forged token is a 404; an expired or revoked one a 410 that says so.
    No comment section: a reader's form cannot post to a draft (the context has no
    ``comment_section``, so the template leaves it out)."""

    template_name = "papers/digest_detail.html"
    context_object_name = "digest"

    def get(self, request, *args, **kwargs):
        link = workflow.share_link_from_token(kwargs["token"])
        if link is None:
            return _private(
                render(request, "papers/share_link_gone.html", {"reason": "unknown"}, status=404)
            )
        if not link.is_active:
            reason = "revoked" if link.revoked_at else "expired"
            context = {"reason": reason, "when": workflow.site_time(link.expires_at)}
            return _private(render(request, "papers/share_link_gone.html", context, status=410))
        self.link = link
        return _private(super().get(request, *args, **kwargs))

    def get_object(self, queryset=None):
        return Digest.objects.get(pk=self.link.digest_id)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        names = names_version()  # before the rows it keys
        entries = page_entries(Entry.objects.filter(digest=self.object))
        for entry in entries:
            entry.digest = self.object
        context.update(
            digest_page_context(self.object, entries, names=names, is_preview=True, share=True)
        )
        context["share_link"] = self.link
        context["share_until"] = workflow.site_time(self.link.expires_at)
        return context
