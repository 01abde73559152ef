"""The comment queue's counts on the admin index (for users who may moderate)."""

import datetime

from django import template
from django.db.models import Sum
from django.utils import timezone

from comments.models import Comment, DroppedSubmissionCount
from comments.services import MODERATE_PERMISSION

register = template.Library()


@register.simple_tag
def comment_queue_summary(user):
    """Counts for the moderation box, or ``None`` for users who may not moderate."""
    if not user.has_perm(MODERATE_PERMISSION):
        return None
    since = timezone.now() - datetime.timedelta(days=1)
    # Three counts, each answered by an index on (status, …); one aggregate with FILTER
    # clauses read every comment ever written.
    pending = Comment.objects.filter(status=Comment.Status.PENDING)
    counts = {
        "pending": pending.count(),
        "requeued": pending.filter(flag_count__gt=0).count(),
        "approved_today": Comment.objects.filter(
            status=Comment.Status.APPROVED, moderated_at__gte=since
        ).count(),
    }
    dropped = DroppedSubmissionCount.objects.filter(day=timezone.localdate()).aggregate(
        n=Sum("count")
    )
    counts["dropped_today"] = dropped["n"] or 0
    return counts
