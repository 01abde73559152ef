"""The editorial workflow in the back office: the digest page's workflow buttons and list
actions, stale-edit protection, who else is editing, revision history / comparison /
restore, share links, and the read-only audit log.

Every button, action and page here calls a function of editorial/services.py, which checks
the permission itself: hiding a button is a courtesy, never the protection.
"""

import datetime

from csp.decorators import csp_replace
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from editorial import services, workflow
from editorial.models import AuditRecord, ReviewComment, Revision, ShareLink
from editorial.views import preview_response
from papers.admin_scale import LargeTableAdminMixin
from papers.models import Digest, Entry, published_q
from subscriptions import services as subscriptions
from subscriptions.models import Mailing


class StaleEditFormMixin:
    """For a ModelForm: refuses a save based on an older revision than the one stored
    (someone else saved in between). The page comes back with everything the editor typed.
    The template renders the hidden ``base_revision`` field."""

    def version_digest(self) -> Digest | None:
        return self.instance if self.instance.pk else None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_revision"] = forms.CharField(
            required=False,
            widget=forms.HiddenInput,
            initial=services.content_version(self.version_digest()),
        )

    def clean(self):
        cleaned = super().clean()
        digest = self.version_digest()
        if digest is None or digest.pk is None or self.add_prefix("base_revision") not in self.data:
            # No version sent (a script, not the edit page): nothing to compare with.
            return cleaned
        # Lock the digest for the rest of this request's transaction (the admin wraps the
        # whole change view in one), so two saves cannot both pass this check.
        Digest.objects.select_for_update().filter(pk=digest.pk).first()
        based_on = (cleaned.get("base_revision") or "0").strip()
        latest = Revision.objects.filter(digest=digest).order_by("-number").first()
        if latest is not None and latest.version != based_on:
            self.stale_revision = latest
            # A second "Save" now overwrites knowingly: the page is based on the latest.
            self.data = self.data.copy()
            self.data[self.add_prefix("base_revision")] = latest.version
            raise ValidationError(
                _(
                    "Not saved: %(who)s saved this digest at %(when)s (revision %(n)s), after "
                    "you opened this page. Your changes are kept below. Compare them with the "
                    "stored version (open the digest in another tab), then save again to "
                    "replace it with yours."
                )
                % {
                    "who": workflow.user_label(latest.author),
                    "when": workflow.site_time(latest.saved_at or latest.created_at),
                    "n": latest.number,
                },
                code="stale",
            )
        return cleaned


