"""The moderation back office: the comment queue (pending first), bulk decisions, pins,
staff replies, the blocklist, closed threads, erasure of a commenter and the audit trail.

Every decision calls comments/services.py, which checks ``comments.moderate_comment`` on the
server: a crafted POST by someone without it changes nothing.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from comments import services as svc
from comments.models import (
    BlockedTerm,
    Comment,
    CommentClosure,
    DroppedSubmissionCount,
    ModerationRecord,
)
from papers.admin_scale import LargeTableAdminMixin
from papers.models import Digest, Entry

Status = Comment.Status


def _history_count(status=None):
    """A subquery: how many comments share this comment's commenter key (by status)."""
    rows = Comment.objects.filter(email_hash=OuterRef("email_hash")).exclude(email_hash="")
    if status:
        rows = rows.filter(status=status)
    counted = rows.order_by().values("email_hash").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


RECENT_COMMENTS_FOR_DIGEST_FILTER = 2000


class TargetDigestFilter(admin.SimpleListFilter):
    """Comments on one digest, whether on the digest itself or on one of its papers. The
    choices are the digests commented on lately (any digest id works in the URL)."""

    title = _("digest")
    parameter_name = "on_digest"

    def lookups(self, request, model_admin):
        # The digests of the latest comments (up to 50 digests, newest issue first): read
        # from the comments' time index, a bounded number of rows. Asking every digest
        # whether it has a comment hashed the whole comment table on each queue page.
        digest_ids = []
        recent = Comment.objects.order_by("-created_at", "-id").values_list(
            "digest_id", "entry__digest_id"
        )[:RECENT_COMMENTS_FOR_DIGEST_FILTER]
        for direct, via_entry in recent:
            digest_id = direct or via_entry
            if digest_id not in digest_ids:
                digest_ids.append(digest_id)
                if len(digest_ids) == 50:
                    break
        digests = Digest.objects.filter(pk__in=digest_ids).only("id", "title", "issue_date")
        return [(str(d.pk), str(d)) for d in digests.order_by("-issue_date", "-id")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            # The digest's entry ids first (a handful), so both arms of the OR are index
            # lookups on the comment table; a join to entries made it scan every comment.
            entry_ids = list(Entry.objects.filter(digest_id=value).values_list("pk", flat=True))
            return queryset.filter(Q(digest_id=value) | Q(entry_id__in=entry_ids))
        return queryset


class TargetKindFilter(admin.SimpleListFilter):
    title = _("target")
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("digest", _("a digest")), ("entry", _("a paper in a digest"))]

    def queryset(self, request, queryset):
        if self.value() == "digest":
            return queryset.filter(digest__isnull=False)
        if self.value() == "entry":
            return queryset.filter(entry__isnull=False)
        return queryset


