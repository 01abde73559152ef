"""The reader's side of comments: posting one, flagging one. Pages show comments through
``comments.services.comments_context``; every rule is applied in comments/services.py."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comments import services as svc
from comments.markup import neutralise
from comments.models import Comment

MESSAGE_TAG = svc.MESSAGE_TAG


class CommentForm(forms.Form):
    """The reader's form. Only these fields are read: anything else in the POST (status,
    pinned, ip…) is ignored."""

    target = forms.CharField(widget=forms.HiddenInput, max_length=40)
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    stamp = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    website = forms.CharField(required=False)  # the honeypot: people never see it
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    email = forms.EmailField(
        label=gettext_lazy("Email (optional, never shown)"), required=False, max_length=254
    )
    body = forms.CharField(label=gettext_lazy("Comment"), widget=forms.Textarea)
    notify = forms.BooleanField(
        label=gettext_lazy("Mail me when it is published and when someone answers"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = svc.conf("MAX_LENGTH")
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        self.fields["body"].widget.attrs["maxlength"] = limit

    def clean_name(self):
        name = " ".join(neutralise(self.cleaned_data["name"]).split())
        if not name:
            raise ValidationError(_("Give a name (any name you like)."))
        return name

    def clean(self):
        data = super().clean()
        if data.get("notify") and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Give your email to be told about your comment."))
        return data

    def clean_body(self):
        body = neutralise(self.cleaned_data["body"]).strip()
        if not body:
            raise ValidationError(_("Write a comment first."))
        return body


def _error_page(request, *, status, title, message, form=None, target=None):
    return render(
        request,
        "papers/comment_error.html",
        {
            "title": title,
            "message": message,
            "form": form,
            "target": target,
            "stamp": svc.form_stamp(request),
            "max_length": svc.conf("MAX_LENGTH"),
        },
        status=status,
    )


@csrf_exempt  # CSRF is checked below, after the size check, so a huge POST is never parsed
@require_POST
def post_comment(request):
    """Receive the comment form. The request size is bounded before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > svc.conf("MAX_REQUEST_BYTES"):
        return _error_page(
            request,
            status=413,
            title=_("Comment too long"),
            message=_("This comment is far too long. Shorten it and send it again."),
        )
    return _post_comment_checked(request)


