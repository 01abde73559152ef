"""The "Import digest" page of the back office: paste or upload a digest, see what was
recognised and what importing it would do (read from the database, nothing written), then
create the draft. Everything goes through editorial.importing, like ``manage.py
import_digest``."""

import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks.exceptions import TaskResultDoesNotExist

from editorial import services
from editorial.arxiv_sync import FIELD_LABELS, TRACKED, fetch_and_store
from editorial.importing import (
    DigestImportError,
    ImportOptions,
    decode_upload,
    parse_digest,
    plan_import,
    resolve_label_map,
    write_digest,
)
from papers.arxiv_ids import parse_arxiv_id
from papers.models import Digest, SectionKind

ADD_PERMISSION = "papers.add_digest"
MAP_PREFIX = "map:"


class ImportDigestForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Digest text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100, "lang": "zh", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Paste the whole digest as it appears on the site (title, 时间 line, contents, "
            "摘要, the papers) or in the Markdown layout of older issues."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("or a file"),
        required=False,
        help_text=gettext_lazy("A UTF-8 .txt or .md file."),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Layout"),
        choices=[
            ("auto", gettext_lazy("Recognise automatically")),
            ("text", gettext_lazy("The site's text layout")),
            ("markdown", gettext_lazy("Markdown (older issues)")),
        ],
        initial="auto",
    )
    issue_date = forms.DateField(
        label=gettext_lazy("Issue date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Leave empty to take the date from the text."),
    )
    title = forms.CharField(
        label=gettext_lazy("Title"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Leave empty to take the title from the text."),
    )
    unlinked = forms.ChoiceField(
        label=gettext_lazy("Items without an arXiv link"),
        choices=[
            ("entries", gettext_lazy("Import each as an entry whose source is its link")),
            ("skip", gettext_lazy("Skip them (each is listed below)")),
            (
                "summary",
                gettext_lazy("Keep each as a line (title and link) of the digest's summary"),
            ),
        ],
        initial="entries",
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("An item without any link is skipped whatever the choice."),
    )
    allow_unplaced = forms.BooleanField(
        label=gettext_lazy("Create even with unplaced text"),
        required=False,
        help_text=gettext_lazy(
            "Text the importer could not place is kept as each entry's unplaced text. Without "
            "this, such a digest is not created: map its labels to section kinds first."
        ),
    )
    replace = forms.BooleanField(
        label=gettext_lazy("Replace the draft"),
        required=False,
        help_text=gettext_lazy(
            "When a draft for the same date exists, rewrite it instead of refusing."
        ),
    )
    publish = forms.BooleanField(
        label=gettext_lazy("Publish right away"),
        required=False,
        help_text=gettext_lazy("Otherwise the digest is a draft to review."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.has_perm(services.PUBLISH_PERMISSION):
            del self.fields["publish"]
        self.parsed = None
        self.label_map = {}  # label -> slug, as chosen in the preview

    def mapped_labels(self):
        """The labels the editor mapped in the preview ("map:动机" = "gist")."""
        result = {}
        for key in self.data:
            if key.startswith(MAP_PREFIX) and len(key) <= len(MAP_PREFIX) + 40:
                value = self.data.get(key) or ""
                if value:
                    result[key[len(MAP_PREFIX) :]] = value
        return result

    def label_rows(self):
        """Each label to choose a kind for: the unknown ones and those already mapped."""
        chosen = dict(self.label_map)
        names = list(chosen)
        if self.parsed is not None:
            names += [n for n in self.parsed.report.unknown_sections if n not in chosen]
        lines = self.parsed.report.unknown_sections if self.parsed is not None else {}
        return [
            {
                "name": name,
                "field": MAP_PREFIX + name,
                "chosen": chosen.get(name, ""),
                "lines": lines.get(name, []),
            }
            for name in names
        ]

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        try:
            if upload is not None:
                if upload.size > settings.IMPORT_MAX_BYTES:
                    # Checked before reading: the size error without loading the file.
                    raise DigestImportError(
                        _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
                        % {
                            "size": upload.size / 1024 / 1024,
                            "limit": settings.IMPORT_MAX_BYTES / 1024 / 1024,
                        }
                    )
                text = decode_upload(upload.read())
            elif not text.strip():
                raise DigestImportError(_("Paste the digest or choose a file."))
            self.label_map = self.mapped_labels()
            options = ImportOptions(
                issue_date=cleaned.get("issue_date"),
                title=cleaned.get("title") or "",
                label_map=resolve_label_map(self.label_map, SectionKind.objects.all()),
                unlinked=cleaned.get("unlinked") or "entries",
            )
            self.parsed = parse_digest(text, cleaned.get("format") or "auto", options)
        except DigestImportError as exc:
            raise forms.ValidationError(exc.display()) from None
        cleaned["text"] = text
        return cleaned


def import_digest_view(request):
    """GET: the form. POST "_preview": parse and check everything, and show what the import
    would store, by reading alone (a fixed number of queries however long the paste, so a
    large paste answers within the worker's timeout). POST "_create": the same checks, then
    create the draft and go to it."""
    if not request.user.has_perm(ADD_PERMISSION):
        raise PermissionDenied
    form = ImportDigestForm(request.POST or None, request.FILES or None, user=request.user)
    plan = None
    options = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("replace") and not request.user.has_perm("papers.change_digest"):
            raise PermissionDenied
        options = {
            "by": request.user,
            "publish": bool(data.get("publish")),
            "replace": bool(data.get("replace")),
        }
        creating = "_create" in request.POST
        unplaced = form.parsed.unplaced_count
        if creating and unplaced and not data.get("allow_unplaced"):
            form.add_error(
                None,
                _(
                    "%(count)d lines could not be placed in a section (listed below); the "
                    "draft was not created. Choose a section kind for each unknown label and "
                    "preview again, or tick “Create even with unplaced text”."
                )
                % {"count": unplaced},
            )
            creating = False
        try:
            if creating:
                result = write_digest(form.parsed, **options)
            else:
                plan = plan_import(form.parsed, **options)
        except DigestImportError as exc:
            form.add_error(None, exc.display())
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if creating:
                digest = result.digest
                if result.published:
                    text = _("Imported and published “%(title)s”.")
                elif result.replaced:
                    text = _("Replaced the draft “%(title)s”. Review it, then publish.")
                else:
                    text = _("Imported “%(title)s” as a draft. Review it, then publish.")
                messages.success(request, text % {"title": digest.title})
                unplaced = sum(1 for entry in form.parsed.entries if entry.unplaced)
                if unplaced:
                    messages.warning(
                        request,
                        _(
                            "%(count)d papers have unplaced text: open each entry and move it "
                            "where it belongs."
                        )
                        % {"count": unplaced},
                    )
                return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[digest.pk]))
    if plan is None and form.parsed is not None and not form.errors.get("text"):
        try:  # the preview stays on the page beside the error that kept the draft back
            plan = plan_import(form.parsed, **options)
        except (DigestImportError, PermissionDenied):
            plan = None
    parsed = form.parsed if plan is not None else None
    if parsed is not None and request.FILES:
        # A file input is empty when the page comes back: carry the uploaded text in the
        # text box, so "Create draft" imports exactly what was previewed.
        data = request.POST.copy()
        data["text"] = form.cleaned_data["text"]
        form.data = data
    context = {
        **site.each_context(request),
        "title": _("Import digest"),
        "opts": Digest._meta,
        "form": form,
        "parsed": parsed,
        "plan": plan,
        "items": _items_in_order(plan),
        "add_kind_url": reverse("admin:papers_sectionkind_add"),
        "label_rows": form.label_rows() if form.parsed is not None else [],
        "kinds": SectionKind.objects.all(),
        "max_mb": settings.IMPORT_MAX_BYTES / 1024 / 1024,
        "max_bytes": settings.IMPORT_MAX_BYTES,
    }
    return TemplateResponse(request, "admin/papers/digest/import.html", context)


def _items_in_order(plan) -> list[dict]:
    """Every item of the preview in the order of the text: each planned entry ("row") and
    each heading not imported ("note", with its reason)."""
    if plan is None:
        return []
    items = [{"line": row.item.line, "row": row} for row in plan.entries]
    items += [{"line": note.line, "note": note} for note in plan.parsed.report.skipped]
    return sorted(items, key=lambda item: (item["line"] is None, item["line"] or 0))


# -- arXiv metadata on the paper admin ------------------------------------------------------

_ID_SPLIT = re.compile(r"[\s,，]+")


class ArxivFetchMixin:
    """For PaperAdmin: an "arXiv id or URL" box on the paper form and a list action that fill
    or refresh metadata. The fetch runs on the worker (arXiv may take 20 s, or not answer): the
    request answers at once with a page that follows the fetch and opens the filled paper.
    Fields an editor corrected are listed on a confirmation page and only overwritten when
    ticked there."""

    def get_urls(self):
        return [
            path(
                "fetch-arxiv/",
                self.admin_site.admin_view(self.fetch_arxiv_view),
                name="papers_paper_fetch_arxiv",
            ),
            path(
                "fetch-arxiv/<uuid:result_id>/",
                self.admin_site.admin_view(self.fetch_arxiv_status_view),
                name="papers_paper_fetch_arxiv_status",
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            actions["fetch_from_arxiv"] = (
                ArxivFetchMixin.fetch_from_arxiv,
                "fetch_from_arxiv",
                gettext_lazy("Fill or refresh metadata from arXiv"),
            )
        return actions

    def fetch_from_arxiv(self, request, queryset):
        ids = list(queryset.filter(arxiv_id__isnull=False).values_list("arxiv_id", flat=True))
        left_out = queryset.filter(arxiv_id__isnull=True).count()
        if left_out:
            messages.warning(
                request,
                _("%(count)d selected items are not on arXiv (they have a source link): left out.")
                % {"count": left_out},
            )
        if not ids:
            return None  # back to the list, with the message
        return self._start_fetch(request, ids)

    def _may_fetch(self, request) -> bool:
        return self.has_change_permission(request) or self.has_add_permission(request)

    def fetch_arxiv_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self._may_fetch(request):
            raise PermissionDenied
        ids = [value for value in _ID_SPLIT.split(request.POST.get("arxiv_lookup", "")) if value]
        ids += request.POST.getlist("ids")
        if not ids:
            messages.error(request, _("Give an arXiv id or link, e.g. 2509.22445."))
            return HttpResponseRedirect(reverse("admin:papers_paper_add"))
        overwrite = None
        if "_confirm" in request.POST:
            overwrite = {}
            for value in request.POST.getlist("overwrite"):
                arxiv_id, _sep, name = value.rpartition("|")
                if name in TRACKED:
                    overwrite.setdefault(arxiv_id, []).append(name)
        return self._start_fetch(request, ids, overwrite)

    def _start_fetch(self, request, ids, overwrite=None):
        for value in ids:  # a typo is answered now, not after a round trip to the worker
            try:
                parse_arxiv_id(value)
            except ValidationError as exc:
                messages.error(
                    request, _("%(error)s Nothing was changed.") % {"error": " ".join(exc.messages)}
                )
                return HttpResponseRedirect(self._back_url(ids))
        result = fetch_and_store.enqueue(
            ids=ids,
            overwrite=overwrite,
            user_id=request.user.pk,
            language=translation.get_language(),
        )
        if result.is_finished:  # a backend that runs tasks at once (the tests')
            return self._fetch_finished(request, result, ids, overwrite)
        return HttpResponseRedirect(
            reverse("admin:papers_paper_fetch_arxiv_status", args=[result.id])
        )

    def fetch_arxiv_status_view(self, request, result_id):
        """Where the lookup waits: refreshes itself (no script needed) until the worker has
        answered, then shows what happened. Only the editor who asked sees it."""
        if not self._may_fetch(request):
            raise PermissionDenied
        try:
            result = fetch_and_store.get_result(str(result_id))
        except TaskResultDoesNotExist:
            raise Http404 from None
        if result.kwargs.get("user_id") != request.user.pk:
            raise Http404
        ids, overwrite = result.kwargs["ids"], result.kwargs["overwrite"]
        if result.is_finished:
            return self._fetch_finished(request, result, ids, overwrite)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Asking arXiv"),
            "opts": self.model._meta,
            "ids": ids,
            "refresh_seconds": 1,
        }
        return TemplateResponse(request, "admin/papers/paper/arxiv_wait.html", context)

    def _fetch_finished(self, request, result, ids, overwrite):
        back = self._back_url(ids)
        outcome = result.return_value if result.status == "SUCCESSFUL" else None
        if outcome is None:
            messages.error(request, _("The arXiv lookup failed. Nothing was changed."))
            return HttpResponseRedirect(back)
        if outcome.get("error"):
            messages.error(request, outcome["error"])
            return HttpResponseRedirect(back)
        counts = {name: len(outcome[name]) for name in ("created", "updated", "unchanged")}
        messages.success(
            request,
            _("arXiv: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % counts,
        )
        conflicts = outcome["conflicts"]
        if conflicts and overwrite is None:
            rows = [
                {
                    "arxiv_id": arxiv_id,
                    "field": name,
                    "label": FIELD_LABELS[name],
                    "current": current,
                    "theirs": theirs,
                }
                for arxiv_id, fields in conflicts.items()
                for name, (current, theirs) in fields.items()
            ]
            context = {
                **self.admin_site.each_context(request),
                "title": _("Overwrite fields an editor corrected?"),
                "opts": self.model._meta,
                "rows": rows,
                "ids": outcome["fetched"],
            }
            return TemplateResponse(request, "admin/papers/paper/arxiv_confirm.html", context)
        if conflicts:
            kept = sum(len(fields) for fields in conflicts.values())
            messages.info(
                request, _("%(count)d corrected fields were kept as they are.") % {"count": kept}
            )
        return HttpResponseRedirect(self._back_url(ids))

    def _back_url(self, ids) -> str:
        if len(ids) == 1:
            try:
                paper = self.model.objects.get(arxiv_id=parse_arxiv_id(ids[0]))
            except (ValidationError, self.model.DoesNotExist):
                return reverse("admin:papers_paper_add") + "?" + urlencode({"arxiv_lookup": ids[0]})
            return reverse("admin:papers_paper_change", args=[paper.pk])
        return reverse("admin:papers_paper_changelist")


def bad_request(request, exception, template_name="400.html"):
    """The site's 400 handler. A paste too large for Django to read at all
    (DATA_UPLOAD_MAX_MEMORY_SIZE) on the import page gets the import page back with the
    precise limit (413) instead of a bare "Bad Request"; anything else is Django's 400."""
    from django.core.exceptions import RequestDataTooBig
    from django.views import defaults

    if (
        isinstance(exception, RequestDataTooBig)
        and request.path == reverse("admin-digest-import")
        and request.user.is_authenticated
        and request.user.has_perm(ADD_PERMISSION)
    ):
        form = ImportDigestForm(user=request.user)
        message = _("The text is larger than %(mb).1f MB. Import one digest at a time.") % {
            "mb": settings.IMPORT_MAX_BYTES / 1024 / 1024
        }
        context = {
            **site.each_context(request),
            "title": _("Import digest"),
            "opts": Digest._meta,
            "form": form,
            "request_error": message,
            "max_mb": settings.IMPORT_MAX_BYTES / 1024 / 1024,
            "max_bytes": settings.IMPORT_MAX_BYTES,
        }
        return TemplateResponse(
            request, "admin/papers/digest/import.html", context, status=413
        ).render()
    return defaults.bad_request(request, exception, template_name)
