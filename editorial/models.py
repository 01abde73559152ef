"""The editorial workflow's records: the audit log of state changes, revisions (JSON
snapshots of a digest with its entries), share links for reviewers without an account, and
who has a digest open for editing.

State changes themselves live in ``editorial/services.py``; these models only remember them.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from papers.models import Digest


class AuditRecord(models.Model):
    """One editorial action on a digest: who did what, when, from which state to which, and
    the message they gave (a reason for sending back, a note on publishing)."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        SUBMIT = "submit", _("Submitted for review")
        APPROVE = "approve", _("Approved")
        SEND_BACK = "send_back", _("Sent back to draft")
        PUBLISH = "publish", _("Published")
        SCHEDULE = "schedule", _("Scheduled")
        UNPUBLISH = "unpublish", _("Unpublished")
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Revision restored")
        DELETE = "delete", _("Deleted")
        WENT_LIVE = "went_live", _("Went live")
        SHARE = "share", _("Share link created")
        REVOKE = "revoke", _("Share link revoked")
        WORKING_COPY = "working_copy", _("Changes to the live version started")
        PUBLISH_CHANGES = "publish_changes", _("Changes published")
        DISCARD_CHANGES = "discard_changes", _("Changes discarded")

    digest = models.ForeignKey(
        Digest,
        verbose_name=_("digest"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_records",
        help_text=_("Empty once the digest is deleted; the record stays."),
    )
    digest_label = models.CharField(
        _("digest as it was"), max_length=250, help_text=_("Title and date at the time.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=16, choices=Digest.Status.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=Digest.Status.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    effective_at = models.DateTimeField(
        _("go-live time"),
        null=True,
        blank=True,
        help_text=_("For publishing and scheduling: the go-live time it set."),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "papers_auditrecord"
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["digest", "action"], name="audit_digest_action_idx")]

    def __str__(self):
        return (
            f"{self.get_action_display()}: {self.digest_label} ({self.created_at:%Y-%m-%d %H:%M})"
        )


class Revision(models.Model):
    """A saved version of a digest: a JSON snapshot of its fields, tags and every entry with
    its sections and figures, with who saved it, when and why. Restoring one writes its
    content back as a new revision; history is never rewritten."""

    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("number"), help_text=_("1 for the first save…"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    message = models.CharField(_("message"), max_length=300, blank=True)
    snapshot = models.JSONField(_("content"))
    published = models.BooleanField(
        _("published version"),
        default=False,
        help_text=_("Saved when the digest was published or scheduled; pruning keeps it."),
    )
    saved_at = models.DateTimeField(
        _("last saved"),
        null=True,
        blank=True,
        help_text=_(
            "Set for a revision of the one-page editor: its autosaves of the next few minutes "
            "are merged into it instead of each making a revision."
        ),
    )
    saves = models.PositiveIntegerField(
        _("saves"), default=1, help_text=_("How many saves this revision holds.")
    )

    class Meta:
        db_table = "papers_revision"
        ordering = ["digest", "-number"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        permissions = [("restore_revision", _("Can restore an earlier revision of a digest"))]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "number"], name="revision_unique_number_per_digest"
            ),
        ]

    def __str__(self):
        return f"#{self.number} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def version(self) -> str:
        """What a page that loaded this revision sends back to say what it is based on:
        the number, and the count of saves merged into it when there were several."""
        return str(self.number) if self.saves <= 1 else f"{self.number}.{self.saves}"


# Signing salt of share-link tokens (its old name: changing it would void every link given out).
SHARE_SALT = "papers.share-link"


class ShareLinkQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Links that still open their preview (not revoked, not expired)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


def default_share_expiry():
    return timezone.now() + datetime.timedelta(days=settings.SHARE_LINK_DAYS)


class ShareLink(models.Model):
    """A link an editor gives to a reviewer without an account: it shows the digest's
    current draft, with the preview banner, until it expires or is revoked."""

    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="share_links"
    )
    key = models.CharField(max_length=32, unique=True, editable=False)
    note = models.CharField(
        _("for"), max_length=120, blank=True, help_text=_("Who the link is for, e.g. Dr Wang.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=default_share_expiry)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        db_table = "papers_sharelink"
        ordering = ["-created_at", "-id"]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="sharelink_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"{self.digest_id}: {self.note or self.key[:6]}"

    def get_absolute_url(self):
        return reverse("editorial:share-preview", kwargs={"token": self.token})

    @property
    def token(self) -> str:
        """The signed token in the link's address (its id and its random key)."""
        return signing.dumps([self.pk, self.key], salt=SHARE_SALT)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class EditPresence(models.Model):
    """The last time a user opened a digest's edit page, so others editing it can be told."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="edit_presence")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "papers_editpresence"
        verbose_name = _("edit presence")
        verbose_name_plural = _("edit presence")
        constraints = [
            models.UniqueConstraint(fields=["digest", "user"], name="presence_one_per_user"),
        ]

    def __str__(self):
        return f"{self.user_id} on {self.digest_id} at {self.seen_at:%H:%M}"


class ReviewComment(models.Model):
    """A reviewer's remark left through a share link, on the whole digest or on one section
    of one paper, or a staff member's reply to one. Editors resolve them. Sections are
    named by paper and kind, not by row, so a remark outlives the working copy it was made
    on (publishing rewrites the rows)."""

    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="review_comments"
    )
    link = models.ForeignKey(
        ShareLink,
        verbose_name=_("share link"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    paper = models.ForeignKey(
        "papers.Paper",
        verbose_name=_("paper"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.ForeignKey(
        "papers.SectionKind",
        verbose_name=_("section"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=80)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("reviewer comment")
        verbose_name_plural = _("reviewer comments")
        indexes = [models.Index(fields=["digest", "paper"], name="review_digest_paper_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__isnull=True) | Q(paper__isnull=False),
                name="review_section_names_its_paper",
            ),
        ]

    def __str__(self):
        return f"{self.name}: {self.body[:40]}"


class AnalyticsSnapshot(models.Model):
    """One report of the analytics page for one period, as the worker last computed it
    (editorial/analytics.py): the page, its charts and its CSVs read these rows, never the
    daily figures, so they answer at once whatever the size of the archive."""

    name = models.SlugField(_("report"), max_length=40)
    anchor = models.SlugField(_("anchor on the page"), max_length=40)
    days = models.PositiveSmallIntegerField(_("days"))
    grain = models.CharField(_("grain"), max_length=8)
    today = models.DateField(_("last day"))
    computed_at = models.DateTimeField(_("computed"))
    chart = models.CharField(_("chart"), max_length=8)
    # The report's title, column names and note in each language of the site:
    # {"zh-hans": {"title": ..., "columns": [...], "note": ...}, "en": {...}}.
    labels = models.JSONField(_("labels"))
    rows = models.JSONField(_("rows"))

    class Meta:
        verbose_name = _("analytics snapshot")
        verbose_name_plural = _("analytics snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["days", "grain", "name"], name="analyticssnapshot_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.days} days by {self.grain}) at {self.computed_at:%H:%M}"
