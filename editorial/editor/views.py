"""The one-page editor's pages: the editor (GET; POST saves, as a plain form or as the
autosave's request, which gets JSON), and its preview (GET: the stored digest as the public
page, shown in a frame; POST: the typed content's article and checks, as JSON); adding a
paper (by arXiv id, fetched from arXiv on the worker when unknown) and removing one; and
replying to, resolving and reopening reviewers' comments. Each answers a request of the
page's script (``X-Requested-With: fetch``) with JSON, and a plain form with a redirect back
to the editor and a message. Without the script, the add, remove and comment buttons submit
the editor's form (``then``): the typed text is saved first, then the same code runs
(``_then``), so nothing typed is lost.

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
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django_tasks.exceptions import TaskResultDoesNotExist

from editorial import services, workflow
from editorial.arxiv_sync import fetch_and_store
from editorial.editor import comments as review
from editorial.editor import forms
from editorial.editor.checks import run_checks
from editorial.editor.preview import preview_context
from editorial.models import ReviewComment
from papers.arxiv_ids import parse_arxiv_id
from papers.models import Digest, Entry, Paper, SectionKind


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
    if (answer := _then(request, digest, entries, result.version)) is not None:
        return answer
    anchor = ""
    if moved := request.POST.get("move", "").partition(":")[0]:
        anchor = f"#entry-{moved}" if moved.isdigit() else ""
    return HttpResponseRedirect(request.path + anchor)


def _then(request, digest, entries, version: str):
    """Without JavaScript, the page's other buttons submit the editor's form too (``then``:
    ``add``, ``remove:<entry id>``, ``reply:<comment id>`` with ``review-body-<id>``,
    ``resolve:<id>``, ``reopen:<id>``), so the typed text is saved first: once it is, their
    answer from ``version`` (the saved one), by the code of ``add_view``, ``remove_view``'s
    confirmation and ``comment_view``; None when only saving was asked. An arXiv id left in
    the add box counts as "Add paper": Enter there submits the form by its first button."""
    post = request.POST
    then = post.get("then", "")
    if not then and post.get("arxiv", "").strip() and "move" not in post:
        then = "add"
    action, _sep, target = then.partition(":")
    if action == "add" and not target:
        return _add_paper(request, digest, post.get("arxiv", ""), base_version=version)
    if not (target.isascii() and target.isdigit()):
        return None
    if action == "remove":
        if int(target) not in {entry.pk for entry in entries}:
            messages.error(request, _("This paper is no longer in the digest. Reload the page."))
            return HttpResponseRedirect(_editor_url(digest))
        # Its confirmation page, whose POST removes it from the version just saved.
        return HttpResponseRedirect(
            reverse("admin:papers_digest_editor_remove", args=[digest.pk, int(target)])
        )
    if action in ("reply", "resolve", "reopen"):
        remark = _review_comments(digest).filter(pk=int(target)).first()
        if remark is None:
            messages.error(request, _("This comment is no longer there. Reload the page."))
            return HttpResponseRedirect(_editor_url(digest))
        body = post.get(f"review-body-{remark.pk}", "")
        return _answer_comment(request, digest, remark, action, body)
    return None


def _page(request, model_admin, digest, entries, kinds, *, data=None, errors=None, **more):
    typed = {}
    if data is not None:
        data["raw"] = typed = request.POST.dict()
    fields, rows = forms.page_rows(digest, entries, kinds, data=data, errors=errors)
    groups = review.grouped(digest, entries)
    counts = review.unresolved(groups, entries)
    review.attach(rows, groups, counts)
    all_comments = [comment for found in groups.values() for comment in found]
    for comment in all_comments:  # a reply typed on a page whose save was refused
        comment.typed_reply = typed.get(f"review-body-{comment.pk}", "")
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
        "digest_comments": groups.get(review.DIGEST, []),
        "digest_unresolved": counts.get(review.DIGEST, 0),
        "typed_arxiv": typed.get("arxiv", ""),
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


# --- adding and removing papers -----------------------------------------------------------


def _editor_url(digest, entry_id=None) -> str:
    url = reverse("admin:papers_digest_editor", args=[digest.pk])
    return f"{url}#entry-{entry_id}" if entry_id else url


def _refused(request, digest, message: str, status: int = 400):
    """A write the page asked for, refused with ``message`` (nothing was changed)."""
    if _wants_json(request):
        return JsonResponse({"message": message}, status=status)
    messages.error(request, message)
    return HttpResponseRedirect(_editor_url(digest))


def _went_live(request, elsewhere: str):
    message = _("This digest went live meanwhile: reload to edit its working copy.")
    if _wants_json(request):
        return JsonResponse({"message": message, "conflict": message}, status=409)
    return HttpResponseRedirect(elsewhere)


def _conflict(request, digest, exc: services.EditConflict):
    if _wants_json(request):
        payload = {
            "conflict": exc.messages[0],
            "latest_version": exc.latest_version,
            "who": exc.who,
            "when": exc.when,
        }
        return JsonResponse(payload, status=409)
    return _refused(request, digest, exc.messages[0], 409)


def _write(request, digest, service, *, base_version: str, **arguments):
    """Run an editor write (``service``: add or remove a paper) from ``base_version`` (the
    page's, or the one the plain form's save just produced): (its ContentSave, None), or
    (None, the answer saying why nothing was changed)."""
    try:
        saved = service(digest=digest, by=request.user, base_version=base_version, **arguments)
    except services.EditConflict as exc:
        return None, _conflict(request, digest, exc)
    except ValidationError as exc:
        return None, _refused(request, digest, " ".join(exc.messages))
    return saved, None


def _lookup_outcome(result) -> str | None:
    """What went wrong in a finished arXiv lookup (``fetch_and_store``), or None."""
    outcome = result.return_value if result.status == "SUCCESSFUL" else None
    if outcome is None:
        return _("The arXiv lookup failed. Nothing was changed.")
    return outcome.get("error") or None


def add_view(request, pk, *, model_admin):
    """``…/editor/add/`` (POST ``arxiv``, ``base_version``): the paper, found by its arXiv
    id or link, becomes the digest's last entry. An unknown paper is fetched from arXiv on
    the worker (arXiv may take 20 s): the answer is then a 202 with the address to ask
    again (``lookup_view``), and the page sends the same request once the paper exists."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    digest, elsewhere = _editable(request, pk)
    if elsewhere:
        return _went_live(request, elsewhere)
    return _add_paper(
        request,
        digest,
        request.POST.get("arxiv", ""),
        base_version=request.POST.get("base_version", ""),
    )


