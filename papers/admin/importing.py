"""The "Import digest" page of the back office: paste or upload a digest, see what was
recognised (nothing is saved), then create the draft. Everything goes through
papers.importing, like ``manage.py import_digest``."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import services
from ..importing import DigestImportError, decode_upload, parse_digest, write_digest
from ..models import Digest, SectionKind

ADD_PERMISSION = "papers.add_digest"


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
            self.parsed = parse_digest(text, cleaned.get("format") or "auto")
        except DigestImportError as exc:
            raise forms.ValidationError(exc.display()) from None
        cleaned["text"] = text
        return cleaned


def import_digest_view(request):
    """GET: the form. POST "_preview": parse and check everything, save nothing. POST
    "_create": the same, then create the draft and go to it."""
    if not request.user.has_perm(ADD_PERMISSION):
        raise PermissionDenied
    form = ImportDigestForm(request.POST or None, request.FILES or None, user=request.user)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("replace") and not request.user.has_perm("papers.change_digest"):
            raise PermissionDenied
        creating = "_create" in request.POST
        try:
            result = write_digest(
                form.parsed,
                by=request.user,
                publish=bool(data.get("publish")),
                replace=bool(data.get("replace")),
                dry_run=not creating,
            )
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
    parsed = form.parsed if form.is_bound and not form.errors else None
    context = {
        **site.each_context(request),
        "title": _("Import digest"),
        "opts": Digest._meta,
        "form": form,
        "parsed": parsed,
        "result": result,
        "known_kinds": SectionKind.objects.all(),
        "add_kind_url": reverse("admin:papers_sectionkind_add"),
        "max_mb": settings.IMPORT_MAX_BYTES / 1024 / 1024,
        "max_bytes": settings.IMPORT_MAX_BYTES,
    }
    return TemplateResponse(request, "admin/papers/digest/import.html", context)
