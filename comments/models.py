"""Reader comments and their moderation: comments on a digest or an entry, readers' flags,
the blocklist, closed threads, the moderation audit trail and the counter of dropped bots.

A comment is visible to readers only once approved (pre-moderation, as on WeChat: the
operator picks the comments worth showing, pins the best ones as 精选 and replies under them).
Every write goes through ``comments/services.py``; these models only hold the data.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from comments.markup import render_comment
from papers.models import Digest, Entry

# The moderation queue's first sort key: 0 for pending comments, 1 for the rest. One
# definition for the queryset and its index (an expression index must match it exactly).
QUEUE_RANK = models.Case(
    models.When(status="pending", then=models.Value(0)),
    default=models.Value(1),
    output_field=models.IntegerField(),
)


class CommentQuerySet(models.QuerySet):
    def approved(self):
        """Comments readers may see."""
        return self.filter(status=Comment.Status.APPROVED)

    def for_target(self, target):
        """Comments on ``target`` (a Digest or an Entry), replies included."""
        if isinstance(target, Entry):
            return self.filter(entry=target)
        return self.filter(digest=target)

    def pending_first(self):
        """The moderation queue's order: pending comments first, then newest first."""
        return self.annotate(_queue_rank=QUEUE_RANK).order_by("_queue_rank", "-created_at", "-id")


