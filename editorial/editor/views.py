"""The one-page editor's pages: the editor (GET; POST saves, as a plain form or as the
autosave's request, which gets JSON), and its preview (GET: the stored digest as the public
page, shown in a frame; POST: the typed content's article and checks, as JSON).

Permission is checked here and again by ``digest_save_content``: ``papers.change_digest``,
and an author cannot edit a published, scheduled or archived digest."""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from editorial import services, workflow
from editorial.editor import forms
from editorial.editor.checks import run_checks
from editorial.editor.preview import preview_context
from papers.models import Digest, SectionKind


def _editable(request, pk) -> tuple[Digest, str | None]:
    """The digest, and where to go instead when it is live: it is never edited in place,
    but through its working copy (its editor), or, with none yet, from the digest's page,
    whose "Edit" makes one. PermissionDenied when the user may not change it at all."""
    digest = get_object_or_404(Digest, pk=pk)
    if workflow.can_start_working_copy(request.user, digest):
        copy = workflow.working_copy(digest)
        if copy is not None:
            return digest, reverse("admin:papers_digest_editor", args=[copy.pk])
        messages.info(
            request,
            _(
                "This digest is on the site: press “Edit” to make a working copy, then edit "
                "the copy on one page."
            ),
        )
        return digest, reverse("admin:papers_digest_change", args=[digest.pk])
    if not workflow.can_edit_content(request.user, digest):
        raise PermissionDenied(_("You cannot change this digest."))
    return digest, None


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _kinds() -> list[SectionKind]:
    return list(SectionKind.objects.order_by("order", "id"))


def _data(request, entries, kinds) -> dict:
    try:
        return forms.data_from_post(request.POST, entries, kinds)
    except ValidationError as exc:
        raise _BadForm(" ".join(exc.messages)) from exc


class _BadForm(Exception):
    pass


def editor_view(request, pk, *, model_admin):
    """``/admin/papers/digest/<id>/editor/``."""
    digest, elsewhere = _editable(request, pk)
    if elsewhere and _wants_json(request):  # an autosave of a page opened before it went live
        message = _("This digest went live meanwhile: reload to edit its working copy.")
        return JsonResponse({"message": message, "conflict": message}, status=409)
    if elsewhere:
        return HttpResponseRedirect(elsewhere)
    kinds = _kinds()
    entries = forms.load_entries(digest)
    if request.method == "GET":
        return _page(request, model_admin, digest, entries, kinds)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        data = _data(request, entries, kinds)
    except _BadForm as exc:
        if _wants_json(request):
            return JsonResponse({"message": str(exc)}, status=400)
        messages.error(request, str(exc))
        return HttpResponseRedirect(request.path)
    try:
        result = services.digest_save_content(
            digest=digest,
            by=request.user,
            data=data,
            base_version=request.POST.get("base_version", ""),
        )
    except services.EditConflict as exc:
        payload = {
            "conflict": exc.messages[0],
            "latest_version": exc.latest_version,
            "who": exc.who,
            "when": exc.when,
        }
        if _wants_json(request):
            return JsonResponse(payload, status=409)
        # Saving the same page again now replaces the stored version, knowingly.
        return _page(
            request,
            model_admin,
            digest,
            entries,
            kinds,
            data=data,
            conflict=exc.messages[0],
            version=exc.latest_version,
            status=409,
        )
    except ValidationError as exc:
        errors = (
            {key: " ".join(value) for key, value in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"__all__": " ".join(exc.messages)}
        )
        if _wants_json(request):
            return JsonResponse(
                {"message": _("Not saved: correct the marked fields."), "errors": errors},
                status=400,
            )
        return _page(
            request, model_admin, digest, entries, kinds, data=data, errors=errors, status=400
        )
    when = timezone.localtime(timezone.now(), workflow.site_zone())
    saved = _("Saved at %(time)s.") % {"time": f"{when:%H:%M:%S}"}
    if _wants_json(request):
        return JsonResponse({"version": result.version, "changed": result.changed, "saved": saved})
    messages.success(request, saved)
    anchor = ""
    if moved := request.POST.get("move", "").partition(":")[0]:
        anchor = f"#entry-{moved}" if moved.isdigit() else ""
    return HttpResponseRedirect(request.path + anchor)


def _page(request, model_admin, digest, entries, kinds, *, data=None, errors=None, **more):
    if data is not None:
        data["raw"] = request.POST.dict()
    fields, rows = forms.page_rows(digest, entries, kinds, data=data, errors=errors)
    others = workflow.presence_touch(digest, request.user)
    shown = preview_context(digest, {}, kinds)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Digest._meta,
        "is_nav_sidebar_enabled": False,  # the width goes to the form and the preview
        "digest": digest,
        "original": digest,
        "title": _("Edit %(digest)s") % {"digest": digest},
        "fields": fields,
        "rows": rows,
        "conflict": more.get("conflict", ""),
        "page_error": (errors or {}).get("__all__", ""),
        "version": more.get("version") or services.content_version(digest),
        "checks": run_checks(digest, shown["entries"], kinds),
        "also_editing": [
            {"user": workflow.user_label(p.user), "when": workflow.site_time(p.seen_at)}
            for p in others
        ],
        "state": digest.get_status_display(),
        "preview_url": reverse("admin:papers_digest_editor_preview", args=[digest.pk]),
    }
    response = TemplateResponse(
        request, "admin/papers/digest/editor.html", context, status=more.get("status", 200)
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
def preview_view(request, pk):
    """``…/editor/preview/``. GET: the stored digest as its public page (the editor's frame);
    POST (the editor's fields): ``{"html": the typed content's article, "checks": the
    checks panel}``, both rendered by templates."""
    digest, elsewhere = _editable(request, pk)
    if elsewhere:
        return HttpResponseRedirect(elsewhere)
    kinds = _kinds()
    if request.method == "GET":
        context = preview_context(digest, {}, kinds)
        response = TemplateResponse(request, "papers/digest_detail.html", context)
    elif request.method == "POST":
        entries = forms.load_entries(digest)
        try:
            data = _data(request, entries, kinds)
        except _BadForm as exc:
            return JsonResponse({"message": str(exc)}, status=400)
        context = preview_context(digest, data, kinds)
        checks = run_checks(context["digest"], context["entries"], kinds)
        response = JsonResponse(
            {
                "html": render_to_string("includes/_digest_article.html", context, request),
                "checks": render_to_string(
                    "admin/papers/digest/_editor_checks.html", {"checks": checks}, request
                ),
            }
        )
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