class CommentModerationForm(forms.ModelForm):
    """The change page: a decision and a staff reply; the reader's text is not editable."""

    decision = forms.ChoiceField(
        label=_("decision"),
        required=False,
        choices=[
            ("", _("(no change)")),
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("spam", _("Mark as spam")),
            ("pin", _("Pin (精选)")),
            ("unpin", _("Unpin")),
        ],
    )
    reply = forms.CharField(
        label=_("staff reply"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Published at once under this comment, with a staff badge."),
    )

    class Meta:
        model = Comment
        fields = []


@admin.register(Comment)
class CommentAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    form = CommentModerationForm
    list_display = [
        "status_label",
        "excerpt_link",
        "target_link",
        "commenter",
        "history",
        "held_reason_short",
        "ip_address",
        "agent",
        "flag_count",
        "created_at",
    ]
    list_display_links = None
    changelist_defer = (
        "body_html",
        "digest__summary",
        "entry__unplaced_text",
        "entry__digest__summary",
        "entry__paper__abstract",
        "entry__paper__arxiv_snapshot",
        "entry__paper__authors",
        "entry__paper__affiliations",
    )
    list_filter = [
        "status",
        "is_pinned",
        "is_staff_reply",
        TargetKindFilter,
        TargetDigestFilter,
    ]
    search_fields = ["body", "author_name", "email", "ip_address"]
    list_per_page = 50
    MODERATION_ACTIONS = [
        "approve_selected",
        "reject_selected",
        "spam_selected",
        "pin_selected",
        "unpin_selected",
    ]
    actions = MODERATION_ACTIONS
    readonly_fields = [
        "status",
        "target_link",
        "parent_link",
        "author_name",
        "email",
        "ip_address",
        "user_agent",
        "created_at",
        "held_reason",
        "is_pinned",
        "is_staff_reply",
        "flag_count",
        "moderated_by",
        "moderated_at",
        "rendered_body",
        "history",
        "records",
    ]
    fieldsets = [
        (None, {"fields": ["status", "target_link", "parent_link", "rendered_body"]}),
        (
            _("Commenter"),
            {"fields": ["author_name", "email", "history", "ip_address", "user_agent"]},
        ),
        (
            _("Moderation"),
            {
                "fields": [
                    "created_at",
                    "held_reason",
                    "flag_count",
                    "is_pinned",
                    "is_staff_reply",
                    "moderated_by",
                    "moderated_at",
                    "records",
                ]
            },
        ),
        (_("Decide and reply"), {"fields": ["decision", "reply"]}),
    ]

    # --- the queue -------------------------------------------------------------------

    def get_queryset(self, request):
        # Not super(): it would order by get_ordering() before the rank is annotated.
        return (
            self.model._default_manager.get_queryset()
            .select_related("digest", "entry__digest", "entry__paper", "moderated_by")
            .annotate(
                _approved_before=_history_count(Status.APPROVED),
                _spam_before=_history_count(Status.SPAM),
                _all_before=_history_count(),
            )
            .pending_first()
        )

    def get_ordering(self, request):
        return ["_queue_rank", "-created_at", "-id"]

    def has_add_permission(self, request):
        return False  # comments come from readers; staff answer with a reply

    def has_moderate_permission(self, request):
        return request.user.has_perm(svc.MODERATE_PERMISSION)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.has_moderate_permission(request):
            fieldsets = fieldsets[:-1]
        return fieldsets

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        parts = [obj.get_status_display()]
        if obj.is_pinned:
            parts.append(_("Featured"))
        if obj.is_staff_reply:
            parts.append(_("Staff"))
        return " · ".join(str(part) for part in parts)

    @admin.display(description=_("comment"))
    def excerpt_link(self, obj):
        url = reverse("admin:comments_comment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.excerpt)

    @admin.display(description=_("on"))
    def target_link(self, obj):
        target = obj.target
        label = str(target.digest.title + f" · {target.position}" if obj.entry_id else target)
        if target.is_published if obj.digest_id else target.digest.is_published:
            return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)
        return label

    @admin.display(description=_("in reply to"))
    def parent_link(self, obj):
        if not obj.parent_id:
            return "—"
        url = reverse("admin:comments_comment_change", args=[obj.parent_id])
        return format_html('<a href="{}">#{}</a>', url, obj.parent_id)

    @admin.display(description=_("name"))
    def commenter(self, obj):
        return obj.display_name

    @admin.display(description=_("history"))
    def history(self, obj):
        if not obj.email_hash:
            return _("no email given")
        approved = getattr(obj, "_approved_before", 0)
        spam = getattr(obj, "_spam_before", 0)
        total = getattr(obj, "_all_before", 0)
        text = _("%(total)d comments: %(approved)d approved, %(spam)d spam") % {
            "total": total,
            "approved": approved,
            "spam": spam,
        }
        url = reverse("admin:comments_comment_changelist")
        return format_html('<a href="{}?email_hash={}">{}</a>', url, obj.email_hash, text)

    def lookup_allowed(self, lookup, value, request=None):
        # The history link lists one commenter's comments by their key.
        return lookup == "email_hash" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("why held"))
    def held_reason_short(self, obj):
        return obj.held_reason if len(obj.held_reason) < 90 else obj.held_reason[:89] + "…"

    @admin.display(description=_("user agent"))
    def agent(self, obj):
        return obj.user_agent[:40]

    @admin.display(description=_("comment"))
    def rendered_body(self, obj):
        # body_html was sanitised by nh3 when the comment was saved.
        return format_html('<div class="comment-body">{}</div>', mark_safe(obj.body_html))

    @admin.display(description=_("moderation records"))
    def records(self, obj):
        rows = obj.moderation_records.select_related("actor").order_by("created_at")
        items = format_html_join(
            "",
            "<li>{} · {} · {} {}</li>",
            (
                (
                    f"{timezone.localtime(r.created_at):%Y-%m-%d %H:%M}",
                    r.get_action_display(),
                    r.actor or _("automatic"),
                    r.reason,
                )
                for r in rows
            ),
        )
        return format_html("<ul>{}</ul>", items) if items else "—"

    # --- decisions -------------------------------------------------------------------

    def _run(self, request, queryset, service, done_message):
        done = 0
        for comment in queryset:
            try:
                service(comment)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"#{comment.pk}: {' '.join(exc.messages)}", "error")
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    def _decide(self, request, queryset, status, done_message):
        self._run(
            request,
            queryset,
            lambda c: svc.comment_moderate(comment=c, by=request.user, status=status),
            done_message,
        )

    @admin.action(description=_("Approve selected comments"), permissions=["moderate"])
    def approve_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            Status.APPROVED,
            lambda n: ngettext("Approved %d comment.", "Approved %d comments.", n) % n,
        )

    @admin.action(description=_("Reject selected comments"), permissions=["moderate"])
    def reject_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            Status.REJECTED,
            lambda n: ngettext("Rejected %d comment.", "Rejected %d comments.", n) % n,
        )

    @admin.action(description=_("Mark selected comments as spam"), permissions=["moderate"])
    def spam_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            Status.SPAM,
            lambda n: ngettext("Marked %d comment as spam.", "Marked %d comments as spam.", n) % n,
        )

    @admin.action(description=_("Pin selected comments (精选)"), permissions=["moderate"])
    def pin_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda c: svc.comment_set_pinned(comment=c, by=request.user, pinned=True),
            lambda n: ngettext("Pinned %d comment.", "Pinned %d comments.", n) % n,
        )

    @admin.action(description=_("Unpin selected comments"), permissions=["moderate"])
    def unpin_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda c: svc.comment_set_pinned(comment=c, by=request.user, pinned=False),
            lambda n: ngettext("Unpinned %d comment.", "Unpinned %d comments.", n) % n,
        )

    def delete_model(self, request, obj):
        svc.comments_delete(comments=[obj], by=request.user)

    def delete_queryset(self, request, queryset):
        svc.comments_delete(comments=list(queryset), by=request.user)

    def save_model(self, request, obj, form, change):
        """The change page stores nothing itself: the decision and the reply go through
        the services (which check the permission)."""
        decision = form.cleaned_data.get("decision")
        reply = form.cleaned_data.get("reply", "").strip()
        if (decision or reply) and not self.has_moderate_permission(request):
            raise PermissionDenied
        try:
            if decision in {"approve", "reject", "spam"}:
                status = {"approve": Status.APPROVED, "reject": Status.REJECTED}.get(
                    decision, Status.SPAM
                )
                svc.comment_moderate(comment=obj, by=request.user, status=status)
            elif decision in {"pin", "unpin"}:
                svc.comment_set_pinned(comment=obj, by=request.user, pinned=decision == "pin")
            if reply:
                svc.comment_reply(comment=obj, by=request.user, body=reply)
                self.message_user(request, _("Your reply is published."), messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited here

    def log_change(self, request, obj, message):
        pass  # ModerationRecord is the audit trail of comments

    # --- erasure ---------------------------------------------------------------------

    def get_urls(self):
        erase = self.admin_site.admin_view(self.erase_view)
        return [path("erase/", erase, name="comments_comment_erase"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        # Django would quietly drop an action the user may not run; a crafted moderation
        # POST from someone without the permission is answered with 403 instead.
        if (
            request.method == "POST"
            and request.POST.get("action") in self.MODERATION_ACTIONS
            and not self.has_moderate_permission(request)
        ):
            raise PermissionDenied
        extra_context = {
            **(extra_context or {}),
            "can_moderate": self.has_moderate_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def erase_view(self, request):
        """Remove or anonymise everything a commenter wrote, found by email address."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = EraseCommenterForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            count = svc.commenter_erase(
                email=data["email"],
                by=request.user,
                delete=data["mode"] == "delete",
                reason=data["reason"],
            )
            self.message_user(
                request,
                ngettext("Erased %d comment.", "Erased %d comments.", count) % count,
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:comments_comment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase a commenter"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/comments/comment/erase.html", context)


class EraseCommenterForm(forms.Form):
    email = forms.EmailField(label=_("commenter's email"))
    mode = forms.ChoiceField(
        label=_("what to do"),
        choices=[
            ("anonymise", _("Keep the comments, remove name, email, IP and user agent")),
            ("delete", _("Delete the comments")),
        ],
        widget=forms.RadioSelect,
        initial="anonymise",
    )
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        max_length=200,
        help_text=_("For the audit record, e.g. “request by email of 3 May”."),
    )
    confirm = forms.BooleanField(label=_("I understand this cannot be undone"))


@admin.register(BlockedTerm)
class BlockedTermAdmin(admin.ModelAdmin):
    list_display = ["term", "note", "created_at"]
    search_fields = ["term", "note"]


class CommentClosureForm(forms.ModelForm):
    class Meta:
        model = CommentClosure
        fields = ["digest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["digest"].queryset = Digest.objects.published().order_by("-issue_date")


@admin.register(CommentClosure)
class CommentClosureAdmin(admin.ModelAdmin):
    """Close comments on a digest (add a row) or reopen them (delete it)."""

    form = CommentClosureForm
    list_display = ["digest", "closed_by", "closed_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        closure = svc.comments_close(digest=obj.digest, by=request.user)
        obj.pk = closure.pk

    def delete_model(self, request, obj):
        svc.comments_reopen(digest=obj.digest, by=request.user)

    def delete_queryset(self, request, queryset):
        for closure in queryset.select_related("digest"):
            svc.comments_reopen(digest=closure.digest, by=request.user)

    def log_addition(self, request, obj, message):
        pass  # ModerationRecord is the audit trail

    def log_deletions(self, request, queryset):
        pass


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModerationRecord)
class ModerationRecordAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "comment", "digest", "reason"]
    list_filter = ["action"]
    list_select_related = ["actor", "comment", "digest"]
    search_fields = ["reason"]


@admin.register(DroppedSubmissionCount)
class DroppedSubmissionCountAdmin(ReadOnlyAdmin):
    list_display = ["day", "reason", "count"]
    list_filter = ["reason"]