@csrf_protect
def _post_comment_checked(request):
    form = CommentForm(request.POST)
    try:
        target = svc.resolve_target(request.POST.get("target", ""))
    except ValueError:
        return _error_page(
            request, status=400, title=_("Comment not sent"), message=_("Unknown page.")
        )
    if target is None:
        raise Http404("No published page to comment on")
    closed = svc.closed_reason(target)
    if closed:
        return _error_page(request, status=400, title=_("Comments closed"), message=closed)
    if not form.is_valid():
        return _error_page(
            request,
            status=400,
            title=_("Comment not sent"),
            message=_("Please correct the form below."),
            form=form,
            target=target,
        )
    data = form.cleaned_data
    age = svc.stamp_age(data["stamp"])
    if age is not None and age > svc.conf("FORM_MAX_AGE_SECONDS"):
        form.add_error(None, _("This form is too old. Please check your comment and send it."))
        return _error_page(
            request,
            status=400,
            title=_("Comment not sent"),
            message=_("Please send your comment again."),
            form=form,
            target=target,
        )

    ip = svc.client_ip(request)
    wait = svc.rate_limited("post-ip", ip)
    if data["email"]:
        wait = max(wait, svc.rate_limited("post-email", data["email"].lower()))
    if wait:
        response = render(
            request,
            "papers/comment_rate_limited.html",
            {
                "wait": wait,
                "target": target,
                "form": form,
                "stamp": svc.form_stamp(request),
                "max_length": svc.conf("MAX_LENGTH"),
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response

    waiting = _("Thank you. Your comment is waiting for moderation.")
    back = target.get_absolute_url()
    if data["website"] or age is None or age < svc.conf("MIN_FILL_SECONDS"):
        # A bot: it sees exactly what a person sees, and nothing is stored but a counter.
        svc.count_dropped(
            "honeypot" if data["website"] else "no-stamp" if age is None else "too-fast"
        )
        messages.success(request, waiting, extra_tags=MESSAGE_TAG)
        return HttpResponseRedirect(f"{back}#comments", status=303)

    parent = None
    if data["parent"]:
        parent = Comment.objects.filter(pk=data["parent"]).select_related("parent").first()
        if parent is None:
            return _error_page(
                request,
                status=400,
                title=_("Comment not sent"),
                message=_("The comment you replied to is not there any more."),
                form=form,
                target=target,
            )
    try:
        result = svc.comment_submit(
            target=target,
            parent=parent,
            name=data["name"],
            email=data["email"],
            notify=data["notify"],
            body=data["body"],
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except ValidationError as exc:
        return _error_page(
            request,
            status=400,
            title=_("Comment not sent"),
            message=" ".join(exc.messages),
            form=form,
            target=target,
        )
    comment = result.comment
    if not result.duplicate:
        svc.remember_mine(request, comment)
    if comment.status == Comment.Status.APPROVED:
        published = _("Thank you. Your comment is published.")
        messages.success(request, published, extra_tags=MESSAGE_TAG)
    else:
        messages.success(request, waiting, extra_tags=MESSAGE_TAG)
    return HttpResponseRedirect(f"{back}#comment-{comment.pk}", status=303)


@require_GET
def reply_form(request, pk):
    """A page with the form to answer one published comment (replies go one level deep,
    so answering a reply answers its thread)."""
    parent = get_object_or_404(
        Comment.objects.approved().select_related("digest", "entry", "parent"), pk=pk
    )
    if parent.parent_id:
        parent = parent.parent
        if parent.status != Comment.Status.APPROVED:
            raise Http404("No published comment")
    target = svc.resolve_target(svc.target_key(parent.target))
    if target is None:
        raise Http404("No published page")
    closed = svc.closed_reason(target)
    if closed:
        return _error_page(
            request, status=400, title=_("Comments closed"), message=closed, target=target
        )
    response = render(
        request,
        "papers/comment_reply.html",
        {
            "parent": parent,
            "target": target,
            "target_key": svc.target_key(target),
            "stamp": svc.form_stamp(request),
            "post_url": reverse("comments:comment-post"),
            "max_length": svc.conf("MAX_LENGTH"),
        },
    )
    patch_cache_control(response, private=True)  # the form carries a fresh stamp
    return response


@require_POST
def flag_comment(request, pk):
    """A reader reports a published comment (CSRF-checked by the middleware)."""
    comment = get_object_or_404(
        Comment.objects.approved().filter(is_staff_reply=False).select_related("digest", "entry"),
        pk=pk,
    )
    target = svc.resolve_target(svc.target_key(comment.target))
    if target is None:
        raise Http404("No published page")
    ip = svc.client_ip(request)
    wait = svc.rate_limited("flag-ip", ip, limits=svc.conf("FLAG_RATE_LIMITS"))
    if wait:
        context = {"wait": wait, "target": target}
        response = render(request, "papers/comment_rate_limited.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if svc.comment_flag(comment=comment, reader=svc.reader_key(request), ip=ip):
        text = _("Thank you. A moderator will look at this comment.")
    else:
        text = _("You have already reported this comment.")
    messages.info(request, text, extra_tags=MESSAGE_TAG)
    return HttpResponseRedirect(f"{target.get_absolute_url()}#comments", status=303)


@require_GET
def comment_link(request, token):
    """A notice's link to a comment: to its place in the thread, wherever the page is now."""
    comment = svc.comment_for_link(token)
    if comment is None:
        return _error_page(
            request,
            status=404,
            title=_("Comment not shown"),
            message=_("This comment is not shown on the site any more."),
        )
    return HttpResponseRedirect(comment.get_absolute_url())


@csrf_exempt  # one click in a mail program (RFC 8058): no form, no token, no login
@require_http_methods(["GET", "HEAD", "POST"])
def notices_stop(request, token):
    """Stop the notices about one's comments. GET shows a button (mail scanners follow
    links, so a GET changes nothing); POST, from that button or a mail program, stops."""
    email_hash = svc.email_hash_for_stop(token)
    if email_hash is None:
        return _error_page(
            request,
            status=400,
            title=_("Link not recognised"),
            message=_("This link is incomplete or was changed. Copy the whole link from the mail."),
        )
    stopped = request.method == "POST"
    if stopped:
        svc.notices_stop(email_hash=email_hash)
    response = render(request, "comments/notices_stop.html", {"stopped": stopped})
    patch_cache_control(response, private=True, no_store=True)
    return response