def _add_paper(request, digest, value: str, *, base_version: str):
    """Add the paper ``value`` (an arXiv id or link) as the digest's last entry, from
    ``base_version``: the answer of ``add_view``, and of the plain form's "Add paper" once
    the typed text is saved (``editor_view``)."""
    value = value.strip()
    if not value:
        return _refused(request, digest, _("Give an arXiv id or link, e.g. 2509.22445."))
    try:
        arxiv_id = parse_arxiv_id(value)
    except ValidationError as exc:
        return _refused(request, digest, " ".join(exc.messages))
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        result = fetch_and_store.enqueue(
            ids=[arxiv_id], overwrite=None, user_id=request.user.pk, language=get_language()
        )
        if not result.is_finished:
            message = _("Asking arXiv for %(id)s…") % {"id": arxiv_id}
            if _wants_json(request):
                url = reverse("admin:papers_digest_editor_lookup", args=[digest.pk, result.id])
                return JsonResponse({"pending": url, "message": message}, status=202)
            messages.info(
                request, message + " " + _("Press “Add paper” again in a moment to add it.")
            )
            return HttpResponseRedirect(_editor_url(digest))
        if error := _lookup_outcome(result):
            return _refused(request, digest, error)
        paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
        if paper is None:
            missing = _("arXiv has no paper %(id)s. Nothing was changed.") % {"id": arxiv_id}
            return _refused(request, digest, missing)
    saved, refusal = _write(
        request, digest, services.digest_add_paper, base_version=base_version, paper=paper
    )
    if refusal is not None:
        return refusal
    entry = Entry.objects.get(digest=digest, paper=paper)
    message = _("arXiv:%(id)s added as paper %(n)d.") % {"id": arxiv_id, "n": entry.position}
    if not _wants_json(request):
        messages.success(request, message)
        return HttpResponseRedirect(_editor_url(digest, entry.pk))
    entries = forms.load_entries(digest)
    kinds = _kinds()
    _fields, rows = forms.page_rows(digest, entries, kinds)
    groups = review.grouped(digest, entries)
    review.attach(rows, groups, review.unresolved(groups, entries))
    row = next(row for row in rows if row.entry.pk == entry.pk)
    html = render_to_string(
        "admin/papers/digest/_editor_entry.html", {"row": row, "digest": digest}, request
    )
    return JsonResponse(
        {"version": saved.version, "entry": entry.pk, "html": html, "saved": message}
    )


