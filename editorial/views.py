"""The share-link preview: a reviewer without an account sees a digest's current draft
(or a live digest's unpublished changes), with the preview banner, and may comment on it or
on one section, for as long as the link is valid; the admin's preview of the same."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from editorial import services, workflow
from editorial.models import ReviewComment
from papers.changes import names_version
from papers.models import Entry, SectionKind
from reading.views.pages import digest_page_context, page_entries


def _private(response):
    """Never cached, never indexed, and the token never leaks through a Referer to another
    site. ``same-origin``, not ``no-referrer``: with the latter, browsers send ``Origin:
    null`` with the page's own form, which Django's CSRF check refuses (the reviewers' 403)."""
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def preview_response(request, digest, *, link=None, review=None):
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
    status = 200
    if link is not None:
        context["share_link"] = link
        context["share_until"] = workflow.site_time(link.expires_at)
        context.update(_review_context(request, link, entries, review or {}))
        status = 400 if review and review.get("error") else 200
    return _private(render(request, "papers/digest_detail.html", context, status=status))


def _review_context(request, link, entries, review: dict) -> dict:
    """The reviewers' comments under a shared digest and the form to add one: on the
    digest or on one section of one of its papers."""
    kinds = list(SectionKind.objects.all())
    targets = [  # one group of sections per paper
        (
            f"{entry.position}. {Truncator(entry.paper.title).chars(60)}",
            [(f"{entry.paper_id}:{kind.slug}", kind.name_zh) for kind in kinds],
        )
        for entry in entries
    ]
    comments = (
        ReviewComment.objects.filter(digest=link.digest_id, parent=None)
        .select_related("paper", "kind")
        .prefetch_related("replies")
    )
    return {
        "review_comments": comments,
        "review_targets": targets,
        "review_error": review.get("error", ""),
        "review_values": review.get("values", {}),
        "review_thanks": "thanks" in request.GET,
    }


def share_preview(request, token):
    """``/preview/<token>/``: the digest as it is now, marked as a preview: a draft as it
    stands, a live digest with its unpublished changes (its working copy) if it has some.
    An unknown or forged token is a 404; an expired or revoked one a 410 that says so.
    No comment section: a reader's form cannot post to a draft (the context has no
    ``comment_section``, so the template leaves it out)."""
    link = workflow.share_link_from_token(token)
    gone = _gone(request, link)
    if gone is not None:
        return gone
    digest = workflow.shared_digest(link)
    return preview_response(request, digest, link=link)


def _gone(request, link):
    """The answer for a link that no longer opens its page (or None while it does)."""
    if link is None:
        return _private(
            render(request, "papers/share_link_gone.html", {"reason": "unknown"}, status=404)
        )
    if not link.is_active:
        reason = "revoked" if link.revoked_at else "expired"
        context = {"reason": reason, "when": workflow.site_time(link.expires_at)}
        return _private(render(request, "papers/share_link_gone.html", context, status=410))
    return None


@require_POST
def share_comment(request, token):
    """``/preview/<token>/comments/``: a reviewer's remark, with a name, on the digest or one
    section. Whoever holds a valid link may write; an expired or revoked one may not (410)."""
    link = workflow.share_link_from_token(token)
    gone = _gone(request, link)
    if gone is not None:
        return gone
    values = {key: request.POST.get(key, "") for key in ("name", "body", "target")}
    try:
        services.review_comment_add(link=link, **values)
    except (ValidationError, PermissionDenied) as exc:
        error = " ".join(getattr(exc, "messages", None) or [str(exc)])
        digest = workflow.shared_digest(link)
        return preview_response(
            request, digest, link=link, review={"error": error, "values": values}
        )
    return _private(HttpResponseRedirect(link.get_absolute_url() + "?thanks=1#review"))