class DigestWorkflowForm(StaleEditFormMixin, forms.ModelForm):
    class Meta:
        model = Digest
        fields = ["title", "slug", "issue_date", "summary", "tags", "published_at", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = _("Times are in %(zone)s.") % {"zone": workflow.site_zone().key}
        for name in ("published_at", "expires_at"):
            if name in self.fields:
                self.fields[name].help_text = f"{self.fields[name].help_text} {zone}"

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at and "expires_at" in self.changed_data and expires_at <= timezone.now():
            raise ValidationError(
                _(
                    "This time is in the past. To take a digest off the site now, use "
                    "“Unpublish” or “Archive” on the live digest."
                )
            )
        return expires_at


class WorkflowStateFilter(admin.SimpleListFilter):
    """The state as readers experience it: scheduled and expired are told apart from live."""

    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", gettext_lazy("Draft")),
            ("review", gettext_lazy("In review")),
            ("scheduled", gettext_lazy("Scheduled")),
            ("live", gettext_lazy("On the site")),
            ("expired", gettext_lazy("Expired")),
            ("archived", gettext_lazy("Archived")),
            ("changes", gettext_lazy("Live, with unpublished changes")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value in ("draft", "review"):
            return queryset.filter(status=value)
        if value == "scheduled":
            return queryset.filter(status=Digest.Status.PUBLISHED, published_at__gt=now)
        if value == "live":
            return queryset.filter(published_q(now=now), status=Digest.Status.PUBLISHED)
        if value == "expired":
            return queryset.filter(status__in=Digest.READABLE_STATES, expires_at__lte=now)
        if value == "archived":
            return queryset.filter(status=Digest.Status.ARCHIVED)
        if value == "changes":
            return queryset.filter(working_copy__isnull=False)
        return queryset


# Buttons of a live digest's (read-only) page and of a working copy's page that act at
# once, without saving the form: POST name -> what they do.
UNSAVED_ACTIONS = {
    "_edit_live": "edit",
    "_unpublish": "unpublish",
    "_archive": "archive",
    "_discard": "discard",
}

# The change-form buttons: POST name -> transition.
FORM_TRANSITIONS = {
    "_submit": "submit",
    "_approve": "approve",
    "_send_back": "send_back",
    "_publish": "publish",
    "_unpublish": "unpublish",
    "_archive": "archive",
}


class DigestWorkflowMixin:
    """Mixed into DigestAdmin (papers/admin/core.py)."""

    form = DigestWorkflowForm
    change_form_template = "admin/papers/digest/workflow_change_form.html"
    actions = [
        "submit_selected",
        "approve_selected",
        "publish_selected",
        "unpublish_selected",
        "archive_selected",
    ]

    @admin.display(description=gettext_lazy("go-live time"), ordering="published_at")
    def go_live(self, obj):
        return workflow.site_time(obj.published_at) if obj.published_at else "-"

    # --- permissions -----------------------------------------------------------------

    def has_publish_permission(self, request):
        return workflow.is_editor(request.user)

    def has_submit_permission(self, request):
        return request.user.has_perm(workflow.CHANGE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        """Authors may not change a published, scheduled or archived digest in place; they
        get the read-only page (and a 403 if they POST to it)."""
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.can_edit_content(request.user, obj))

    # --- saving ----------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            stored = Digest.objects.get(pk=obj.pk)
            services.digest_check_editable(digest=stored, by=request.user)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        digest = form.instance
        note = request.POST.get("workflow_message", "").strip()
        if change:
            services.revision_record(digest=digest, by=request.user, message=note or _("Saved"))
        else:
            services.digest_record_creation(digest=digest, by=request.user, message=note)
        # A live digest is never saved here (it is read-only): new go-live or expiry times
        # are saved in its working copy and take effect when the changes are published.

    def delete_model(self, request, obj):
        services.digest_delete(digest=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for digest in queryset:
            services.digest_delete(digest=digest, by=request.user)

    # --- the change page -------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        digest = self.get_object(request, object_id)  # None for an id that is no number
        if digest is not None and request.method == "POST":
            action = next((UNSAVED_ACTIONS[k] for k in UNSAVED_ACTIONS if k in request.POST), None)
            if action is not None and (
                digest.is_working_copy or not self._editable(request, digest)
            ):
                return self._act_unsaved(request, digest, action)
        if digest is not None and workflow.can_edit_content(request.user, digest):
            # Only people who can edit are "editing"; a read-only visit is not announced.
            extra_context["also_editing"] = [
                {"user": workflow.user_label(p.user), "when": workflow.site_time(p.seen_at)}
                for p in workflow.presence_touch(digest, request.user)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def _editable(self, request, digest) -> bool:
        return workflow.can_edit_content(request.user, digest)

    def _act_unsaved(self, request, digest, action):
        """A button of a live digest's page (edit through a working copy, unpublish,
        archive) or a working copy's "discard": the service checks the permission."""
        allowed = (
            self.has_publish_permission(request)
            if action in ("unpublish", "archive")
            else request.user.has_perm(workflow.CHANGE_PERMISSION)
        )
        if not allowed:  # a crafted POST (the services would refuse it too)
            raise PermissionDenied
        message = request.POST.get("workflow_message", "").strip()
        target = digest
        try:
            with transaction.atomic():
                if action == "edit":
                    target = services.working_copy_start(digest=digest, by=request.user)
                    done = _("Readers keep the live version until these changes are published.")
                elif action == "discard":
                    target = services.working_copy_discard(
                        copy=digest, by=request.user, message=message
                    )
                    done = _("The changes were discarded; the live version is unchanged.")
                elif digest.is_working_copy:
                    raise PermissionDenied(_("A working copy is not on the site."))
                else:
                    target = _run_transition(action, digest, request.user, message)
                    done = _done_message(target)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[target.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        user = request.user
        editor = self.has_publish_permission(request)
        status = obj.status if obj else Digest.Status.DRAFT
        editable = workflow.can_edit_content(user, obj)
        is_copy = obj is not None and obj.is_working_copy
        buttons = []
        if obj is not None and editable:
            if status == Digest.Status.DRAFT:
                buttons.append(
                    ("_submit", _("Save and submit the changes for review"))
                    if is_copy
                    else ("_submit", _("Save and submit for review"))
                )
            if editor and status == Digest.Status.REVIEW:
                buttons.append(
                    ("_approve", _("Save and approve the changes (publish them)"))
                    if is_copy
                    else ("_approve", _("Save and approve (publish)"))
                )
                buttons.append(("_send_back", _("Save and send back to draft")))
            if editor and status in (Digest.Status.DRAFT, Digest.Status.REVIEW):
                buttons.append(
                    ("_publish", _("Save and publish the changes"))
                    if is_copy
                    else ("_publish", _("Save and publish (or schedule)"))
                )
            if is_copy:
                buttons.append(("_discard", _("Discard the changes")))
        copy = None
        if obj is not None and status in Digest.READABLE_STATES:
            copy = workflow.working_copy(obj)
            if copy is None and workflow.can_start_working_copy(user, obj):
                buttons.append(("_edit_live", _("Edit (readers keep this version)")))
            if editor:
                buttons.append(("_unpublish", _("Unpublish")))
            if editor and status == Digest.Status.PUBLISHED:
                buttons.append(("_archive", _("Archive")))
        context.update(
            {
                "review_comments": workflow.review_comments(obj) if obj else [],
                "working_copy": copy,
                "live_digest": obj.working_copy_of if is_copy else None,
                "can_publish": editor,
                "workflow_buttons": buttons,
                "workflow_state": _state_label(obj) if obj else "",
                "go_live": workflow.site_time(obj.published_at) if obj else "",
                "expires": workflow.site_time(obj.expires_at) if obj and obj.expires_at else "",
                "site_zone": workflow.site_zone().key,
                "last_send_back": _last_send_back(obj) if obj else None,
                "can_share": user.has_perm(workflow.SHARE_PERMISSION),
                "can_preview_mail": user.has_perm(subscriptions.PREVIEW_PERMISSION),
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _workflow_from_form(self, request, obj):
        """Run the transition of the button pressed, after the form was saved."""
        name = next((key for key in FORM_TRANSITIONS if key in request.POST), None)
        if name is None:
            return None
        message = request.POST.get("workflow_message", "").strip()
        target = obj
        try:
            # A savepoint: a refused transition must not undo the save that came before it.
            with transaction.atomic():
                digest = _run_transition(FORM_TRANSITIONS[name], obj, request.user, message)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, _done_message(digest), messages.SUCCESS)
            target = digest  # published changes: the live digest (its working copy is gone)
        return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[target.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._workflow_from_form(request, obj) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request, obj):
        return self._workflow_from_form(request, obj) or super().response_change(request, obj)

    # --- list actions ----------------------------------------------------------------

    def _run(self, request, digests, transition, done_message):
        done = 0
        for digest in digests:
            try:
                with transaction.atomic():
                    _run_transition(transition, digest, request.user, "")
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"{digest}: {text}", messages.ERROR)
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Submit selected digests for review"), permissions=["submit"]
    )
    def submit_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            "submit",
            lambda n: ngettext("Submitted %d digest.", "Submitted %d digests.", n) % n,
        )

    @admin.action(
        description=gettext_lazy("Approve and publish selected digests"), permissions=["publish"]
    )
    def approve_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            "approve",
            lambda n: ngettext("Approved %d digest.", "Approved %d digests.", n) % n,
        )

    @admin.action(description=gettext_lazy("Publish selected digests"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            "publish",
            lambda n: ngettext("Published %d digest.", "Published %d digests.", n) % n,
        )

    @admin.action(description=gettext_lazy("Unpublish selected digests"), permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            "unpublish",
            lambda n: ngettext("Unpublished %d digest.", "Unpublished %d digests.", n) % n,
        )

    @admin.action(description=gettext_lazy("Archive selected digests"), permissions=["publish"])
    def archive_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            "archive",
            lambda n: ngettext("Archived %d digest.", "Archived %d digests.", n) % n,
        )

    # --- extra pages -----------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/revisions/", wrap(self.revisions_view), name="papers_digest_revisions"),
            path(
                "<int:pk>/revisions/compare/", wrap(self.compare_view), name="papers_digest_compare"
            ),
            path(
                "<int:pk>/revisions/<int:number>/restore/",
                wrap(self.restore_view),
                name="papers_digest_restore",
            ),
            path("<int:pk>/share/", wrap(self.share_view), name="papers_digest_share"),
            path("<int:pk>/preview/", wrap(self.preview_view), name="papers_digest_preview"),
            path(
                "<int:pk>/review/<int:comment>/",
                wrap(self.review_view),
                name="papers_digest_review",
            ),
            path("<int:pk>/changes/", wrap(self.changes_view), name="papers_digest_changes"),
            path("<int:pk>/mail/", wrap(self.mail_view), name="papers_digest_mail"),
            path(
                "<int:pk>/mail/<str:part>/",
                wrap(self.mail_part_view),
                name="papers_digest_mail_part",
            ),
        ] + super().get_urls()

    def _digest_for(self, request, pk):
        digest = get_object_or_404(Digest, pk=pk)
        if not self.has_view_or_change_permission(request, digest):
            raise PermissionDenied
        return digest

    def _page(self, request, digest, template, title, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "digest": digest,
                "original": digest,
                "title": title,
                **context,
            },
        )

    def revisions_view(self, request, pk):
        digest = self._digest_for(request, pk)
        revisions = list(
            digest.revisions.select_related("author").defer("snapshot").order_by("-number")
        )
        for revision in revisions:
            revision.when = workflow.site_time(revision.created_at)
            revision.by = workflow.user_label(revision.author)
        records = list(digest.audit_records.select_related("actor")[:200])
        for record in records:
            record.when = workflow.site_time(record.created_at)
            record.by = workflow.user_label(record.actor) if record.actor else _("the site")
            record.effective = (
                workflow.site_time(record.effective_at) if record.effective_at else ""
            )
        return self._page(
            request,
            digest,
            "admin/papers/digest/revisions.html",
            _("History of %(digest)s") % {"digest": digest},
            revisions=revisions,
            records=records,
            can_restore=request.user.has_perm(workflow.RESTORE_PERMISSION)
            and workflow.is_editor(request.user),
        )

    def compare_view(self, request, pk):
        digest = self._digest_for(request, pk)
        numbers = digest.revisions.values_list("number", flat=True)
        try:
            a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
        except ValueError:
            a = b = None
        if a is None or a not in numbers or b not in numbers:
            self.message_user(request, _("Choose two revisions of this digest."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:papers_digest_revisions", args=[pk]))
        a, b = sorted((a, b))
        old, new = (digest.revisions.get(number=n) for n in (a, b))
        return self._page(
            request,
            digest,
            "admin/papers/digest/compare.html",
            _("Revision %(a)s compared with revision %(b)s") % {"a": a, "b": b},
            old=old,
            new=new,
            old_when=workflow.site_time(old.created_at),
            new_when=workflow.site_time(new.created_at),
            diff=workflow.compare(old.snapshot, new.snapshot),
        )

    def restore_view(self, request, pk, number):
        digest = self._digest_for(request, pk)
        revision = get_object_or_404(Revision, digest=digest, number=number)
        if not (
            request.user.has_perm(workflow.RESTORE_PERMISSION) and workflow.is_editor(request.user)
        ):
            raise PermissionDenied
        if request.method == "POST":
            try:
                restored = services.digest_restore_revision(
                    digest=digest,
                    revision=revision,
                    by=request.user,
                    message=request.POST.get("message", "").strip(),
                )
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                if restored.digest_id != digest.pk:
                    text = _(
                        "Revision %(old)s restored into the unpublished changes (their revision "
                        "%(new)s). Readers keep the live version until the changes are published."
                    )
                else:
                    text = _(
                        "Revision %(old)s restored as revision %(new)s. The digest is a draft: "
                        "publish it to put it on the site."
                    )
                self.message_user(
                    request,
                    text % {"old": revision.number, "new": restored.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:papers_digest_change", args=[restored.digest_id])
                )
        latest = digest.revisions.order_by("-number").first()
        return self._page(
            request,
            digest,
            "admin/papers/digest/restore.html",
            _("Restore revision %(n)s") % {"n": revision.number},
            revision=revision,
            when=workflow.site_time(revision.created_at),
            diff=workflow.compare(latest.snapshot, revision.snapshot) if latest else None,
            is_live=digest.status in Digest.READABLE_STATES,
        )

    def preview_view(self, request, pk):
        """The digest as readers would see it, for staff: a draft, or a live digest's
        unpublished changes (a working copy has no address of its own)."""
        digest = self._digest_for(request, pk)
        return preview_response(request, digest)

    def review_view(self, request, pk, comment):
        """Reply to a reviewer's comment, resolve it or open it again (POST), then back to
        the page it was answered from."""
        digest = self._digest_for(request, pk)
        live = digest.working_copy_of if digest.is_working_copy else digest
        remark = get_object_or_404(ReviewComment, pk=comment, digest=live)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[pk]))
        action = request.POST.get("action", "")
        try:
            if action == "reply":
                services.review_comment_reply(
                    comment=remark, by=request.user, body=request.POST.get("body", "")
                )
            elif action in ("resolve", "reopen"):
                services.review_comment_resolve(
                    comment=remark, by=request.user, resolved=action == "resolve"
                )
            else:
                raise ValidationError(_("Choose what to do with the comment."))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("Done."), messages.SUCCESS)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:papers_digest_change", args=[pk])
        return HttpResponseRedirect(back)

    def changes_view(self, request, pk):
        """A live digest's unpublished changes compared with the live version, section by
        section (``pk``: the live digest or its working copy)."""
        digest = self._digest_for(request, pk)
        live = digest.working_copy_of if digest.is_working_copy else digest
        copy = digest if digest.is_working_copy else workflow.working_copy(digest)
        if copy is None:
            self.message_user(request, _("This digest has no unpublished changes."))
            return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[live.pk]))
        return self._page(
            request,
            live,
            "admin/papers/digest/changes.html",
            _("Unpublished changes of %(digest)s") % {"digest": live},
            copy=copy,
            diff=workflow.compare(workflow.snapshot(live), workflow.snapshot(copy)),
        )

    def share_view(self, request, pk):
        digest = self._digest_for(request, pk)
        if not request.user.has_perm(workflow.SHARE_PERMISSION):
            raise PermissionDenied
        if digest.is_working_copy:  # links belong to the live digest; they show its changes
            return HttpResponseRedirect(
                reverse("admin:papers_digest_share", args=[digest.working_copy_of_id])
            )
        form = ShareLinkForm(request.POST or None)
        if request.method == "POST":
            if "revoke" in request.POST:
                link_id = request.POST["revoke"]
                link = get_object_or_404(
                    ShareLink, digest=digest, pk=int(link_id) if link_id.isdigit() else 0
                )
                services.share_link_revoke(link=link, by=request.user)
                self.message_user(request, _("The link no longer works."), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
            if form.is_valid():
                expires = timezone.now() + datetime.timedelta(days=form.cleaned_data["days"])
                try:
                    link = services.share_link_create(
                        digest=digest,
                        by=request.user,
                        expires_at=expires,
                        note=form.cleaned_data["note"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    self.message_user(
                        request,
                        _("Share link created; it works until %(when)s.")
                        % {"when": workflow.site_time(link.expires_at)},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(request.path)
        links = list(digest.share_links.select_related("created_by", "revoked_by"))
        for link in links:
            link.url = request.build_absolute_uri(link.get_absolute_url())
            link.until = workflow.site_time(link.expires_at)
            link.by = workflow.user_label(link.created_by)
            link.revoked = workflow.site_time(link.revoked_at) if link.revoked_at else ""
        return self._page(
            request,
            digest,
            "admin/papers/digest/share.html",
            _("Share links of %(digest)s") % {"digest": digest},
            form=form,
            links=links,
        )

    # --- the digest by mail --------------------------------------------------------------

    def mail_view(self, request, pk):
        """The mail subscribers get for this digest: who it is for, the send reports of its
        mailings, the preview, and a test sent to the editor's own address."""
        digest = self._digest_for(request, pk)
        if request.method == "POST":
            try:
                address = subscriptions.digest_mail_test(digest=digest, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("A test is on its way to %(address)s.") % {"address": address},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(request.path)
        if not request.user.has_perm(subscriptions.PREVIEW_PERMISSION):
            raise PermissionDenied
        mailings = list(Mailing.objects.filter(digest=digest).order_by("-created_at"))
        counts = subscriptions.mailing_report(mailings)
        for mailing in mailings:
            mailing.counts = counts[mailing.pk]
            mailing.when = workflow.site_time(mailing.go_live)
        return self._page(
            request,
            digest,
            "admin/papers/digest/mail.html",
            _("Mail of %(digest)s") % {"digest": digest},
            subject=digest.title,
            audience=subscriptions.subscribers_for(digest).count(),
            mailings=mailings,
            can_test=request.user.has_perm(subscriptions.TEST_PERMISSION),
            own_address=request.user.email,
        )

    @csp_replace({"style-src": ["'unsafe-inline'"], "img-src": ["*", "data:"], "sandbox": []})
    def mail_part_view(self, request, pk, part):
        """The mail as a mail program shows it (``html``) or its plain text (``text``). Its
        styles are inline, as mail needs: this one response allows inline styles, in a
        sandbox that runs nothing."""
        digest = self._digest_for(request, pk)
        if part not in ("html", "text"):
            raise Http404("No such part")
        preview = subscriptions.digest_mail_preview(digest=digest, by=request.user)
        if part == "text":
            return HttpResponse(preview.text, content_type="text/plain; charset=utf-8")
        return HttpResponse(preview.html, content_type="text/html; charset=utf-8")


class EntryWorkflowMixin:
    """Mixed into EntryAdmin: an entry is part of its digest's content, so the same rules
    apply (authors cannot change entries of a published digest) and every save or delete
    stores a revision of the digest."""

    change_form_template = "admin/papers/entry/workflow_change_form.html"

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.can_edit_content(request.user, obj.digest))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or workflow.can_edit_content(request.user, obj.digest))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        user = request.user

        class EntryWorkflowForm(form_class):
            def clean_digest(self):
                digest = self.cleaned_data.get("digest")
                if digest is not None and not workflow.can_edit_content(user, digest):
                    raise ValidationError(
                        _(
                            "This digest is on the site (published, scheduled or archived): "
                            "change its papers in its working copy (“Edit” on its page)."
                        )
                    )
                return digest

        return EntryWorkflowForm

    def save_model(self, request, obj, form, change):
        # The digest the entry is in now, and the one it moves to: both must be editable.
        if change:
            stored = Digest.objects.get(entries__pk=obj.pk)
            services.digest_check_editable(digest=stored, by=request.user)
        services.digest_check_editable(digest=obj.digest, by=request.user)
        super().save_model(request, obj, form, change)

    def _record(self, request, obj, text):
        if change_note := request.POST.get("workflow_message", "").strip():
            text = change_note
        services.revision_record(digest=obj.digest, by=request.user, message=text)

    # Called by the admin after the entry, its sections and figures are all saved.
    def log_addition(self, request, obj, message):
        self._record(
            request,
            obj,
            _("Paper %(id)s added") % {"id": obj.paper.arxiv_id or obj.paper.source_url},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._record(
            request,
            obj,
            _("Paper %(id)s edited") % {"id": obj.paper.arxiv_id or obj.paper.source_url},
        )
        return super().log_change(request, obj, message)

    def delete_model(self, request, obj):
        services.digest_check_editable(digest=obj.digest, by=request.user)
        digest = obj.digest
        super().delete_model(request, obj)
        services.revision_record(
            digest=digest,
            by=request.user,
            message=_("Paper %(id)s removed") % {"id": obj.paper.arxiv_id or obj.paper.source_url},
        )

    def delete_queryset(self, request, queryset):
        digests = {entry.digest for entry in queryset.select_related("digest")}
        for digest in digests:
            services.digest_check_editable(digest=digest, by=request.user)
        super().delete_queryset(request, queryset)
        for digest in digests:
            services.revision_record(digest=digest, by=request.user, message=_("Papers removed"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An entry of a live digest is read-only; if the digest has unpublished changes
        holding this paper, its editors are taken to that entry."""
        entry = self.get_object(request, object_id)  # None for an id that is no number
        if entry is not None and entry.digest.status in Digest.READABLE_STATES:
            copied = Entry.objects.filter(
                digest__working_copy_of=entry.digest_id, paper_id=entry.paper_id
            ).first()
            if copied is not None and workflow.can_edit_content(request.user, copied.digest):
                self.message_user(
                    request,
                    _("You are editing the unpublished changes; readers keep the live version."),
                    messages.INFO,
                )
                return HttpResponseRedirect(reverse("admin:papers_entry_change", args=[copied.pk]))
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["site_zone"] = workflow.site_zone().key
        if obj is not None:
            context["review_comments"] = workflow.review_comments(obj.digest, paper_id=obj.paper_id)
            context["digest_is_copy"] = obj.digest.is_working_copy
            context["digest_is_live"] = obj.digest.status in Digest.READABLE_STATES
        return super().render_change_form(request, context, add, change, form_url, obj)


class ShareLinkForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("For"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("Who the link is for, e.g. Dr Wang (shown only here)."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=90, initial=7
    )


def _run_transition(name, digest, user, message):
    if name == "submit":
        return services.digest_submit(digest=digest, by=user, message=message)
    if name == "approve":
        return services.digest_approve(digest=digest, by=user, message=message)
    if name == "send_back":
        return services.digest_send_back(digest=digest, by=user, message=message)
    if name == "publish":
        return services.digest_publish(digest=digest, by=user, message=message)
    if name == "unpublish":
        return services.digest_unpublish(digest=digest, by=user, message=message)
    if name == "archive":
        return services.digest_archive(digest=digest, by=user, message=message)
    raise Http404


def _last_send_back(digest):
    """The editor's message when a draft was sent back (shown until it is resubmitted)."""
    if digest.status != Digest.Status.DRAFT:
        return None
    record = (
        digest.audit_records.select_related("actor")
        .filter(action__in=[AuditRecord.Action.SEND_BACK, AuditRecord.Action.SUBMIT])
        .first()
    )
    if record is None or record.action != AuditRecord.Action.SEND_BACK:
        return None
    return {
        "who": workflow.user_label(record.actor),
        "when": workflow.site_time(record.created_at),
        "message": record.message,
    }


def _state_label(digest) -> str:
    if digest.is_working_copy:
        return _("Unpublished changes to a live digest: %(state)s") % {
            "state": digest.get_status_display()
        }
    label = _("Scheduled") if digest.is_scheduled else str(digest.get_status_display())
    if digest.status in Digest.READABLE_STATES and workflow.working_copy(digest):
        return _("%(state)s: live, with unpublished changes") % {"state": label}
    return label


def _done_message(digest) -> str:
    if digest.is_scheduled:
        return _("Scheduled to go live at %s.") % workflow.site_time(digest.published_at)
    if digest.status == Digest.Status.REVIEW:
        return _("Submitted for review; the editors have been told.")
    if digest.status == Digest.Status.ARCHIVED:
        return _("Archived: still readable at its address, no longer on the home page.")
    if digest.is_published:
        return _("Published.")
    return _("The digest is a draft again.")


@admin.register(AuditRecord)
class AuditRecordAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    """The audit log: read-only, written only by editorial/services.py."""

    list_display = [
        "created_at",
        "digest_label",
        "action",
        "from_status",
        "to_status",
        "actor",
        "message",
    ]
    list_filter = ["action", "to_status"]
    list_select_related = ["digest", "actor"]
    search_fields = ["digest_label", "message", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
