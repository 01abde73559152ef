"""Readers who get the digest by mail, and the record of every mail sent to them.

A reader subscribes with an address; nothing but the confirmation (and at most one reminder)
goes to it until they confirm through the signed link in that mail (double opt-in). A
``Mailing`` is one digest going out at one go-live time; a ``Delivery`` is the promise that
one subscriber gets one digest at most once: it is claimed before the mail leaves. Every write
goes through ``subscriptions/services.py``; these models only hold the data.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from papers.models import Category, Digest


class Subscriber(models.Model):
    """An address that asked for the digest by mail: every new digest, or only those carrying
    chosen tags or categories."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Stopped: mail bounced")
        COMPLAINED = "complained", _("Stopped: reported as spam")

    email = models.EmailField(_("email"), unique=True, help_text=_("Stored in lower case."))
    key = models.CharField(
        _("link key"),
        max_length=32,
        unique=True,
        editable=False,
        help_text=_("Random; the signed links in the subscriber's mail carry it."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    everything = models.BooleanField(
        _("every digest"),
        default=True,
        help_text=_("Off: only digests carrying one of the chosen tags or categories."),
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    created_at = models.DateTimeField(_("signed up"), auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    stop_reason = models.CharField(_("why it stopped"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        indexes = [models.Index(fields=["status", "everything"], name="subscriber_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="subscriber_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="subscriber_email_lower_case",
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED


class Mailing(models.Model):
    """One digest mailed to its subscribers at one go-live time: the send report."""

    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="mailings"
    )
    go_live = models.DateTimeField(_("go-live time"))
    intended = models.PositiveIntegerField(
        _("intended"), default=0, help_text=_("Confirmed subscribers the digest was for.")
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings (send reports)")
        constraints = [
            models.UniqueConstraint(fields=["digest", "go_live"], name="mailing_once_per_go_live")
        ]

    def __str__(self):
        return f"{self.digest.title} ({self.go_live:%Y-%m-%d %H:%M})"


class Delivery(models.Model):
    """One subscriber's copy of one digest. Unique per subscriber and digest: claimed
    (``sending``) before the mail leaves, so no crash or restart sends it twice."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        SKIPPED = "skipped", _("Skipped (unsubscribed meanwhile)")

    mailing = models.ForeignKey(
        Mailing, verbose_name=_("mailing"), on_delete=models.CASCADE, related_name="deliveries"
    )
    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.CASCADE, related_name="+"
    )
    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        help_text=_("Empty once the subscriber was erased."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    message_id = models.CharField(_("message id"), max_length=250, blank=True, db_index=True)
    error = models.TextField(_("error"), blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["mailing", "state"], name="delivery_mailing_state_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "digest"], name="delivery_once_per_subscriber"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_state_display()}"


class SubscriptionRecord(models.Model):
    """The audit trail: sign-ups, confirmations, changes, stops, bounces, exports, erasures
    and test mails. An erasure's record keeps how many, never the address."""

    class Action(models.TextChoices):
        REQUESTED = "requested", _("Signed up (confirmation sent)")
        REMINDED = "reminded", _("Reminder sent")
        CONFIRMED = "confirmed", _("Confirmed")
        CHANGED = "changed", _("Choices changed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        RESUBSCRIBED = "resubscribed", _("Subscribed again")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Reported as spam")
        EXPIRED = "expired", _("Never confirmed; removed")
        EXPORTED = "exported", _("Subscribers exported")
        ERASED = "erased", _("Subscriber erased")
        TEST_SENT = "test_sent", _("Test mail sent")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when the reader or the mail system did it."),
    )
    reason = models.TextField(_("details"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("subscription record")
        verbose_name_plural = _("subscription records")

    def __str__(self):
        return f"{self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"
