"""The share-link preview: a reviewer without an account sees a digest's current draft,
with the preview banner, for as long as the link is valid."""

from django.shortcuts import render
from django.utils.cache import patch_cache_control

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


def preview_response(request, digest, *, link=None):
    """The digest page of ``digest`` as readers would see it, marked as a preview: a draft,
    a live digest's working copy, or (for a share ``link``) whichever of the two the link's
    digest has. Never cached, never indexed."""
    names = names_version()  # before the rows it keys
    entries = page_entries(Entry.objects.filter(digest=digest))
    for entry in entries:
        entry.digest = digest
    context = {
        "digest": digest,
        "object": digest,
        **digest_page_context(
            digest, entries, names=names, is_preview=True, share=link is not None
        ),
    }
    if link is not None:
        context["share_link"] = link
        context["share_until"] = workflow.site_time(link.expires_at)
    return _private(render(request, "papers/digest_detail.html", context))


def share_preview(request, token):
    """``/preview/<token>/``: the digest as it is now, marked as a preview: a draft as it
    stands, a live digest with its unpublished changes (its working copy) if it has some.
    An unknown or forged token is a 404; an expired or revoked one a 410 that says so.
    No comment section: a reader's form cannot post to a draft (the context has no
    ``comment_section``, so the template leaves it out)."""
    link = workflow.share_link_from_token(token)
    if link is None:
        return _private(
            render(request, "papers/share_link_gone.html", {"reason": "unknown"}, status=404)
        )
    if not link.is_active:
        reason = "revoked" if link.revoked_at else "expired"
        context = {"reason": reason, "when": workflow.site_time(link.expires_at)}
        return _private(render(request, "papers/share_link_gone.html", context, status=410))
    digest = Digest.objects.filter(working_copy_of=link.digest_id).first() or link.digest
    return preview_response(request, digest, link=link)