class Comment(models.Model):
    """A reader's comment on a published digest or on one paper of it, or a staff reply.

    Exactly one of ``digest`` and ``entry`` is set (a database constraint). Replies go one
    level deep: a reply's parent is always a top-level comment on the same target.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SPAM = "spam", _("Spam")

    digest = models.ForeignKey(
        Digest,
        verbose_name=_("digest"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
    )
    entry = models.ForeignKey(
        Entry,
        verbose_name=_("paper in a digest"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("in reply to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    author_name = models.CharField(_("name"), max_length=60, blank=True)
    email = models.EmailField(
        _("email"), blank=True, help_text=_("Never shown to readers. Erasable on request.")
    )
    email_hash = models.CharField(
        _("commenter key"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("A keyed hash of the email, to count a commenter's earlier comments."),
    )
    notify = models.BooleanField(
        _("tell the commenter"),
        default=False,
        help_text=_(
            "The commenter asked to be mailed when the comment is approved and when it is answered."
        ),
    )
    body = models.TextField(_("comment"))
    body_html = models.TextField(_("rendered comment"), editable=False, blank=True)
    body_hash = models.CharField(max_length=64, editable=False, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    held_reason = models.TextField(
        _("why it was held"),
        blank=True,
        help_text=_("The rules that sent this comment to the queue, or why it was approved."),
    )
    is_pinned = models.BooleanField(
        _("精选 (pinned)"), default=False, help_text=_("Pinned comments are shown first.")
    )
    is_staff_reply = models.BooleanField(_("staff reply"), default=False)
    staff_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comment_replies",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    flag_count = models.PositiveIntegerField(_("flags"), default=0)
    created_at = models.DateTimeField(_("posted"), auto_now_add=True, db_index=True)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        db_table = "papers_comment"
        ordering = ["-created_at", "-id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        permissions = [
            (
                "moderate_comment",
                _("Can moderate comments (approve, reject, spam, pin, reply, erase)"),
            )
        ]
        indexes = [
            # A thread in its order (``created_at``, then the id, which SQLite appends to
            # every index): without statistics, SQLite otherwise preferred walking every
            # approved comment in the queue index's order (31 ms at 20,000 digests).
            models.Index(
                fields=["digest", "status", "created_at"], name="comment_digest_thread_idx"
            ),
            models.Index(fields=["entry", "status", "created_at"], name="comment_entry_thread_idx"),
            models.Index(fields=["status", "created_at"], name="comment_queue_idx"),
            # The moderation queue's order (``pending_first()``): pending first, then newest.
            # The expression is the one the queryset sorts by, so the queue's first page is
            # read from the index instead of sorting every comment.
            models.Index(
                QUEUE_RANK,
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="comment_queue_order_idx",
            ),
            # The same order within one status (the queue's status filter).
            models.Index(
                "status",
                QUEUE_RANK,
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="comment_status_order_idx",
            ),
            # Approved in the last 24 hours (dashboard), pinned (a filter of the queue).
            models.Index(fields=["status", "moderated_at"], name="comment_moderated_idx"),
            models.Index(
                fields=["created_at"], name="comment_pinned_idx", condition=Q(is_pinned=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(digest__isnull=False) & Q(entry__isnull=True))
                | (Q(digest__isnull=True) & Q(entry__isnull=False)),
                name="comment_exactly_one_target",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="comment_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(is_staff_reply=False) | Q(status="approved") | Q(status="rejected"),
                name="comment_staff_reply_never_queued",
            ),
        ]

    def __str__(self):
        return f"{self.display_name}: {self.excerpt}"

    def save(self, *args, **kwargs):
        self.body_html = render_comment(self.body)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.target.get_absolute_url()}#comment-{self.pk}"

    @property
    def target(self):
        return self.entry if self.entry_id else self.digest

    @property
    def display_name(self) -> str:
        return self.author_name or str(_("Anonymous"))

    @property
    def excerpt(self) -> str:
        text = " ".join(self.body.split())
        return text if len(text) <= 80 else text[:79] + "…"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class CommentFlag(models.Model):
    """A reader's report that a published comment should not be there. One per reader."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="flags"
    )
    reader_key = models.CharField(_("reader"), max_length=64)
    ip_key = models.CharField(_("network"), max_length=64)
    created_at = models.DateTimeField(_("flagged"), auto_now_add=True)

    class Meta:
        db_table = "papers_commentflag"
        ordering = ["-created_at"]
        verbose_name = _("comment flag")
        verbose_name_plural = _("comment flags")
        constraints = [
            models.UniqueConstraint(fields=["comment", "reader_key"], name="flag_once_per_reader"),
            models.UniqueConstraint(fields=["comment", "ip_key"], name="flag_once_per_network"),
        ]

    def __str__(self):
        return f"#{self.comment_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class BlockedTerm(models.Model):
    """A word, domain or address that holds a comment for moderation whatever the
    commenter's history. Matched case-insensitively in the name, email, body and IP."""

    term = models.CharField(
        _("term"),
        max_length=200,
        unique=True,
        help_text=_(
            "A word, a domain (spam.example) or an IP address or prefix (203.0.113.). "
            "Any comment containing it is held for moderation."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        db_table = "papers_blockedterm"
        ordering = ["term"]
        verbose_name = _("blocked term")
        verbose_name_plural = _("blocked terms")

    def __str__(self):
        return self.term

    def save(self, *args, **kwargs):
        self.term = self.term.strip().lower()
        super().save(*args, **kwargs)


class CommentClosure(models.Model):
    """Comments closed on one digest (and on each of its papers) by a moderator."""

    digest = models.OneToOneField(
        Digest,
        verbose_name=_("digest"),
        on_delete=models.CASCADE,
        related_name="comment_closure",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), auto_now_add=True)

    class Meta:
        db_table = "papers_commentclosure"
        ordering = ["-closed_at"]
        verbose_name = _("closed comment thread")
        verbose_name_plural = _("closed comment threads")

    def __str__(self):
        return str(self.digest)


class ModerationRecord(models.Model):
    """The audit trail: every moderation decision, automatic or by a person, with its
    reason; erasures and moderator notifications too."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted and held")
        AUTO_APPROVED = "auto_approved", _("Approved automatically")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SPAM = "spam", _("Marked as spam")
        PINNED = "pinned", _("Pinned")
        UNPINNED = "unpinned", _("Unpinned")
        REPLIED = "replied", _("Staff reply")
        REQUEUED = "requeued", _("Sent back to the queue by flags")
        CLOSED = "closed", _("Comments closed")
        OPENED = "opened", _("Comments opened")
        ERASED = "erased", _("Commenter erased")
        NOTIFIED = "notified", _("Moderators notified")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    comment = models.ForeignKey(
        Comment,
        verbose_name=_("comment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_records",
    )
    digest = models.ForeignKey(
        Digest,
        verbose_name=_("digest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for automatic decisions."),
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "papers_moderationrecord"
        ordering = ["-created_at", "-id"]
        verbose_name = _("moderation record")
        verbose_name_plural = _("moderation records")

    def __str__(self):
        return f"{self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class DroppedSubmissionCount(models.Model):
    """How many submissions a day were dropped as bots (honeypot, form filled too fast),
    by reason. Nothing else about a dropped submission is stored."""

    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=40)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        db_table = "papers_droppedsubmissioncount"
        ordering = ["-day", "reason"]
        verbose_name = _("dropped submissions")
        verbose_name_plural = _("dropped submissions")
        constraints = [
            models.UniqueConstraint(fields=["day", "reason"], name="dropped_unique_day_reason")
        ]

    def __str__(self):
        return f"{self.day} {self.reason}: {self.count}"


class CommentNotice(models.Model):
    """A mail that told a commenter something about their comment: approved, or answered
    (``event`` is ``approved`` or ``reply:<id>``). Unique, so each event is told once."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="notices"
    )
    event = models.CharField(_("event"), max_length=40)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("comment notice")
        verbose_name_plural = _("comment notices")
        constraints = [
            models.UniqueConstraint(fields=["comment", "event"], name="comment_notice_once")
        ]

    def __str__(self):
        return f"#{self.comment_id} {self.event}"
