"""The export pages of a digest's admin: every format with its warnings, downloads, the
WeChat copy button (static/js/digest-export.js) and a preview of the WeChat article as the
editor will see it. Mixed into DigestAdmin (editorial/admin/core.py); admin pages only, so an
export is never reachable from a public URL."""

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from editorial.exporting import FORMATS, WECHAT_MAX_TEXT, ExportError, can_export, export_digest
from editorial.exporting.core import load_digest, require_export_permission, site_address
from editorial.exporting.formats import render
from papers.models import Digest


class DigestExportMixin:
    """Adds ``<pk>/export/`` and ``<pk>/export/wechat-preview/`` to the digest admin."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/export/", wrap(self.export_view), name="papers_digest_export"),
            path(
                "<int:pk>/export/wechat-preview/",
                wrap(self.export_preview_view),
                name="papers_digest_export_preview",
            ),
        ] + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_export"] = obj is not None and can_export(request.user, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _exportable(self, request, pk) -> Digest:
        digest = get_object_or_404(Digest, pk=pk)
        if not self.has_view_or_change_permission(request, digest):
            raise PermissionDenied
        require_export_permission(request.user, digest)
        return digest

    def export_view(self, request, pk):
        digest = self._exportable(request, pk)
        here = reverse("admin:papers_digest_export", args=[pk])
        try:
            address = site_address()
        except ExportError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[pk]))
        wanted = request.GET.get("download")
        if wanted is not None:
            if wanted not in FORMATS:
                self.message_user(
                    request,
                    _("Unknown format “%(fmt)s”.") % {"fmt": wanted[:40]},
                    messages.ERROR,
                )
                return HttpResponseRedirect(here)
            result = export_digest(
                digest_id=digest.pk, fmt=wanted, address=address, by=request.user
            )
            response = HttpResponse(result.text, content_type=result.content_type)
            response["Content-Disposition"] = content_disposition_header(True, result.filename)
            return response
        loaded = load_digest(digest.pk)
        exports = {fmt: render(loaded, fmt, address) for fmt in FORMATS}
        return self._page(
            request,
            digest,
            "admin/papers/digest/export.html",
            _("Export %(digest)s") % {"digest": digest},
            exports=[
                {"name": fmt, "label": FORMATS[fmt][0], "export": exports[fmt]} for fmt in FORMATS
            ],
            wechat=exports["wechat"],
            wechat_count=f"{exports['wechat'].text_length:,}",
            wechat_limit=f"{WECHAT_MAX_TEXT:,}",
            wechat_too_long=exports["wechat"].text_length > WECHAT_MAX_TEXT,
            site_url=address.base,
            is_published=digest.is_published,
        )

    def export_preview_view(self, request, pk):
        """The WeChat article in its 677 px column, as pasted. Its markup is styled by
        attributes alone, so this page (and only this page) lets style attributes apply;
        it has no script, and nh3 has cleaned what it shows."""
        digest = self._exportable(request, pk)
        try:
            address = site_address()
        except ExportError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:papers_digest_change", args=[pk]))
        result = export_digest(digest_id=digest.pk, fmt="wechat", address=address, by=request.user)

        @csp_update({"style-src-attr": ["'unsafe-inline'"], "img-src": [address.origin]})
        def page(request):
            return TemplateResponse(
                request,
                "editorial/export/wechat_preview.html",
                {
                    "digest": digest,
                    "export": result,
                    "count": f"{result.text_length:,}",
                    "limit": f"{WECHAT_MAX_TEXT:,}",
                },
            )

        return page(request)