def lookup_view(request, pk, result_id, *, model_admin):
    """``…/editor/add/<task id>/``: whether the arXiv lookup ``add_view`` started is done
    (``{"pending": true}``, ``{"error": …}`` or ``{"ready": true}``). Only the person who
    asked may follow it."""
    digest, elsewhere = _editable(request, pk)
    if elsewhere:
        return _went_live(request, elsewhere)
    try:
        result = fetch_and_store.get_result(str(result_id))
    except TaskResultDoesNotExist:
        return JsonResponse({"error": _("This arXiv lookup is unknown. Try again.")}, status=404)
    if result.kwargs.get("user_id") != request.user.pk:
        return JsonResponse({"error": _("This arXiv lookup is unknown. Try again.")}, status=404)
    if not result.is_finished:
        response = JsonResponse({"pending": True})
    elif error := _lookup_outcome(result):
        response = JsonResponse({"error": error})
    else:
        response = JsonResponse({"ready": True})
    patch_cache_control(response, private=True, no_store=True)
    return response


def remove_view(request, pk, entry_id, *, model_admin):
    """``…/editor/remove/<entry id>/``: GET asks to confirm (the page without its script);
    POST (``base_version``) removes the paper from the digest, positions staying 1..n."""
    digest, elsewhere = _editable(request, pk)
    if elsewhere:
        return _went_live(request, elsewhere)
    if request.method == "GET":
        entry = get_object_or_404(Entry.objects.select_related("paper"), pk=entry_id, digest=digest)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": Digest._meta,
            "digest": digest,
            "entry": entry,
            "version": services.content_version(digest),
            "title": _("Remove paper %(n)d from %(digest)s?")
            % {"n": entry.position, "digest": digest},
        }
        return TemplateResponse(request, "admin/papers/digest/editor_remove.html", context)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    saved, refusal = _write(
        request,
        digest,
        services.digest_remove_entry,
        base_version=request.POST.get("base_version", ""),
        entry_id=entry_id,
    )
    if refusal is not None:
        return refusal
    message = _("Paper removed from the digest.")
    if _wants_json(request):
        return JsonResponse({"version": saved.version, "saved": message})
    messages.success(request, message)
    return HttpResponseRedirect(_editor_url(digest))


# --- reviewers' comments ------------------------------------------------------------------


def comment_view(request, pk, comment, *, model_admin):
    """``…/editor/comments/<id>/`` (POST ``action``: reply (with ``body``), resolve or
    reopen): the same permission as the digest's page (view or change it; replying and
    resolving need ``papers.change_digest``, checked by the services). JSON: the thread
    rendered again and every unresolved count of the page."""
    digest = get_object_or_404(Digest, pk=pk)
    if not model_admin.has_view_or_change_permission(request, digest):
        raise PermissionDenied
    remark = get_object_or_404(_review_comments(digest), pk=comment)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return _answer_comment(
        request, digest, remark, request.POST.get("action", ""), request.POST.get("body", "")
    )


def _review_comments(digest):
    """The reviewers' comments the digest's editor shows (kept on the live digest)."""
    live = digest.working_copy_of if digest.is_working_copy else digest
    return ReviewComment.objects.filter(digest=live)


def _answer_comment(request, digest, remark, action: str, body: str):
    """Reply to (with ``body``), resolve or reopen ``remark``: the answer of
    ``comment_view``, and of the plain form's comment buttons once the typed text is saved
    (``editor_view``). Permission is checked by the services."""
    try:
        if action == "reply":
            services.review_comment_reply(comment=remark, by=request.user, body=body)
            done = _("Reply sent.")
        elif action in ("resolve", "reopen"):
            services.review_comment_resolve(
                comment=remark, by=request.user, resolved=action == "resolve"
            )
            done = _("Comment resolved.") if action == "resolve" else _("Comment open again.")
        else:
            raise ValidationError(_("Choose what to do with the comment."))
    except PermissionDenied as exc:
        if not _wants_json(request):
            raise
        return JsonResponse({"message": str(exc)}, status=403)
    except ValidationError as exc:
        return _refused(request, digest, " ".join(exc.messages))
    root = remark.parent_id or remark.pk
    if not _wants_json(request):
        messages.success(request, done)
        return HttpResponseRedirect(f"{_editor_url(digest)}#review-{root}")
    entries = list(digest.entries.all())
    groups = review.grouped(digest, entries)
    thread = next(c for found in groups.values() for c in found if c.pk == root)
    counters = {
        key: render_to_string(
            "admin/papers/digest/_editor_comment_count.html", {"n": n}, request
        ).strip()
        for key, n in review.unresolved(groups, entries).items()
    }
    elsewhere_paper = review.group_of(thread, {e.paper_id: e for e in entries}) == review.DIGEST
    html = render_to_string(
        "admin/papers/digest/_editor_comment.html",
        {"comment": thread, "show_target": elsewhere_paper, "digest": digest},
        request,
    )
    return JsonResponse({"html": html, "counters": counters, "message": done})
