"""The subscribers in the back office: the list (read-only: readers change their own
choices through their signed link), its CSV export, erasure by address, the send reports of
mailings and their deliveries, and the audit trail. Export and erasure call
subscriptions/services.py, which checks the permission on the server and writes the record.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from papers.admin_scale import LargeTableAdminMixin
from papers.spreadsheets import csv_response
from subscriptions import services as svc
from subscriptions.models import Delivery, Mailing, Subscriber, SubscriptionRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ["email", "status", "everything", "language", "created_at", "confirmed_at"]
    list_filter = ["status", "everything", "language"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    actions = ["export_selected"]
    fields = [
        "email",
        "status",
        "everything",
        "tags",
        "categories",
        "language",
        "created_at",
        "confirmation_sent_at",
        "reminded_at",
        "confirmed_at",
        "stopped_at",
        "stop_reason",
    ]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False  # erasure by address (audited) instead: see erase_view

    @admin.action(description=_("Export the selected subscribers (CSV)"))
    def export_selected(self, request, queryset):
        rows = svc.subscribers_export(by=request.user, queryset=queryset)
        return csv_response(rows, f"subscribers-{timezone.localdate():%Y%m%d}.csv")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="subscriptions_subscriber_export"),
            path("erase/", wrap(self.erase_view), name="subscriptions_subscriber_erase"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm(svc.EXPORT_PERMISSION),
            "can_erase": request.user.has_perm(svc.ERASE_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """Every subscriber as CSV (audited)."""
        rows = svc.subscribers_export(by=request.user)
        return csv_response(rows, f"subscribers-{timezone.localdate():%Y%m%d}.csv")

    def erase_view(self, request):
        """Remove an address and what names it, on the reader's request (audited)."""
        if not request.user.has_perm(svc.ERASE_PERMISSION):
            raise PermissionDenied
        form = EraseSubscriberForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                count = svc.subscriber_erase(
                    email=data["email"], by=request.user, reason=data["reason"]
                )
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                self.message_user(
                    request,
                    ngettext("Erased %d subscriber.", "Erased %d subscribers.", count) % count
                    if count
                    else _("No subscriber has this address; the request is recorded."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:subscriptions_subscriber_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase a subscriber"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/subscriptions/subscriber/erase.html", context)


class EraseSubscriberForm(forms.Form):
    email = forms.EmailField(label=_("subscriber's email"))
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        max_length=200,
        help_text=_("For the audit record, e.g. “request by email of 3 May”."),
    )
    confirm = forms.BooleanField(label=_("I understand this cannot be undone"))


def _count(state):
    rows = (
        Delivery.objects.filter(mailing=OuterRef("pk"), state=state)
        .order_by()
        .values("mailing")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@admin.register(Mailing)
class MailingAdmin(ReadOnlyAdmin):
    """The send reports: one row per digest and go-live time."""

    list_display = [
        "digest",
        "go_live",
        "intended",
        "sent",
        "failed",
        "bounced",
        "skipped",
        "waiting",
        "created_at",
        "finished_at",
    ]
    list_select_related = ["digest"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # One counting subquery per state and row (read along the (mailing, state) index),
        # not a join that groups every delivery of every mailing.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=_count(Delivery.State.SENT),
                n_failed=_count(Delivery.State.FAILED),
                n_bounced=_count(Delivery.State.BOUNCED),
                n_skipped=_count(Delivery.State.SKIPPED),
                n_queued=_count(Delivery.State.QUEUED),
                n_sending=_count(Delivery.State.SENDING),
            )
        )

    @admin.display(description=_("sent"), ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description=_("failed"), ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description=_("bounced"), ordering="n_bounced")
    def bounced(self, obj):
        return obj.n_bounced

    @admin.display(description=_("skipped"))
    def skipped(self, obj):
        return obj.n_skipped

    @admin.display(description=_("waiting"))
    def waiting(self, obj):
        return obj.n_queued + obj.n_sending


class RecentMailingFilter(admin.RelatedFieldListFilter):
    """The latest mailings, each with its digest read in the same query (a filter of every
    mailing ever sent would read each one's digest apart, one more query a day)."""

    def field_choices(self, field, request, model_admin):
        mailings = Mailing.objects.select_related("digest").order_by("-created_at")[:50]
        return [(m.pk, str(m)) for m in mailings]


@admin.register(Delivery)
class DeliveryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ["id", "mailing", "subscriber", "state", "sent_at", "error"]
    list_filter = ["state", ("mailing", RecentMailingFilter)]
    list_select_related = ["mailing__digest", "subscriber"]
    search_fields = ["subscriber__email", "message_id"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SubscriptionRecord)
class SubscriptionRecordAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ["created_at", "action", "subscriber", "actor", "reason"]
    list_filter = ["action"]
    list_select_related = ["subscriber", "actor"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False
