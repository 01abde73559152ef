"""The editorial dashboard on the admin index page."""

from django import template
from django.utils import timezone

from editorial import workflow
from editorial.models import Revision
from papers.models import Digest

register = template.Library()

DASHBOARD_ROWS = 10


@register.filter
def site_time(moment):
    """``2025-09-30 08:00 (Asia/Shanghai)``: a time in the site's zone, zone named."""
    return workflow.site_time(moment)


@register.simple_tag(takes_context=True)
def editorial_dashboard(context):
    """My drafts, waiting for review, scheduled, recently published. Empty for users who
    cannot see digests. (Comments waiting for moderation are the comments module's box,
    ``comment_queue_summary``, on the same page.)"""
    request = context["request"]
    user = request.user
    if not user.has_perm("papers.view_digest"):
        return None
    now = timezone.now()
    digests = Digest.objects.with_entry_count().only(
        "id", "title", "issue_date", "status", "published_at", "expires_at", "updated_at"
    )
    mine = Revision.objects.filter(author=user).values("digest_id")  # created or saved
    scheduled = list(
        digests.filter(status=Digest.Status.PUBLISHED, published_at__gt=now).order_by(
            "published_at"
        )[:DASHBOARD_ROWS]
    )
    recently = list(
        digests.filter(status__in=Digest.READABLE_STATES, published_at__lte=now).order_by(
            "-published_at"
        )[:DASHBOARD_ROWS]
    )
    for digest in scheduled + recently:
        digest.go_live = workflow.site_time(digest.published_at)
    return {
        "my_drafts": list(
            digests.filter(status=Digest.Status.DRAFT, pk__in=mine).order_by("-updated_at")[
                :DASHBOARD_ROWS
            ]
        ),
        "in_review": list(
            digests.filter(status=Digest.Status.REVIEW).order_by("updated_at")[:DASHBOARD_ROWS]
        ),
        "scheduled": scheduled,
        "recently_published": recently,
        "zone": workflow.site_zone().key,
    }
